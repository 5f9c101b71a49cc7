// `npm run bench -- failover [--agents N] [--tasks T] [--frameworks F] [--session_timeout S] [--backoff MS]`
//
// Master failover with ZooKeeper (FT-01..FT-03): a real ZooKeeper server, two bin/mesos-master
// processes (--zk, registry in ZooKeeper), F schedulers (SchedulerClient with a zk:// master) and
// N emulated agents in this process (bench/support/emulated-agents.ts; they follow the leader
// through one detector and report T running tasks each when they re-register). The leading master
// is killed with SIGKILL; from that moment the run measures
//   detected_ms         the agents' detector sees the standby as the leader (its znode is the lowest)
//   elected_ms          the standby reports itself elected (/metrics/snapshot master/elected = 1,
//                       i.e. the registry is recovered; polled, so late when the master is busy)
//   agents_ms           every agent has received SlaveReregisteredMessage from the new leader
//   frameworks_ms       every scheduler has received SUBSCRIBED from the new leader
// The old leader's session must expire first, so elected_ms is about the session timeout.
// Without --agents it runs 1,000 and then 10,000 agents. One JSON line per run on stdout.
import { userInfo } from 'node:os';
import { SchedulerClient } from '../src/scheduler/client.js';
import { createDetector } from '../src/master/election/index.js';
import type { Msg } from '../src/scheduler/wire.js';
import { leaderPid } from '../src/agent/detection/index.js';
import { startZooKeeper, zookeeperMissing } from '../test/support/zookeeper-server.js';
import { type Proc, Procs, httpGet } from '../test/e2e/procs.js';
import { AgentEmulator } from './support/emulated-agents.js';
import { positiveIntArg } from './support/args.js';

const USAGE = 'usage: failover [--agents N] [--tasks T] [--frameworks F] [--session_timeout SECS] [--backoff MS]';

const arg = (name: string): number | undefined => positiveIntArg(name, USAGE);

