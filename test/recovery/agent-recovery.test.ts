// An agent that goes away without killing its tasks (crash()) and a new agent on the same
// work_dir: same agent id, tasks still running, updates replayed from task.updates exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { userInfo } from 'node:os';
import { startAgent } from '../../src/agent/main.js';
import { readTaskUpdates } from '../../src/agent/checkpoint/reader.js';
import { Cluster } from '../cluster/harness.js';

const FRAMEWORK = { user: userInfo().username, name: 'ckpt', roles: ['*'], checkpoint: true, capabilities: [{ type: 'MULTI_ROLE' }] };

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

test('a restarted agent recovers its checkpointed tasks and replays unacknowledged updates once', async (t) => {
  const cluster = await Cluster.start({ frameworkInfo: FRAMEWORK });
  t.after(() => cluster.stop());
  const first = cluster.agents[0]!;
  const workDir = first.agent.config.workDir;
  const gate = path.join(workDir, 'go');
  const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS');
  const offer = offers.offers.offers[0];
  const agentId = offer.agent_id.value;
  const role = offer.allocation_info?.role ?? '*';
  const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
  const task = (id: string, command: string) => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: [res('cpus', 0.1), res('mem', 32)], command: { value: command } });
  await cluster.scheduler.launch([offer.id], [
    task('long', 'sleep 600'),
    // Ends once the gate file exists: we open it while no agent is running.
    task('gated', `while [ ! -e '${gate}' ]; do sleep 0.05; done`),
    // Its RUNNING update is never acknowledged before the crash.
    task('unacked', 'sleep 600'),
  ]);
  const pids = new Map<string, number>();
  let unackedUuid = '';
  for (const id of ['long', 'gated', 'unacked']) {
    const starting = await cluster.awaitUpdate(id, 'TASK_STARTING');
    assert.equal(await cluster.scheduler.acknowledge(starting.update.status), true);
    const e = await cluster.awaitUpdate(id, 'TASK_RUNNING');
    pids.set(id, e.update.status.container_status.executor_pid);
    if (id === 'unacked') unackedUuid = e.update.status.uuid.toString('hex');
    else assert.equal(await cluster.scheduler.acknowledge(e.update.status), true);
  }
  // The acknowledgements reach the agent's checkpoint before it goes away.
  const updatesFile = (id: string) =>
    path.join(workDir, 'meta/slaves', agentId, 'frameworks', offer.framework_id.value, 'executors', id, 'runs/latest/tasks', id, 'task.updates');
  for (let i = 0; ; i++) {
    const acks = ['long', 'gated', 'unacked'].map((id) => readTaskUpdates(updatesFile(id)).acks.size);
    if (acks.join() === '2,2,1') break;
    assert.ok(i < 200, `acknowledgements never checkpointed (${acks.join()})`);
    await cluster.step();
  }

  await first.crash();
  for (const [id, pid] of pids) assert.ok(alive(pid), `task ${id} survives the agent (${pid})`);
  fs.writeFileSync(gate, '');
  for (let i = 0; alive(pids.get('gated')!); i++) {
    assert.ok(i < 200, 'gated task never ended');
    await cluster.step();
  }

  const second = await startAgent(
    ['--master=127.0.0.1:' + cluster.master.port, '--ip=127.0.0.1', `--port=${first.port}`, `--work_dir=${workDir}`, '--resources=cpus:4;mem:2048;disk:4096;ports:[31000-32000]'],
    { env: {}, clock: cluster.clock },
  );
  cluster.agents[0] = second;
  assert.equal(second.agent.agentId, agentId, 'the agent keeps its id');

  // The unacknowledged RUNNING comes again with its old uuid, the gated task's end is new.
  const again = await cluster.awaitUpdate('unacked', 'TASK_RUNNING');
  assert.equal(again.update.status.uuid.toString('hex'), unackedUuid);
  assert.equal(await cluster.scheduler.acknowledge(again.update.status), true);
  const finished = await cluster.awaitUpdate('gated', 'TASK_FINISHED');
  assert.equal(await cluster.scheduler.acknowledge(finished.update.status), true);
  assert.ok(alive(pids.get('long')!), 'the long task still runs');

  // A recovered task can still be killed.
  await cluster.scheduler.kill({ value: 'long' }, offer.agent_id);
  const killed = await cluster.awaitUpdate('long', 'TASK_KILLED');
  assert.equal(await cluster.scheduler.acknowledge(killed.update.status), true);
  for (let i = 0; alive(pids.get('long')!); i++) {
    assert.ok(i < 200, 'killed task still alive');
    await cluster.step();
  }
  // Let any stray resend show up before counting.
  for (let i = 0; i < 20; i++) await cluster.step();
  const updates = cluster.events.filter((e) => e.type === 'UPDATE');
  for (const [id] of pids) {
    const mine = updates.filter((e) => e.update.status.task_id.value === id && e.update.status.state !== 'TASK_STARTING');
    const uuids = mine.map((e) => e.update.status.uuid.toString('hex'));
    const dupes = uuids.filter((u, i) => uuids.indexOf(u) !== i);
    // Only the never-acknowledged RUNNING of 'unacked' may arrive twice.
    assert.deepEqual(dupes, id === 'unacked' ? [uuids[0]] : [], `${id}: ${mine.map((e) => e.update.status.state).join(', ')}`);
  }
  const state = await cluster.getJson(`${second.url}/state`);
  assert.equal(state.id, agentId);
});

