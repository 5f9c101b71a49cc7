// Issue #6 end to end: a real master and agent in this process (test/cluster/harness.ts) on a
// real clock, tasks launched through the scheduler API. With real cgroups (root, cgroup v1):
// OOM -> REASON_CONTAINER_LIMITATION_MEMORY, a 0.5-cpu CFS quota, a fork bomb stopped by
// pids.max, destroy leaving no process and no cgroup. Everywhere: fetch + extract + run, a
// failed fetch, an HTTP health check that kills its task, statistics, user switching, and the
// agent refusing to start with an isolator whose controller is missing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SystemClock } from '../../src/common/clock.js';
import { startAgent } from '../../src/agent/main.js';
import { Cgroups } from '../../src/agent/containerizer/cgroups/index.js';
import { lookupUser } from '../../src/agent/containerizer/users.js';
import type { Msg } from '../../src/scheduler/wire.js';
import { Cluster } from '../cluster/harness.js';
import { cleanupRoot, isAlive, realCgroupsMissing, RefClock, tempDir, testRoot } from '../isolation/helpers.js';

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE']);
let seq = 0;

/** Launches one task on the next offer (unused resources come back at once). */
async function launch(cluster: Cluster, task: Msg, inspect?: (offer: Msg) => void): Promise<string> {
  // The previous test's task may still hold part of the agent: wait for an offer that fits.
  const wanted = new Map<string, number>();
  for (const r of task.resources as Msg[]) if (r.type === 'SCALAR') wanted.set(r.name, (wanted.get(r.name) ?? 0) + r.scalar.value);
  const fits = (o: Msg) => [...wanted].every(([name, v]) =>
    (o.resources as Msg[]).filter((r) => r.name === name && r.type === 'SCALAR').reduce((sum, r) => sum + r.scalar.value, 0) >= v - 1e-9);
  let offer: Msg;
  for (;;) {
    const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS');
    offer = offers.offers.offers[0];
    if (fits(offer)) break;
    await cluster.scheduler.decline([offer.id], { refuse_seconds: 0 });
  }
  inspect?.(offer);
  const role = offer.allocation_info?.role ?? '*';
  const id = `${task.name ?? 'task'}-${++seq}`;
  const resources = (task.resources as Msg[]).map((r) => ({ ...r, allocation_info: { role } }));
  await cluster.scheduler.launch([offer.id], [{ name: id, task_id: { value: id }, agent_id: offer.agent_id, ...task, resources }], { refuse_seconds: 0 });
  return id;
}

/** Every update of `taskId` up to the terminal one (acknowledged), or up to `until`. */
async function updates(cluster: Cluster, taskId: string, until: (s: Msg) => boolean = (s) => TERMINAL.has(s.state)): Promise<Msg[]> {
  const out: Msg[] = [];
  for (;;) {
    const e = await cluster.awaitEvent((x) => x.type === 'UPDATE' && x.update.status.task_id.value === taskId, 60_000);
    const status = e.update.status;
    out.push(status);
    await cluster.scheduler.acknowledge(status);
    if (until(status)) return out;
  }
}

const scalar = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value } });
const describeUpdates = (list: Msg[]) => list.map((s) => `${s.state}${s.reason ? ` [${s.reason}]` : ''}${s.message ? ` ${s.message.split('\n')[0]}` : ''}`).join(', ');

async function containerOf(cluster: Cluster, taskId: string): Promise<Msg> {
  const list = await cluster.getJson(`${cluster.agents[0]!.url}/containers`);
  const c = list.find((x: Msg) => x.executor_id === taskId);
  assert.ok(c, `container of ${taskId} in /containers`);
  return c;
}

async function sandboxOf(cluster: Cluster, taskId: string): Promise<string> {
  const state = await cluster.getJson(`${cluster.agents[0]!.url}/state`);
  for (const fw of [...state.frameworks, ...state.completed_frameworks]) {
    for (const ex of [...fw.executors, ...fw.completed_executors]) if (ex.id === taskId) return ex.directory;
  }
  throw new Error(`no sandbox for ${taskId}`);
}

