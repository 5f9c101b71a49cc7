// Task groups end to end (OPS-02, CMP-10): a scheduler sending LAUNCH_GROUP with a DEFAULT
// executor, and the real default executor process (bin/mesos-default-executor) running each task
// in a nested container. The first test runs master and agent in this process (system clock);
// the second runs the real bin/mesos-master and bin/mesos-agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { SystemClock } from '../../src/common/clock.js';
import { SchedulerClient } from '../../src/scheduler/client.js';
import { Cluster } from '../cluster/harness.js';
import { Procs } from './procs.js';

type Msg = Record<string, any>;

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED']);

/** Waits for the next update of `taskId`, acknowledges it and returns its status. */
async function nextUpdate(cluster: Cluster, taskId: string): Promise<Msg> {
  const e = await cluster.awaitEvent((x) => x.type === 'UPDATE' && x.update.status.task_id.value === taskId, 20_000);
  await cluster.scheduler.acknowledge(e.update.status);
  return e.update.status;
}

/** Acknowledges updates of `taskId` until one in `state` (or any terminal one) arrives. */
async function untilState(cluster: Cluster, taskId: string, state: string): Promise<Msg> {
  for (;;) {
    const s = await nextUpdate(cluster, taskId);
    if (s.state === state || TERMINAL.has(s.state)) return s;
  }
}

async function launchGroup(cluster: Cluster, executorId: string, tasks: Array<{ id: string; command: string; container?: Msg }>): Promise<Msg> {
  const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS' && e.offers.offers.some((o: Msg) => cpusOf(o) >= 1), 20_000);
  const offer = offers.offers.offers.find((o: Msg) => cpusOf(o) >= 1);
  const role = offer.allocation_info?.role ?? '*';
  const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
  const executor = {
    type: 'DEFAULT',
    executor_id: { value: executorId },
    framework_id: offer.framework_id,
    resources: [res('cpus', 0.1), res('mem', 32)],
  };
  const taskInfos = tasks.map((t) => ({
    name: t.id,
    task_id: { value: t.id },
    agent_id: offer.agent_id,
    resources: [res('cpus', 0.1), res('mem', 32)],
    command: { value: t.command },
    ...(t.container ? { container: t.container } : {}),
  }));
  const r = await cluster.scheduler.accept([offer.id], [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks: taskInfos } } }]);
  assert.ok(r.status === 202 || r.status === 200, `ACCEPT answered ${r.status}`);
  return offer;
}

function cpusOf(offer: Msg): number {
  return (offer.resources as Msg[]).filter((r) => r.name === 'cpus').reduce((a, r) => a + r.scalar.value, 0);
}