type ClusterT = Awaited<ReturnType<typeof Cluster.start>>;

/** A checkpointing cluster with `tasks` launched on its one agent. */
async function launch(tasks: Array<[string, string]>, frameworkInfo: object = FRAMEWORK): Promise<{ cluster: ClusterT; agentId: string; frameworkId: string; workDir: string }> {
  const cluster = await Cluster.start({ frameworkInfo });
  const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS');
  const offer = offers.offers.offers[0];
  const role = offer.allocation_info?.role ?? '*';
  const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
  await cluster.scheduler.launch(
    [offer.id],
    tasks.map(([id, command]) => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: [res('cpus', 0.1), res('mem', 32)], command: { value: command } })),
  );
  return { cluster, agentId: offer.agent_id.value, frameworkId: offer.framework_id.value, workDir: cluster.agents[0]!.agent.config.workDir };
}

function restart(cluster: ClusterT, extra: string[] = []) {
  const old = cluster.agents[0]!;
  return startAgent(
    [`--master=127.0.0.1:${cluster.master.port}`, '--ip=127.0.0.1', `--port=${old.port}`, `--work_dir=${old.agent.config.workDir}`, '--resources=cpus:4;mem:2048;disk:4096;ports:[31000-32000]', ...extra],
    { env: {}, clock: cluster.clock },
  );
}

/** TASK_RUNNING (after acknowledging TASK_STARTING, the head of the task's stream). */
async function awaitRunning(cluster: ClusterT, id: string) {
  const starting = await cluster.awaitUpdate(id, 'TASK_STARTING');
  assert.equal(await cluster.scheduler.acknowledge(starting.update.status), true);
  return cluster.awaitUpdate(id, 'TASK_RUNNING');
}

async function until(cluster: ClusterT, pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; !pred(); i++) {
    assert.ok(i < 300, `timed out waiting for ${what}`);
    await cluster.step();
  }
}

test('an unacknowledged terminal update of a finished executor is resent after a restart, and not again once acknowledged', async (t) => {
  const { cluster, agentId, frameworkId, workDir } = await launch([['quick', 'true']]);
  t.after(() => cluster.stop());
  const starting = await cluster.awaitUpdate('quick', 'TASK_STARTING');
  await cluster.scheduler.acknowledge(starting.update.status);
  const running = await cluster.awaitUpdate('quick', 'TASK_RUNNING');
  await cluster.scheduler.acknowledge(running.update.status);
  const finished = await cluster.awaitUpdate('quick', 'TASK_FINISHED');
  const run = path.join(workDir, 'meta/slaves', agentId, 'frameworks', frameworkId, 'executors/quick/runs/latest');
  await until(cluster, () => fs.existsSync(path.join(run, 'executor.sentinel')), 'the executor to complete');
  await cluster.agents[0]!.crash();

  cluster.agents[0] = await restart(cluster);
  const again = await cluster.awaitUpdate('quick', 'TASK_FINISHED');
  assert.deepEqual(again.update.status.uuid, finished.update.status.uuid, 'the same update, replayed from task.updates');
  assert.equal(await cluster.scheduler.acknowledge(again.update.status), true);
  await until(cluster, () => readTaskUpdates(path.join(run, 'tasks/quick/task.updates')).acks.size === 3, 'the acknowledgement to be checkpointed');
  await cluster.agents[0]!.crash();

  cluster.agents[0] = await restart(cluster);
  await cluster.awaitAgents(1);
  for (let i = 0; i < 30; i++) await cluster.step(1000);
  const finals = cluster.events.filter((e) => e.type === 'UPDATE' && e.update.status.state === 'TASK_FINISHED');
  assert.equal(finals.length, 2, 'not resent once acknowledged');
});

