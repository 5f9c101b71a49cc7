// `npm run bench -- launch [--single=50] [--tasks=500] [--per_offer=25] [--sleepers=500]`
//
// One master and one agent, each a real process started through bin/mesos-master and
// bin/mesos-agent on loopback ephemeral ports; the scheduler runs in this process. Scenarios:
//   launch.latency_single  ACCEPT sent -> TASK_RUNNING received, one `true` task at a time (unloaded)
//   launch.latency     ACCEPT sent -> TASK_RUNNING received, per task, for many `true` tasks (p50/p99)
//   launch.throughput  the same run: tasks finished per second, first ACCEPT to last TASK_FINISHED,
//                      and the agent's and master's CPU time (utime+stime) per task over that run
//   launch.memory      agent RSS (and its supervisors' RSS, PSS and private memory, and the tasks'
//                      RSS) with N `sleep 60` tasks running
// Prints one JSON line per scenario on stdout; progress goes to stderr.
import { readFileSync } from 'node:fs';
import { descendantPids, parentPid } from '../src/cli/proc.js';
import { TestFramework } from '../test/e2e/driver.js';
import { Procs, eventually, httpGet } from '../test/e2e/procs.js';
import { numberArg as arg } from './support/args.js';

const TASKS = arg('tasks', 500);
const PER_OFFER = arg('per_offer', 25);
const SLEEPERS = arg('sleepers', 500);
const SINGLE = arg('single', 50);
const ALLOCATION_INTERVAL = '100ms';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** p50/p99/mean/max of sorted samples, in ms. */
function summary(sorted: number[]): Record<string, number> {
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return {
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    mean_ms: round(mean),
    max_ms: round(sorted[sorted.length - 1] ?? NaN),
    samples: sorted.length,
  };
}

/** Resident set size in bytes from /proc/<pid>/status, 0 if the process is gone. */
function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime+stime of a process in ms (USER_HZ 100). */
function cpuMs(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Pss and private (clean+dirty) memory in kB from /proc/<pid>/smaps_rollup. */
function pssKb(pid: number): { pss: number; priv: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { pss: field('Pss'), priv: field('Private_Clean') + field('Private_Dirty') };
  } catch {
    return { pss: 0, priv: 0 };
  }
}