const progress = (m: string) => process.stderr.write(`[failover bench] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string, stepMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

async function elected(url: string): Promise<boolean> {
  const r = await httpGet(`${url}/metrics/snapshot`).catch(() => undefined);
  return r?.status === 200 && r.json()['master/elected'] === 1;
}

interface RunOptions {
  agents: number;
  tasks: number;
  frameworks: number;
  sessionTimeoutSecs: number;
  backoffMs: number;
}

async function run(o: RunOptions): Promise<Record<string, unknown>> {
  const procs = new Procs();
  const zk = await startZooKeeper();
  const zkUrl = `zk://${zk.connectString}/mesos`;
  const clients: SchedulerClient[] = [];
  let emulator: AgentEmulator | undefined;
  const detector = createDetector(zkUrl, { sessionTimeoutMs: 10_000 });
  try {
    const masters: Array<{ proc: Proc; url: string }> = [];
    for (let i = 0; i < 2; i++) {
      const proc = procs.spawn('mesos-master', [
        '--ip=127.0.0.1', '--port=0', '--hostname=127.0.0.1', `--zk=${zkUrl}`, '--quorum=1',
        `--zk_session_timeout=${o.sessionTimeoutSecs}secs`, `--work_dir=${procs.tempDir(`fo-master${i}`)}`,
        '--logging_level=WARNING',
      ]);
      masters.push({ proc, url: (await proc.waitForLine(/Master started at (http:\/\/\S+)/, 30_000))[1]! });
      // The first one leads (lowest sequence).
      if (i === 0) await until(() => elected(masters[0]!.url), 30_000, 'the first master to lead', 100);
    }

    // Frameworks first, so their ids are known to the agents' task reports.
    for (let i = 0; i < o.frameworks; i++) {
      const client = new SchedulerClient({
        master: zkUrl,
        contentType: 'protobuf',
        backoffInitialMs: 1000,
        suppressedRoles: ['*'],
        frameworkInfo: { user: userInfo().username, name: `failover-bench-${i}`, roles: ['*'], failover_timeout: 3600, capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }] },
      });
      await client.subscribe();
      // The events themselves do not matter; drain them.
      void (async () => {
        for await (const _ of client) void _;
      })();
      clients.push(client);
    }
    const frameworks: Msg[] = clients.map((c, i) => ({
      id: c.frameworkId, user: userInfo().username, name: `failover-bench-${i}`, roles: ['*'], failover_timeout: 3600,
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
    }));

    emulator = await AgentEmulator.start({ count: o.agents, tasksPerAgent: o.tasks, frameworks, backoffMs: o.backoffMs });
    const em = emulator;
    let detectedAt: number | undefined;
    detector.onChange((leader) => {
      if (leader && killedAt !== undefined && detectedAt === undefined) detectedAt = performance.now();
      em.newMasterDetected(leader ? leaderPid(leader) : undefined);
    });
    let killedAt: number | undefined;
    const first = await detector.detect();
    em.newMasterDetected(first ? leaderPid(first) : undefined);
    const t0 = performance.now();
    await em.until(() => em.registered === o.agents);
    const registerMs = performance.now() - t0;
    progress(`${o.agents} agents registered in ${Math.round(registerMs)} ms`);
    // Let the registry writes of the admissions settle before the leader dies.
    await sleep(2000);

    const subscribedAfter: Array<number | undefined> = clients.map(() => undefined);
    clients.forEach((c, i) => c.once('subscribed', () => (subscribedAfter[i] = performance.now())));
    em.resetCounts();
    const leader = masters[0]!;
    const standby = masters[1]!;
    killedAt = performance.now();
    leader.proc.child.kill('SIGKILL');
    await leader.proc.exited;

    const limit = (o.sessionTimeoutSecs + 60) * 1000;
    await until(() => elected(standby.url), limit, 'the standby to be elected', 20);
    const electedMs = performance.now() - killedAt;
    progress(`new leader elected after ${Math.round(electedMs)} ms`);
    await Promise.race([em.until(() => em.reregistered === o.agents), sleep(limit).then(() => Promise.reject(new Error('agents did not re-register')))]);
    const agentsMs = performance.now() - killedAt;
    progress(`${o.agents} agents re-registered after ${Math.round(agentsMs)} ms`);
    await until(() => subscribedAfter.every((t) => t !== undefined), limit, 'the frameworks to re-subscribe');
    const frameworksMs = Math.max(...subscribedAfter.map((t) => t!)) - killedAt;

    const state = (await httpGet(`${standby.url}/master/state-summary`)).json();
    const tasksKnown = (state.frameworks ?? []).reduce((n: number, f: Msg) => n + (f.TASK_RUNNING ?? 0), 0);
    return {
      bench: 'failover',
      agents: o.agents,
      tasks_per_agent: o.tasks,
      frameworks: o.frameworks,
      zk_session_timeout_secs: o.sessionTimeoutSecs,
      registration_backoff_ms: o.backoffMs,
      initial_registration_ms: Math.round(registerMs),
      detected_ms: detectedAt !== undefined ? Math.round(detectedAt - killedAt) : null,
      elected_ms: Math.round(electedMs),
      agents_ms: Math.round(agentsMs),
      agents_after_election_ms: Math.round(agentsMs - electedMs),
      reregister_messages: em.reregistrationsSent,
      frameworks_ms: Math.round(frameworksMs),
      target_ms: (o.sessionTimeoutSecs + 2) * 1000,
      within_target: agentsMs <= (o.sessionTimeoutSecs + 2) * 1000,
      running_tasks_on_new_leader: tasksKnown,
    };
  } finally {
    for (const c of clients) c.close();
    detector.close();
    await emulator?.close();
    await procs.cleanup();
    await zk.stop();
  }
}

async function main(): Promise<void> {
  const missing = zookeeperMissing();
  if (missing) {
    process.stderr.write(`${missing}\n`);
    process.exit(2);
  }
  const agents = arg('agents');
  const common = {
    tasks: arg('tasks') ?? 10,
    frameworks: arg('frameworks') ?? 10,
    sessionTimeoutSecs: arg('session_timeout') ?? 10,
    backoffMs: arg('backoff') ?? 1000,
  };
  for (const n of agents ? [agents] : [1000, 10_000]) {
    progress(`run: ${n} agents, ${common.tasks} tasks each, ${common.frameworks} frameworks`);
    process.stdout.write(`${JSON.stringify(await run({ agents: n, ...common }))}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