test('--recover=cleanup kills what it recovered and removes meta/; --strict refuses changed resources', async (t) => {
  const { cluster, workDir } = await launch([['victim', 'sleep 600']]);
  t.after(() => cluster.stop());
  const running = await awaitRunning(cluster, 'victim');
  const pid = running.update.status.container_status.executor_pid as number;
  await cluster.agents[0]!.crash();
  assert.ok(alive(pid));

  const old = cluster.agents[0]!;
  await assert.rejects(
    startAgent([`--master=127.0.0.1:${cluster.master.port}`, '--ip=127.0.0.1', `--port=${old.port}`, `--work_dir=${workDir}`, '--resources=cpus:8;mem:2048;disk:4096;ports:[31000-32000]'], { env: {}, clock: cluster.clock }),
    /Incompatible agent info detected .*resources changed/,
  );
  assert.ok(alive(pid), 'a refused start touches nothing');

  const cleanup = await restart(cluster, ['--recover=cleanup']);
  await cleanup.stopped;
  assert.equal(alive(pid), false, 'the recovered task was killed');
  assert.equal(fs.existsSync(path.join(workDir, 'meta')), false);
});

test('after a host reboot (new boot id) the agent keeps its id and reports its tasks lost', async (t) => {
  const { cluster, agentId, workDir } = await launch([['rebooted', 'sleep 600']]);
  t.after(() => cluster.stop());
  const running = await awaitRunning(cluster, 'rebooted');
  assert.equal(await cluster.scheduler.acknowledge(running.update.status), true);
  const pid = running.update.status.container_status.executor_pid as number;
  // The acknowledgement reaches the agent (and its checkpoint) before the "reboot".
  await until(cluster, () => cluster.agents[0]!.agent.statusUpdates.pendingCount() === 0, 'TASK_RUNNING to be acknowledged');
  await cluster.agents[0]!.crash();
  // What a reboot does: every process is gone and the kernel has a new boot id.
  process.kill(-pid, 'SIGKILL');
  await until(cluster, () => !alive(pid), 'the task to die');
  fs.writeFileSync(path.join(workDir, 'meta/boot_id'), 'a-different-boot');

  cluster.agents[0] = await restart(cluster);
  assert.equal(cluster.agents[0].agent.agentId, agentId);
  const lost = await cluster.awaitUpdate('rebooted', 'TASK_LOST');
  assert.equal(lost.update.status.reason, 'REASON_EXECUTOR_TERMINATED');
  assert.equal(lost.update.status.source, 'SOURCE_AGENT');
});

test('tasks of a framework that does not checkpoint do not survive an agent restart', async (t) => {
  const { cluster, agentId, workDir } = await launch([['plain', 'sleep 600']], { ...FRAMEWORK, checkpoint: false });
  t.after(() => cluster.stop());
  const running = await awaitRunning(cluster, 'plain');
  const pid = running.update.status.container_status.executor_pid as number;
  assert.equal(fs.existsSync(path.join(workDir, 'meta/slaves', agentId, 'frameworks')), false, 'nothing checkpointed');
  await cluster.agents[0]!.crash();
  assert.ok(alive(pid));
  cluster.agents[0] = await restart(cluster);
  assert.equal(cluster.agents[0].agent.agentId, agentId);
  await until(cluster, () => !alive(pid), 'the orphaned task to be killed');
  assert.deepEqual(fs.readdirSync(path.join(workDir, 'runtime/containers')), []);
});