async function until<T>(cond: () => Promise<T | undefined | false> | T | undefined | false, what: string, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const missing = realCgroupsMissing(['cpu', 'cpuacct', 'memory', 'pids', 'freezer']);
if (missing) console.log(`# SKIP end-to-end cgroups tests (OOM, CFS, fork bomb, kill-all): ${missing}`);

describe('e2e containers: real cgroups', { skip: missing && `real cgroups unavailable: ${missing}` }, () => {
  const root = testRoot('e2e');
  const cg = new Cgroups({ root });
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.start({
      clock: new SystemClock(),
      masterFlags: ['--allocation_interval=50ms'],
      agentFlags: [
        '--launcher=linux',
        '--isolation=cgroups/cpu,cgroups/mem,cgroups/pids',
        '--cgroups_enable_cfs',
        `--cgroups_root=${root}`,
        '--cgroups_pids_max=64',
      ],
    });
  });
  after(async () => {
    await cluster?.stop();
    await cleanupRoot(cg, new RefClock());
  });

  it('a task past its memory limit is OOM-killed: TASK_FAILED, REASON_CONTAINER_LIMITATION_MEMORY', async () => {
    const id = await launch(cluster, {
      name: 'oom',
      resources: [scalar('cpus', 0.5), scalar('mem', 48)],
      command: { value: `exec "${process.execPath}" -e "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"` },
    });
    const list = await updates(cluster, id);
    const end = list[list.length - 1]!;
    assert.equal(end.state, 'TASK_FAILED', describeUpdates(list));
    assert.equal(end.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
    assert.equal(end.source, 'SOURCE_AGENT');
    // The limit covers the task and the command executor's own 32 MB, as in Mesos.
    assert.match(end.message, /^Memory limit exceeded: Requested: 80MB Maximum Used: /);
  });

  it('a busy task under a 0.5-cpu CFS quota uses about half a core and is throttled', async () => {
    // 0.4 for the task + the command executor's 0.1 = a 0.5-cpu quota for the container.
    const id = await launch(cluster, { name: 'busy', resources: [scalar('cpus', 0.4), scalar('mem', 32)], command: { value: 'while :; do :; done' } });
    await updates(cluster, id, (s) => s.state === 'TASK_RUNNING');
    const sample = async () => {
      const stats = await cluster.getJson(`${cluster.agents[0]!.url}/monitor/statistics`);
      const s = stats.find((x: Msg) => x.executor_id === id).statistics;
      return { at: Date.now(), cpu: s.cpus_user_time_secs + s.cpus_system_time_secs, stats: s };
    };
    await new Promise((r) => setTimeout(r, 300)); // let the loop get going
    const a = await sample();
    await new Promise((r) => setTimeout(r, 2000));
    const b = await sample();
    const share = (b.cpu - a.cpu) / ((b.at - a.at) / 1000);
    console.log(`# CFS 0.5 cpu: measured ${share.toFixed(3)} of a core over ${b.at - a.at} ms; throttled ${b.stats.cpus_nr_throttled}/${b.stats.cpus_nr_periods} periods`);
    assert.equal(b.stats.cpus_limit, 0.5);
    assert.ok(share <= 0.7, `quota holds it near 0.5 (got ${share})`);
    assert.ok(share >= 0.3, `it does get about half a core (got ${share}; a very busy machine can starve it)`);
    assert.ok(b.stats.cpus_nr_throttled > 0, 'CFS throttled it');
    await cluster.scheduler.kill({ value: id }, offerAgent(cluster));
    const end = (await updates(cluster, id)).pop()!;
    assert.equal(end.state, 'TASK_KILLED');
  });

  it('a fork bomb is stopped by the pids limit, and its kill leaves nothing behind', async () => {
    const id = await launch(cluster, {
      name: 'bomb',
      resources: [scalar('cpus', 0.5), scalar('mem', 128)],
      // The bomb runs in a subshell; the task's own shell then execs (no fork needed), so a
      // refused fork cannot end the task before the test has looked at its cgroup.
      command: { value: '(f() { f | f & }; f); exec sleep 3600' },
    });
    await updates(cluster, id, (s) => s.state === 'TASK_RUNNING' || TERMINAL.has(s.state));
    const containerId = (await containerOf(cluster, id)).container_id as string;
    // pids.events counts the forks the limit refused.
    const refused = () => Number(/max (\d+)/.exec(cg.read('pids', containerId, 'pids.events'))?.[1] ?? 0);
    await until(() => refused() > 0, 'the pids limit to refuse forks');
    assert.ok(Number(cg.read('pids', containerId, 'pids.current')) <= 64);
    const pids = cg.procs('freezer', containerId);
    await cluster.scheduler.kill({ value: id }, offerAgent(cluster));
    const end = (await updates(cluster, id)).pop()!;
    assert.ok(['TASK_KILLED', 'TASK_FAILED'].includes(end.state), end.state);
    await until(() => !cg.exists('freezer', containerId), 'the container to be destroyed');
    for (const pid of pids) assert.equal(isAlive(pid), false, `bomb process ${pid} is gone`);
    for (const c of ['freezer', 'cpu', 'cpuacct', 'memory', 'pids']) assert.equal(cg.exists(c, containerId), false, `${c} cgroup removed`);
  });

  it('killing a task kills its daemons (setsid) too and removes every cgroup', async () => {
    const id = await launch(cluster, {
      name: 'daemon',
      resources: [scalar('cpus', 0.1), scalar('mem', 32)],
      command: { value: 'setsid sh -c "sleep 300" & sleep 300' },
    });
    await updates(cluster, id, (s) => s.state === 'TASK_RUNNING');
    const containerId = (await containerOf(cluster, id)).container_id as string;
    const members = await until(() => {
      const p = cg.procs('freezer', containerId);
      return p.length >= 4 && p;
    }, 'the daemon to start');
    await cluster.scheduler.kill({ value: id }, offerAgent(cluster));
    const end = (await updates(cluster, id)).pop()!;
    assert.equal(end.state, 'TASK_KILLED');
    await until(() => !cg.exists('freezer', containerId), 'the container to be destroyed');
    for (const pid of members) assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
    for (const c of ['freezer', 'cpu', 'cpuacct', 'memory', 'pids']) assert.equal(cg.exists(c, containerId), false, `${c} cgroup removed`);
  });
});