test('task groups with the default executor: run and kill as a group, a failing task kills its group, all finish', async (t) => {
  const cluster = await Cluster.start({ agents: 1, clock: new SystemClock(), agentFlags: ['--no-switch_user'] });
  t.after(() => cluster.stop());
  await cluster.awaitEvent((e) => e.type === 'SUBSCRIBED');
  const agent = cluster.agents[0]!;

  // 1. Three sleeping tasks all reach TASK_RUNNING, each in a nested container; killing one
  //    kills all three.
  const sleepers = ['a1', 'a2', 'a3'];
  await launchGroup(cluster, 'group-a', sleepers.map((id) => ({ id, command: 'exec sleep 1000' })));
  for (const id of sleepers) assert.equal((await untilState(cluster, id, 'TASK_RUNNING')).state, 'TASK_RUNNING', id);
  const state = await cluster.getJson(`${agent.url}/state`);
  const ex = state.frameworks[0].executors.find((e: Msg) => e.id === 'group-a');
  assert.ok(ex, 'the default executor is listed in /state');
  assert.equal(ex.tasks.length, 3);
  await cluster.scheduler.kill('a2', agent.agent.agentId);
  for (const id of sleepers) {
    const s = await untilState(cluster, id, 'TASK_KILLED');
    assert.equal(s.state, 'TASK_KILLED', `${id}: ${s.message}`);
  }

  // 2. One task exits 1: it fails, the other two are killed.
  await launchGroup(cluster, 'group-b', [
    { id: 'b1', command: 'sleep 0.3; exit 1' },
    { id: 'b2', command: 'exec sleep 1000' },
    { id: 'b3', command: 'exec sleep 1000' },
  ]);
  const b1 = await untilState(cluster, 'b1', 'TASK_FAILED');
  assert.equal(b1.state, 'TASK_FAILED');
  assert.match(b1.message, /exited with status 1/);
  for (const id of ['b2', 'b3']) assert.equal((await untilState(cluster, id, 'TASK_KILLED')).state, 'TASK_KILLED', id);

  // 3. Three tasks exit 0: TASK_FINISHED each, and each nested sandbox holds its task's stdout.
  //    A SANDBOX_PATH volume of type PARENT shares a directory of the executor's sandbox.
  const finishers = ['c1', 'c2', 'c3'];
  const shared = { type: 'MESOS', volumes: [{ container_path: 'data', mode: 'RW', source: { type: 'SANDBOX_PATH', sandbox_path: { type: 'PARENT', path: 'shared' } } }] };
  await launchGroup(cluster, 'group-c', finishers.map((id) => ({ id, command: `echo "out of ${id}"; echo "$MESOS_SANDBOX" > sandbox.txt; echo ${id} > data/${id}`, container: shared })));
  const runs = join(agent.agent.config.workDir, 'slaves', agent.agent.agentId!, 'frameworks', state.frameworks[0].id, 'executors', 'group-c', 'runs', 'latest');
  for (const id of finishers) {
    const s = await untilState(cluster, id, 'TASK_FINISHED');
    assert.equal(s.state, 'TASK_FINISHED', `${id}: ${s.message}`);
    const nested = s.container_status?.container_id;
    assert.ok(nested?.parent?.value, 'the update names the nested container and its parent');
    const sandbox = join(runs, 'containers', nested.value);
    assert.equal(readFileSync(join(sandbox, 'stdout'), 'utf8').trim(), `out of ${id}`);
    assert.match(readFileSync(join(sandbox, 'sandbox.txt'), 'utf8').trim(), new RegExp(`/containers/${nested.value}$`));
  }
  assert.deepEqual(readdirSync(join(runs, 'shared')).sort(), finishers);
  // The executor exits once its group is done; the scheduler hears of it.
  const failure = await cluster.awaitEvent((e) => e.type === 'FAILURE' && e.failure.executor_id?.value === 'group-c', 20_000);
  assert.equal(failure.failure.status, 0);
});

test('task groups on the real bin/ daemons: a group of three runs and is killed as a group', async (t) => {
  const procs = new Procs();
  t.after(() => procs.cleanup());
  const master = procs.spawn('mesos-master', ['--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir('tg-master')}`, '--registry=in_memory']);
  const masterUrl = (await master.waitForLine(/Master started at (http:\/\/\S+)/))[1]!;
  const agentProc = procs.spawn(
    'mesos-agent',
    [`--master=${masterUrl.replace(/^http:\/\//, '')}`, '--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir('tg-agent')}`, '--resources=cpus:4;mem:2048;disk:1024'],
    { MESOS_REGISTRATION_BACKOFF_FACTOR: '100ms' },
  );
  await agentProc.waitForLine(/Agent started at (http:\/\/\S+)/);
  const scheduler = new SchedulerClient({
    master: masterUrl,
    frameworkInfo: { user: userInfo().username, name: 'task-groups-e2e', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] },
    contentType: 'json',
  });
  t.after(() => scheduler.close());
  const events: Msg[] = [];
  const seen = async (pred: (e: Msg) => boolean): Promise<Msg> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = events.find(pred);
      if (found) return found;
      assert.ok(Date.now() < deadline, `timed out; events: ${events.map((e) => e.type).join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  scheduler.on('event', (e: Msg) => {
    events.push(e);
    if (e.type === 'UPDATE') void scheduler.acknowledge(e.update.status);
  });
  await scheduler.subscribe();
  const offers = await seen((e) => e.type === 'OFFERS');
  const offer = offers.offers.offers[0];
  const role = offer.allocation_info?.role ?? '*';
  const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
  const ids = ['r1', 'r2', 'r3'];
  await scheduler.accept([offer.id], [
    {
      type: 'LAUNCH_GROUP',
      launch_group: {
        executor: { type: 'DEFAULT', executor_id: { value: 'real-group' }, framework_id: offer.framework_id, resources: [res('cpus', 0.1), res('mem', 32)] },
        task_group: { tasks: ids.map((id) => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: [res('cpus', 0.1), res('mem', 32)], command: { value: 'exec sleep 1000' } })) },
      },
    },
  ]);
  const has = (id: string, state: string) => (e: Msg) => e.type === 'UPDATE' && e.update.status.task_id.value === id && e.update.status.state === state;
  for (const id of ids) await seen(has(id, 'TASK_RUNNING'));
  await scheduler.kill('r3', offer.agent_id);
  for (const id of ids) await seen(has(id, 'TASK_KILLED'));
  procs.remember();
});