test('a kill in progress when the agent died is finished by the restarted agent (SIGKILL after the grace period)', async (t) => {
  const fwInfo = { ...FRAMEWORK, capabilities: [{ type: 'MULTI_ROLE' }, { type: 'TASK_KILLING_STATE' }] };
  // `ready` in the sandbox once the trap is set: a SIGTERM before that would end the task at once.
  const { cluster, agentId } = await launch([['stubborn', "trap '' TERM; touch ready; while true; do sleep 0.1; done"]], fwInfo);
  t.after(() => cluster.stop());
  const running = await awaitRunning(cluster, 'stubborn');
  assert.equal(await cluster.scheduler.acknowledge(running.update.status), true);
  const sandbox = () => {
    const fw = [...cluster.agents[0]!.agent.frameworks][0];
    return fw?.executors.get('stubborn')?.directory as string | undefined;
  };
  await until(cluster, () => fs.existsSync(path.join(sandbox() ?? '/nonexistent', 'ready')), 'the task to ignore SIGTERM');
  const pid = running.update.status.container_status.executor_pid as number;
  // A grace long enough that the protocol time moved while awaiting TASK_KILLING cannot reach it.
  await cluster.scheduler.kill({ value: 'stubborn' }, { value: agentId }, { grace_period: { nanoseconds: 20e9 } });
  const killing = await cluster.awaitUpdate('stubborn', 'TASK_KILLING');
  assert.equal(await cluster.scheduler.acknowledge(killing.update.status), true);
  // Real time only: protocol time must not reach the grace period before the crash.
  for (let i = 0; cluster.agents[0]!.agent.statusUpdates.pendingCount() > 0; i++) {
    assert.ok(i < 200, 'TASK_KILLING never acknowledged');
    await new Promise((r) => setTimeout(r, 20));
  }
  // The agent dies before its SIGKILL: the task ignored SIGTERM and still runs.
  await cluster.agents[0]!.crash();
  assert.ok(alive(pid));

  cluster.agents[0] = await restart(cluster);
  const killed = await cluster.awaitUpdate('stubborn', 'TASK_KILLED', { timeoutMs: 30_000, stepMs: 500 });
  assert.match(killed.update.status.message, /signal Killed/);
  assert.equal(alive(pid), false);
  const killings = cluster.events.filter((e) => e.type === 'UPDATE' && e.update.status.state === 'TASK_KILLING');
  assert.equal(killings.length, 1, 'TASK_KILLING is not announced twice');
});

test('health checks of a recovered command task run again: an unhealthy task is killed after the restart', async (t) => {
  const cluster = await Cluster.start({ frameworkInfo: FRAMEWORK });
  t.after(() => cluster.stop());
  const workDir = cluster.agents[0]!.agent.config.workDir;
  const sick = path.join(workDir, 'sick');
  const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS');
  const offer = offers.offers.offers[0];
  const role = offer.allocation_info?.role ?? '*';
  const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
  await cluster.scheduler.launch([offer.id], [
    {
      name: 'checked',
      task_id: { value: 'checked' },
      agent_id: offer.agent_id,
      resources: [res('cpus', 0.1), res('mem', 32)],
      command: { value: 'sleep 600' },
      health_check: { type: 'COMMAND', command: { value: `test ! -e '${sick}'` }, delay_seconds: 0, interval_seconds: 1, grace_period_seconds: 0, consecutive_failures: 1 },
    },
  ]);
  const running = await awaitRunning(cluster, 'checked');
  assert.equal(await cluster.scheduler.acknowledge(running.update.status), true);
  const pid = running.update.status.container_status.executor_pid as number;
  const healthy = await cluster.awaitEvent((e) => e.type === 'UPDATE' && e.update.status.healthy === true);
  assert.equal(await cluster.scheduler.acknowledge(healthy.update.status), true);
  for (let i = 0; cluster.agents[0]!.agent.statusUpdates.pendingCount() > 0; i++) {
    assert.ok(i < 200, 'health update never acknowledged');
    await new Promise((r) => setTimeout(r, 20));
  }
  await cluster.agents[0]!.crash();
  fs.writeFileSync(sick, '');

  cluster.agents[0] = await restart(cluster);
  const after: string[] = [];
  let killed: any;
  while (!killed) {
    const e = await cluster.awaitEvent((x) => x.type === 'UPDATE' && x.update.status.task_id.value === 'checked');
    const st = e.update.status;
    after.push(`${st.state}:${st.healthy}`);
    assert.equal(await cluster.scheduler.acknowledge(st), true);
    if (st.state === 'TASK_KILLED') killed = e;
  }
  assert.deepEqual(after, ['TASK_RUNNING:false', 'TASK_KILLED:false'], 'unhealthy, then killed for it');
  await until(cluster, () => !alive(pid), 'the unhealthy task to die');
});
