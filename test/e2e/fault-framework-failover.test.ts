// Framework failover (FT-06, SCH-04) on the real programs. A second subscription under the same
// id replaces the first (which gets ERROR "Framework failed over"); a scheduler that disconnects
// and re-subscribes within failover_timeout keeps its tasks; one that does not come back is torn
// down: its tasks are killed (TASK_KILLED) and the framework is completed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Msg } from '../../src/scheduler/wire.js';
import { isAlive } from '../../src/cli/proc.js';
import { TestFramework } from './fault-helpers.js';
import { Procs, eventually, httpGet } from './procs.js';

const procs = new Procs();
const frameworks: TestFramework[] = [];
let url = '';
let address = '';

after(async () => {
  for (const f of frameworks) await f.close();
  await procs.cleanup();
});

async function cluster(): Promise<void> {
  if (url) return;
  const master = procs.spawn('mesos-master', ['--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir('fomaster')}`, '--registry=in_memory', '--allocation_interval=100ms']);
  url = (await master.waitForLine(/Master started at (http:\/\/\S+)/))[1]!;
  address = url.replace(/^http:\/\//, '');
  const agent = procs.spawn('mesos-agent', [`--master=${address}`, '--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir('foagent')}`, '--resources=cpus:4;mem:2048;disk:1024'], {
    MESOS_REGISTRATION_BACKOFF_FACTOR: '100ms',
  });
  await agent.waitForLine(/Agent started at/);
}

function framework(o: ConstructorParameters<typeof TestFramework>[1]): TestFramework {
  const f = new TestFramework(address, o);
  frameworks.push(f);
  return f;
}

test('re-subscribing within failover_timeout keeps the tasks; the replaced stream gets ERROR "Framework failed over"', async () => {
  await cluster();
  const first = framework({ name: 'stays', failoverTimeoutSecs: 60, tasks: ['keep-me'], perOffer: 1 });
  await first.start();
  await first.until(() => first.last('keep-me')?.state === 'TASK_RUNNING', 'the task to run');
  const supervisor = first.last('keep-me')!.container_status?.executor_pid as number;

  // A second scheduler instance takes over while the first is still connected.
  const second = framework({ name: 'stays', failoverTimeoutSecs: 60, tasks: [], frameworkId: first.frameworkId });
  await second.start();
  assert.equal(second.frameworkId, first.frameworkId);
  await first.until(() => first.events.includes('ERROR'), 'the old stream to get ERROR');

  // It disconnects; a third instance re-subscribes within the timeout.
  await second.close();
  await eventually(async () => (await httpGet(`${url}/master/state`)).json().frameworks?.find((f: Msg) => f.id === first.frameworkId)?.connected === false, 10_000, 'the framework to be disconnected');
  const third = framework({ name: 'stays', failoverTimeoutSecs: 60, tasks: [], frameworkId: first.frameworkId });
  await third.start();
  await eventually(async () => {
    await third.client.reconcile([]);
    await new Promise((r) => setTimeout(r, 200));
    return third.last('keep-me')?.state === 'TASK_RUNNING';
  }, 10_000, 'the task to be reconciled as running');
  const state = (await httpGet(`${url}/master/state`)).json();
  const fw = state.frameworks.find((f: Msg) => f.id === first.frameworkId);
  assert.equal(fw.active, true);
  assert.deepEqual(fw.tasks.map((t: Msg) => [t.id, t.state]), [['keep-me', 'TASK_RUNNING']]);
  assert.ok(isAlive(supervisor), 'the task never stopped');
  assert.ok(!third.events.includes('ERROR'));
});

test('a scheduler that does not come back within failover_timeout is torn down: its tasks are killed', async () => {
  await cluster();
  const gone = framework({ name: 'leaves', failoverTimeoutSecs: 1, tasks: ['kill-me'], perOffer: 1 });
  await gone.start();
  await gone.until(() => gone.last('kill-me')?.state === 'TASK_RUNNING', 'the task to run');
  const supervisor = gone.last('kill-me')!.container_status?.executor_pid as number;
  procs.remember();
  await gone.close();

  const done = await eventually(async () => {
    const s = (await httpGet(`${url}/master/state`)).json();
    return s.completed_frameworks?.find((f: Msg) => f.id === gone.frameworkId);
  }, 20_000, 'the framework to be torn down');
  assert.equal((await httpGet(`${url}/master/state`)).json().frameworks.some((f: Msg) => f.id === gone.frameworkId), false);
  const task = [...(done.completed_tasks ?? []), ...(done.tasks ?? [])].find((t: Msg) => t.id === 'kill-me');
  assert.equal(task?.state, 'TASK_KILLED');
  await eventually(() => !isAlive(supervisor), 20_000, 'the task process to end');
  // Re-subscribing after the teardown is refused.
  const late = framework({ name: 'leaves', failoverTimeoutSecs: 1, tasks: [], frameworkId: gone.frameworkId });
  await assert.rejects(late.start());
});
