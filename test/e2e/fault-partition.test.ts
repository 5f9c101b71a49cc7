// Agent partitions (FT-04) on the real programs: freeze the agent with SIGSTOP past
// --agent_ping_timeout x --max_agent_ping_timeouts, then thaw it with SIGCONT. The
// PARTITION_AWARE framework sees TASK_UNREACHABLE (with unreachable_time), the other TASK_LOST,
// both get FAILURE; the thawed agent re-registers, becomes reachable again, and both tasks are
// still running (reconciliation says TASK_RUNNING, the processes never stopped).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Msg } from '../../src/scheduler/wire.js';
import { isAlive } from '../../src/cli/proc.js';
import { TestFramework } from './fault-helpers.js';
import { Procs, eventually, httpGet } from './procs.js';

const procs = new Procs();
const frameworks: TestFramework[] = [];

after(async () => {
  for (const f of frameworks) await f.close();
  await procs.cleanup();
});

test('SIGSTOP an agent past the ping timeout, then SIGCONT: TASK_UNREACHABLE / TASK_LOST, then reachable again with tasks still running', async () => {
  const master = procs.spawn('mesos-master', [
    '--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir('pmaster')}`, '--registry=replicated_log',
    '--agent_ping_timeout=1secs', '--max_agent_ping_timeouts=2', '--allocation_interval=100ms',
  ]);
  const url = (await master.waitForLine(/Master started at (http:\/\/\S+)/))[1]!;
  const address = url.replace(/^http:\/\//, '');
  const agent = procs.spawn(
    'mesos-agent',
    [`--master=${address}`, '--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir('pagent')}`, '--resources=cpus:4;mem:2048;disk:1024'],
    { MESOS_REGISTRATION_BACKOFF_FACTOR: '100ms' },
  );
  await agent.waitForLine(/Agent started at/);
  const pa = new TestFramework(address, { name: 'pa', partitionAware: true, tasks: ['pa-task'], perOffer: 1 });
  const plain = new TestFramework(address, { name: 'non-pa', partitionAware: false, tasks: ['plain-task'], perOffer: 1 });
  frameworks.push(pa, plain);
  await pa.start();
  await plain.start();
  await pa.until(() => pa.last('pa-task')?.state === 'TASK_RUNNING', 'the PA task to run').catch((e) => {
    console.error(master.output(), agent.output(), pa.events, pa.updates, pa.errors);
    throw e;
  });
  await plain.until(() => plain.last('plain-task')?.state === 'TASK_RUNNING', 'the non-PA task to run');
  const supervisors = [pa.last('pa-task')!, plain.last('plain-task')!].map((s) => s.container_status?.executor_pid as number);
  const agentId = pa.last('pa-task')!.agent_id.value as string;
  procs.remember();

  agent.child.kill('SIGSTOP');
  try {
    await pa.until(() => pa.last('pa-task')?.state === 'TASK_UNREACHABLE', 'TASK_UNREACHABLE for the PA framework');
    await plain.until(() => plain.last('plain-task')?.state === 'TASK_LOST', 'TASK_LOST for the non-PA framework');
    const unreachable = pa.last('pa-task')!;
    assert.equal(unreachable.reason, 'REASON_AGENT_REMOVED');
    assert.equal(unreachable.source, 'SOURCE_MASTER');
    assert.ok(Number(unreachable.unreachable_time?.nanoseconds) > 0, 'TASK_UNREACHABLE carries unreachable_time');
    assert.equal(unreachable.uuid, undefined, 'master-generated updates carry no uuid');
    assert.equal(plain.last('plain-task')!.reason, 'REASON_AGENT_REMOVED');
    await pa.until(() => pa.events.includes('FAILURE') && plain.events.includes('FAILURE'), 'FAILURE events');
    const state = (await httpGet(`${url}/master/state`)).json();
    assert.equal(state.slaves.length, 0);
    // `unreachable_slaves` in /master/state is a count; the registry entry is written behind it.
    assert.equal(state.unreachable_slaves, 1);
    await eventually(
      async () => (await httpGet(`${url}/registrar(1)/registry`)).json().unreachable?.slaves?.length === 1,
      10_000,
      'the unreachable agent in the registry',
    );
  } finally {
    agent.child.kill('SIGCONT');
  }

  // The thawed agent notices the missing pings, re-registers and is reachable again.
  await eventually(async () => {
    const s = (await httpGet(`${url}/master/state`)).json();
    return s.slaves?.length === 1 && s.slaves[0].id === agentId && s.slaves[0].active === true;
  }, 30_000, 'the agent to become reachable again');
  const registry = (await httpGet(`${url}/registrar(1)/registry`)).json();
  assert.equal(registry.slaves?.slaves?.length, 1, 'admitted again in the registry');
  assert.equal(registry.unreachable?.slaves?.length ?? 0, 0, 'no longer unreachable in the registry');
  for (const pid of supervisors) assert.ok(isAlive(pid), `task supervisor ${pid} kept running`);

  // Both frameworks learn by reconciliation that their tasks run again.
  for (const [f, id] of [[pa, 'pa-task'], [plain, 'plain-task']] as const) {
    await eventually(async () => {
      await f.client.reconcile([{ task_id: { value: id }, agent_id: { value: agentId } }]);
      await new Promise((r) => setTimeout(r, 200));
      return f.last(id)?.state === 'TASK_RUNNING';
    }, 20_000, `${f.o.name}: TASK_RUNNING again`);
  }
  const paStates = pa.byTask.get('pa-task')!.map((s: Msg) => s.state);
  assert.ok(paStates.indexOf('TASK_UNREACHABLE') < paStates.lastIndexOf('TASK_RUNNING'), paStates.join());
  const plainStates = plain.byTask.get('plain-task')!.map((s: Msg) => s.state);
  assert.ok(plainStates.includes('TASK_LOST') && !plainStates.includes('TASK_UNREACHABLE'), plainStates.join());
});