let agentId: Msg | undefined;
function offerAgent(cluster: Cluster): Msg {
  agentId ??= cluster.events.find((e) => e.type === 'OFFERS')?.offers.offers[0].agent_id;
  return agentId!;
}

describe('e2e containers: fetcher, health checks, statistics, users (default isolation)', () => {
  let cluster: Cluster;
  let server: http.Server;
  let base = '';
  let healthStatus = 200;
  const files = tempDir('meseta-e2e-files-');
  before(async () => {
    fs.mkdirSync(path.join(files, 'app'));
    fs.writeFileSync(path.join(files, 'app', 'run.sh'), '#!/bin/sh\necho "fetched $(basename "$PWD")"\n', { mode: 0o755 });
    execFileSync('tar', ['-czf', path.join(files, 'app.tar.gz'), '-C', files, 'app']);
    server = http.createServer((req, res) => {
      if (req.url === '/health') return void res.writeHead(healthStatus).end();
      const file = path.join(files, path.basename(req.url ?? ''));
      if (!fs.existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200).end(fs.readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agentId = undefined;
    cluster = await Cluster.start({ clock: new SystemClock(), masterFlags: ['--allocation_interval=50ms'] });
  });
  after(async () => {
    await cluster?.stop();
    server?.close();
    fs.rmSync(files, { recursive: true, force: true });
  });

  it('a fetched tar.gz is extracted into the sandbox and run', async () => {
    const id = await launch(cluster, {
      name: 'fetch',
      resources: [scalar('cpus', 0.1), scalar('mem', 32)],
      command: { value: './app/run.sh', uris: [{ value: `${base}/app.tar.gz` }] },
    });
    const list = await updates(cluster, id);
    assert.equal(list[list.length - 1]!.state, 'TASK_FINISHED', describeUpdates(list));
    const sandbox = await sandboxOf(cluster, id);
    assert.equal(fs.readFileSync(path.join(sandbox, 'stdout'), 'utf8'), `fetched ${path.basename(sandbox)}\n`);
    assert.ok(fs.existsSync(path.join(sandbox, 'app.tar.gz')));
  });

  it('a failed fetch fails the task with REASON_CONTAINER_LAUNCH_FAILED and the fetcher\'s message', async () => {
    const id = await launch(cluster, {
      name: 'nofetch',
      resources: [scalar('cpus', 0.1), scalar('mem', 32)],
      command: { value: 'true', uris: [{ value: `${base}/missing.tar.gz` }] },
    });
    const end = (await updates(cluster, id)).pop()!;
    assert.equal(end.state, 'TASK_FAILED');
    assert.equal(end.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.equal(end.source, 'SOURCE_AGENT');
    assert.match(
      end.message,
      new RegExp(`^Failed to launch container: Failed to fetch all URIs for container '[^']+': Failed to fetch '${base}/missing.tar.gz': Error downloading resource, received HTTP return code 404$`),
    );
  });

  it('an HTTP health check turns unhealthy and kills the task (TASK_KILLED, healthy=false)', async () => {
    healthStatus = 200;
    const port = Number(new URL(base).port);
    const id = await launch(cluster, {
      name: 'health',
      resources: [scalar('cpus', 0.1), scalar('mem', 32)],
      command: { value: 'sleep 300' },
      health_check: { type: 'HTTP', http: { port, path: '/health' }, delay_seconds: 0, interval_seconds: 0.1, timeout_seconds: 2, grace_period_seconds: 0, consecutive_failures: 2 },
    });
    const healthy = await updates(cluster, id, (s) => s.healthy === true);
    assert.equal(healthy[healthy.length - 1]!.reason, 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED');
    healthStatus = 500;
    const rest = await updates(cluster, id);
    const end = rest[rest.length - 1]!;
    assert.ok(rest.some((s) => s.state === 'TASK_RUNNING' && s.healthy === false && s.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED'), describeUpdates(rest));
    assert.equal(end.state, 'TASK_KILLED', describeUpdates(rest));
    assert.equal(end.healthy, false);
  });

  it('/monitor/statistics and GET_CONTAINERS report the container\'s ResourceStatistics', async () => {
    const id = await launch(cluster, { name: 'stats', resources: [scalar('cpus', 0.25), scalar('mem', 40)], command: { value: 'sleep 300' } });
    await updates(cluster, id, (s) => s.state === 'TASK_RUNNING');
    const agentUrl = cluster.agents[0]!.url;
    const stats = await until(async () => {
      const list = await cluster.getJson(`${agentUrl}/monitor/statistics`);
      const s = list.find((x: Msg) => x.executor_id === id)?.statistics;
      return s?.processes >= 2 && s;
    }, 'statistics of the running task');
    // The container's limits: the task's resources plus the command executor's (0.1 cpus, 32 MB).
    assert.equal(stats.cpus_limit, 0.35);
    assert.equal(stats.mem_limit_bytes, 72 * 2 ** 20);
    assert.ok(stats.mem_rss_bytes > 0);
    assert.equal(typeof stats.cpus_user_time_secs, 'number');
    const res = await fetch(`${agentUrl}/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ type: 'GET_CONTAINERS' }) });
    const body = (await res.json()) as Msg;
    const c = body.get_containers.containers.find((x: Msg) => x.executor_id.value === id);
    assert.ok(c.resource_statistics.mem_rss_bytes > 0);
    assert.equal(c.resource_statistics.cpus_limit, 0.35);
    await cluster.scheduler.kill({ value: id }, offerAgent(cluster));
    assert.equal((await updates(cluster, id)).pop()!.state, 'TASK_KILLED');
  });

  const nobody = lookupUser('nobody');
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  it('runs a task as CommandInfo.user and gives it the sandbox; an unknown user fails the task', { skip: (!asRoot || !nobody) && 'needs root and a user nobody' }, async () => {
    // The work dir must be reachable by the task's user.
    const flags = (await cluster.getJson(`${cluster.agents[0]!.url}/flags`)).flags;
    fs.chmodSync(path.dirname(flags.work_dir), 0o755);
    const id = await launch(cluster, { name: 'user', resources: [scalar('cpus', 0.1), scalar('mem', 32)], command: { value: 'id -un; touch mine', user: 'nobody' } });
    const list = await updates(cluster, id);
    assert.equal(list[list.length - 1]!.state, 'TASK_FINISHED', describeUpdates(list));
    const sandbox = await sandboxOf(cluster, id);
    assert.equal(fs.readFileSync(path.join(sandbox, 'stdout'), 'utf8'), 'nobody\n');
    assert.equal(fs.statSync(sandbox).uid, nobody!.uid);
    assert.equal(fs.statSync(path.join(sandbox, 'mine')).uid, nobody!.uid);

    const bad = await launch(cluster, { name: 'nouser', resources: [scalar('cpus', 0.1), scalar('mem', 32)], command: { value: 'true', user: 'no-such-user-meseta' } });
    const end = (await updates(cluster, bad)).pop()!;
    assert.equal(end.state, 'TASK_FAILED');
    assert.equal(end.message, "Failed to launch container: Failed to get user information for 'no-such-user-meseta'");
  });
});

const gpuMissing = realCgroupsMissing(['devices', 'freezer']);
if (gpuMissing) console.log(`# SKIP end-to-end gpu/nvidia test: ${gpuMissing}`);

describe('e2e containers: gpu/nvidia with a fake nvidia-smi (this machine has no GPU)', { skip: gpuMissing && `real cgroups unavailable: ${gpuMissing}` }, () => {
  const root = testRoot('e2e-gpu');
  const cg = new Cgroups({ root });
  const smi = tempDir('meseta-e2e-nvsmi-');
  let cluster: Cluster;
  const savedPath = process.env.PATH;
  before(async () => {
    // The agent finds nvidia-smi on its PATH, as Mesos does.
    fs.writeFileSync(path.join(smi, 'nvidia-smi'), "#!/bin/sh\nprintf '0, 0\\n1, 1\\n'\n", { mode: 0o755 });
    process.env.PATH = `${smi}:${savedPath}`;
    agentId = undefined;
    try {
      cluster = await Cluster.start({
        clock: new SystemClock(),
        masterFlags: ['--allocation_interval=50ms'],
        agentFlags: ['--launcher=linux', '--isolation=cgroups/devices,gpu/nvidia', `--cgroups_root=${root}`],
        frameworkInfo: { user: 'root', name: 'gpu', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }, { type: 'GPU_RESOURCES' }] },
      });
    } finally {
      process.env.PATH = savedPath;
    }
  });
  after(async () => {
    await cluster?.stop();
    await cleanupRoot(cg, new RefClock());
    fs.rmSync(smi, { recursive: true, force: true });
  });

  it('the agent offers the discovered GPUs; a task gets whole GPUs in NVIDIA_VISIBLE_DEVICES / CUDA_VISIBLE_DEVICES', async () => {
    let offered: Msg | undefined;
    const id = await launch(cluster, {
      name: 'gpu',
      resources: [scalar('cpus', 0.1), scalar('mem', 32), scalar('gpus', 1)],
      command: { value: 'echo "$NVIDIA_VISIBLE_DEVICES $CUDA_VISIBLE_DEVICES"; grep "c 195:0 rwm" /sys/fs/cgroup/devices$(grep devices /proc/self/cgroup | cut -d: -f3)/devices.list' },
    }, (offer) => (offered = offer.resources.find((r: Msg) => r.name === 'gpus')));
    assert.equal(offered?.scalar.value, 2, 'gpus:2 from nvidia-smi');
    const list = await updates(cluster, id);
    assert.equal(list[list.length - 1]!.state, 'TASK_FINISHED', describeUpdates(list));
    const sandbox = await sandboxOf(cluster, id);
    assert.equal(fs.readFileSync(path.join(sandbox, 'stdout'), 'utf8'), '0 0\nc 195:0 rwm\n');
  });
});

describe('e2e containers: agent start', () => {
  it('refuses to start with an isolator whose cgroup controller is missing, with a clear message', async () => {
    const dir = tempDir('meseta-e2e-refuse-');
    try {
      await assert.rejects(
        startAgent(['--master=127.0.0.1:1', '--port=0', '--ip=127.0.0.1', `--work_dir=${dir}`, '--isolation=cgroups/cpu,cgroups/mem', `--cgroups_hierarchy=${dir}/no-cgroups`], { env: {}, clock: new SystemClock() }),
        /^Error: Failed to create a containerizer: Failed to create isolator 'cgroups\/cpu': cgroup controller 'cpu' is not mounted$/,
      );
      await assert.rejects(
        startAgent(['--master=127.0.0.1:1', '--port=0', '--ip=127.0.0.1', `--work_dir=${dir}`, '--isolation=posix/cpu,bogus/thing'], { env: {}, clock: new SystemClock() }),
        /Failed to create a containerizer: Unknown or unsupported isolator 'bogus\/thing'/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
