// Master failover (FT-03) on the real programs: kill -9 the master while 200 `sleep` tasks run on
// two agents, restart it on the same address and --work_dir (durable registry). The agents
// re-register, the framework re-subscribes with its id, an implicit reconciliation reports every
// task exactly once as running, and the resources in /master/state add up as before.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Msg } from '../../src/scheduler/wire.js';
import { TestFramework, freePort } from './fault-helpers.js';
import { type Proc, Procs, eventually, httpGet } from './procs.js';

const TASKS = 200;
const procs = new Procs();
let fw: TestFramework | undefined;

after(async () => {
  await fw?.close();
  await procs.cleanup();
});

test('kill -9 of the master with 200 tasks running: agents and framework come back, every task is reported once, resources add up', async () => {
  const port = await freePort();
  const masterArgs = ['--ip=127.0.0.1', `--port=${port}`, `--work_dir=${procs.tempDir('fmaster')}`, '--registry=replicated_log', '--allocation_interval=100ms'];
  const startMaster = async (): Promise<Proc> => {
    const p = procs.spawn('mesos-master', masterArgs);
    await p.waitForLine(/Master started at (http:\/\/\S+)/);
    return p;
  };
  let master = await startMaster();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 2; i++) {
    const agent = procs.spawn(
      'mesos-agent',
      [`--master=127.0.0.1:${port}`, '--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir(`fagent${i}`)}`, '--resources=cpus:24;mem:8000;disk:1024'],
      { MESOS_REGISTRATION_BACKOFF_FACTOR: '100ms' },
    );
    await agent.waitForLine(/Agent started at/);
  }
  await eventually(async () => (await httpGet(`${url}/master/state`)).json().slaves?.length === 2, 20_000, 'two agents');

  const ids = Array.from({ length: TASKS }, (_, i) => `t${i}`);
  fw = new TestFramework(`127.0.0.1:${port}`, { name: 'fault-restart', partitionAware: true, failoverTimeoutSecs: 300, tasks: ids, perOffer: TASKS / 2 });
  await fw.start();
  const frameworkId = fw.frameworkId;
  await fw.until(() => ids.every((id) => fw!.last(id)?.state === 'TASK_RUNNING'), 'all 200 tasks to run', 60_000);
  const stateBefore = (await httpGet(`${url}/master/state`)).json();
  const usedBefore = new Map<string, Msg>(stateBefore.slaves.map((s: Msg) => [s.id, s.used_resources]));
  assert.equal(stateBefore.frameworks[0].tasks.length, TASKS);
  procs.remember();

  master.child.kill('SIGKILL');
  await master.exited;
  const subscribedBefore = fw.subscribedCount;
  master = await startMaster();

  // The framework re-subscribes with the same id; the agents re-register with their tasks.
  await fw.until(() => fw!.subscribedCount > subscribedBefore, 'the framework to re-subscribe', 30_000);
  const state = await eventually(async () => {
    const s = (await httpGet(`${url}/master/state`)).json();
    return s.slaves?.length === 2 && (s.recovered_slaves ?? []).length === 0 && s.frameworks?.[0]?.tasks?.length === TASKS ? s : undefined;
  }, 30_000, 'agents to re-register with their tasks');
  assert.equal(state.frameworks.length, 1);
  assert.equal(state.frameworks[0].id, frameworkId, 're-subscribed under the same framework id');
  const taskIds = state.frameworks[0].tasks.map((t: Msg) => t.id as string);
  assert.equal(new Set(taskIds).size, TASKS, 'no task duplicated');
  assert.deepEqual([...taskIds].sort(), [...ids].sort(), 'no task lost');
  for (const t of state.frameworks[0].tasks as Msg[]) assert.equal(t.state, 'TASK_RUNNING');
  // Resources add up: every agent uses exactly what it used before the crash.
  for (const s of state.slaves as Msg[]) assert.deepEqual(s.used_resources, usedBefore.get(s.id), `agent ${s.id} used resources`);

  // Implicit reconciliation: every task once, running, from the master, without a uuid.
  const from = fw.updates.length;
  await fw.client.reconcile([]);
  await fw.until(() => fw!.updates.length - from >= TASKS, 'reconciliation answers');
  const answers = fw.updates.slice(from);
  assert.equal(answers.length, TASKS);
  assert.equal(new Set(answers.map((u) => u.task_id.value)).size, TASKS);
  for (const u of answers) {
    assert.equal(u.state, 'TASK_RUNNING');
    assert.equal(u.reason, 'REASON_RECONCILIATION');
    assert.equal(u.source, 'SOURCE_MASTER');
    assert.equal(u.uuid, undefined, 'master-generated updates carry no uuid');
  }
  // No task ever left the running state.
  for (const id of ids) for (const u of fw.byTask.get(id)!) assert.ok(['TASK_STARTING', 'TASK_RUNNING'].includes(u.state), `${id}: ${u.state}`);
});