const log = (msg: string) => process.stderr.write(`[bench launch] ${msg}\n`);
const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function main(): Promise<void> {
  const procs = new Procs();
  const onSignal = () => {
    void procs.cleanup(1000).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const master = procs.spawn('mesos-master', [
      '--ip=127.0.0.1',
      '--port=0',
      '--registry=in_memory',
      `--work_dir=${procs.tempDir('bench-master')}`,
      `--allocation_interval=${ALLOCATION_INTERVAL}`,
    ]);
    const masterUrl = (await master.waitForLine(/Master started at (http:\/\/\S+)/))[1]!;
    const agent = procs.spawn('mesos-agent', [
      `--master=${masterUrl.slice('http://'.length)}`,
      '--ip=127.0.0.1',
      '--port=0',
      `--work_dir=${procs.tempDir('bench-agent')}`,
      '--resources=cpus:128;mem:262144;disk:1024',
      '--registration_backoff_factor=10ms',
    ]);
    await agent.waitForLine(/Agent started at (http:\/\/\S+)/);
    await eventually(async () => (await httpGet(`${masterUrl}/master/state`)).json().slaves?.length === 1, 30_000, 'the agent to register');
    const address = masterUrl.slice('http://'.length);
    const common = { agents: 1, processes: 'master+agent as bin/ processes, scheduler in-process', allocation_interval: ALLOCATION_INTERVAL };

    // ---- unloaded latency: one `true` task at a time ----
    {
      const fw = await new TestFramework(address, 'bench-launch-single').start();
      fw.maxPerOffer = 1;
      log(`launching ${SINGLE} 'true' tasks one at a time`);
      const latencies: number[] = [];
      for (let i = 0; i < SINGLE; i++) {
        const id = `single-${i}`;
        fw.submit([{ id, command: 'true', cpus: 0.01, mem: 8 }]);
        await fw.awaitTerminal([id], 30_000);
        const running = fw.stateAt.get(id)?.get('TASK_RUNNING');
        if (running !== undefined) latencies.push(running - fw.launchedAt.get(id)!);
      }
      latencies.sort((a, b) => a - b);
      emit({
        bench: 'launch.latency_single',
        params: { ...common, tasks: SINGLE, per_offer: 1, concurrent: 1, command: 'true' },
        ...summary(latencies),
      });
      await fw.stop();
    }

    // ---- loaded latency and throughput: many `true` tasks, several per offer ----
    {
      const fw = await new TestFramework(address, 'bench-launch').start();
      fw.maxPerOffer = PER_OFFER;
      const ids = Array.from({ length: TASKS }, (_, i) => `true-${i}`);
      log(`launching ${TASKS} 'true' tasks, at most ${PER_OFFER} per offer`);
      const agentCpu0 = cpuMs(agent.pid);
      const masterCpu0 = cpuMs(master.pid);
      fw.submit(ids.map((id) => ({ id, command: 'true', cpus: 0.01, mem: 8 })));
      await fw.awaitTerminal(ids, 180_000);
      const agentCpu = cpuMs(agent.pid) - agentCpu0;
      const masterCpu = cpuMs(master.pid) - masterCpu0;
      const latencies: number[] = [];
      let first = Infinity;
      let last = 0;
      let finished = 0;
      for (const id of ids) {
        const launched = fw.launchedAt.get(id)!;
        const at = fw.stateAt.get(id);
        const running = at?.get('TASK_RUNNING');
        if (running !== undefined) latencies.push(running - launched);
        first = Math.min(first, launched);
        const done = at?.get('TASK_FINISHED');
        if (done !== undefined) {
          finished++;
          last = Math.max(last, done);
        }
      }
      latencies.sort((a, b) => a - b);
      const accepted = ids.map((id) => fw.launchedAt.get(id)!);
      emit({
        bench: 'launch.latency',
        params: { ...common, tasks: TASKS, per_offer: PER_OFFER, command: 'true' },
        ...summary(latencies),
        // First to last ACCEPT: how long the scheduler took to hand all tasks to the master.
        accept_span_ms: round(Math.max(...accepted) - Math.min(...accepted)),
      });
      const elapsed = last - first;
      emit({
        bench: 'launch.throughput',
        params: { ...common, tasks: TASKS, per_offer: PER_OFFER, command: 'true' },
        tasks_per_sec: round((finished / elapsed) * 1000),
        finished,
        failed: ids.filter((id) => fw.finalState(id) !== 'TASK_FINISHED').length,
        elapsed_ms: round(elapsed),
        agent_cpu_ms_per_task: round(agentCpu / TASKS),
        master_cpu_ms_per_task: round(masterCpu / TASKS),
      });
      await fw.stop();
    }

    // ---- memory with N sleeping tasks ----
    {
      const baseline = rssBytes(agent.pid);
      const fw = await new TestFramework(address, 'bench-sleepers').start();
      fw.maxPerOffer = 100;
      const ids = Array.from({ length: SLEEPERS }, (_, i) => `sleep-${i}`);
      log(`launching ${SLEEPERS} 'sleep 60' tasks`);
      fw.submit(ids.map((id) => ({ id, command: 'sleep 60', cpus: 0.01, mem: 8 })));
      await fw.until(() => ids.every((id) => fw.states.get(id)?.includes('TASK_RUNNING') || fw.finalState(id)), 120_000, 'all sleepers running');
      const running = ids.filter((id) => !fw.finalState(id)).length;
      // Node's agent process, then the per-task supervisors (its direct children) and the tasks below them.
      const agentPid = agent.pid;
      const below = descendantPids(agentPid);
      let supervisors = 0;
      let supervisorsPss = 0;
      let supervisorsPrivate = 0;
      let supervisorCount = 0;
      let tasks = 0;
      for (const pid of below) {
        const rss = rssBytes(pid);
        if (parentPid(pid) === agentPid) {
          supervisors += rss;
          const m = pssKb(pid);
          supervisorsPss += m.pss * 1024;
          supervisorsPrivate += m.priv * 1024;
          supervisorCount++;
        } else tasks += rss;
      }
      const agentRss = rssBytes(agentPid);
      const mb = (b: number) => round(b / 1024 / 1024, 1);
      emit({
        bench: 'launch.memory',
        params: { ...common, sleeping_tasks: SLEEPERS, command: 'sleep 60' },
        running,
        agent_rss_mb: mb(agentRss),
        agent_rss_idle_mb: mb(baseline),
        supervisors: supervisorCount,
        supervisors_rss_mb: mb(supervisors),
        supervisors_pss_mb: mb(supervisorsPss),
        supervisors_private_mb: mb(supervisorsPrivate),
        tasks_rss_mb: mb(tasks),
        agent_plus_supervisors_rss_mb: mb(agentRss + supervisors),
        // Agent RSS growth plus each supervisor's PSS (its fair share of dash's pages).
        per_task_overhead_kb: round((agentRss - baseline + supervisorsPss) / 1024 / Math.max(1, running), 1),
        per_task_overhead_rss_kb: round((agentRss - baseline + supervisors) / 1024 / Math.max(1, running), 1),
      });
      log('tearing the sleepers down');
      await fw.stop();
      await eventually(() => descendantPids(agentPid).length === 0, 60_000, 'the sleepers to be killed').catch((e: Error) => log(e.message));
    }
  } finally {
    await procs.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench launch failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
