// End-to-end: the real bin/mesos-master and two bin/mesos-agent processes on ephemeral loopback
// ports, real tasks, driven by the scheduler library and by bin/mesos-execute.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { descendantPids } from '../../src/cli/proc.js';
import { TestFramework } from './driver.js';
import { type Proc, Procs, eventually, httpGet } from './procs.js';

const procs = new Procs();
let masterUrl = '';
let master: Proc;
const agents: Array<{ proc: Proc; url: string; id?: string }> = [];

before(async () => {
  const masterDir = procs.tempDir('master');
  master = procs.spawn('mesos-master', ['--ip=127.0.0.1', '--port=0', `--work_dir=${masterDir}`, '--registry=in_memory']);
  masterUrl = (await master.waitForLine(/Master started at (http:\/\/\S+)/))[1]!;
  for (let i = 0; i < 2; i++) {
    const proc = procs.spawn('mesos-agent', [
      `--master=${masterUrl.replace(/^http:\/\//, '')}`,
      '--ip=127.0.0.1',
      '--port=0',
      `--work_dir=${procs.tempDir(`agent${i}`)}`,
      '--resources=cpus:8;mem:4096;disk:1024',
    ], { MESOS_REGISTRATION_BACKOFF_FACTOR: '100ms' });
    const url = (await proc.waitForLine(/Agent started at (http:\/\/\S+)/))[1]!;
    agents.push({ proc, url });
  }
  await eventually(async () => (await httpGet(`${masterUrl}/master/state`)).json().slaves?.length === 2, 30_000, 'both agents to register');
  for (const a of agents) a.id = (await httpGet(`${a.url}/state`)).json().id;
});

after(async () => {
  await procs.cleanup();
});

function masterAddress(): string {
  return masterUrl.replace(/^http:\/\//, '');
}

test('100 short tasks across 2 agents all reach TASK_FINISHED, every update acknowledged exactly once', async () => {
  const fw = await new TestFramework(masterAddress(), 'e2e-hundred').start();
  try {
    const ids = Array.from({ length: 100 }, (_, i) => `short-${i}`);
    fw.submit(ids.map((id, i) => ({ id, command: i % 2 ? 'true' : `echo ${id}` })));
    await fw.awaitTerminal(ids, 120_000);
    procs.remember();

    for (const id of ids) assert.equal(fw.finalState(id), 'TASK_FINISHED', `${id}: ${fw.states.get(id)?.join(' -> ')}`);
    // Spread over both agents.
    assert.equal(new Set(ids.map((id) => fw.agentOf.get(id))).size, 2);
    // Every update carried a uuid, one per (task, state); each delivery was acknowledged exactly once
    // (a redelivery, should the agent retry, needs its own acknowledgement).
    for (const u of fw.updates) assert.ok(u.uuid && u.uuid.length === 16, `update ${u.task_id.value} ${u.state} has no uuid`);
    const transitions = new Set(fw.updates.map((u) => `${u.task_id.value}/${u.state}`));
    assert.equal(fw.received.size, transitions.size, 'one uuid per task state');
    await fw.until(() => [...fw.received].every(([uuid, n]) => fw.acks.get(uuid) === n), 10_000, 'acknowledgements to complete');
    assert.deepEqual(fw.acks, fw.received);
    assert.deepEqual(fw.errors, []);

    // The master moves a task to completed only once its terminal update is acknowledged.
    const frameworkId = fw.client.frameworkId!.value;
    const fwState = await eventually(async () => {
      const state = (await httpGet(`${masterUrl}/master/state`)).json();
      const f = state.frameworks.find((x: any) => x.id === frameworkId);
      return f && f.tasks.length === 0 && f.completed_tasks.length === 100 ? f : undefined;
    }, 30_000, 'all tasks to be completed at the master');
    for (const t of fwState.completed_tasks) assert.equal(t.state, 'TASK_FINISHED');
  } finally {
    await fw.stop();
  }
});

test("a task's stdout can be read back through the agent's /files/read", async () => {
  const fw = await new TestFramework(masterAddress(), 'e2e-files', 'json').start();
  try {
    fw.submit([{ id: 'hello-files', command: 'echo hello-from-sandbox' }]);
    await fw.awaitTerminal(['hello-files']);
    assert.equal(fw.finalState('hello-files'), 'TASK_FINISHED');
    const agent = agents.find((a) => a.id === fw.agentOf.get('hello-files'))!;
    assert.ok(agent, 'the update names one of our agents');

    const state = (await httpGet(`${agent.url}/state`)).json();
    const executors = [...state.frameworks, ...state.completed_frameworks].flatMap((f: any) => [
      ...(f.executors ?? []),
      ...(f.completed_executors ?? []),
    ]);
    const executor = executors.find((e: any) => e.id === 'hello-files');
    assert.ok(executor?.directory, 'the agent reports the sandbox directory');

    const read = await httpGet(`${agent.url}/files/read?path=${encodeURIComponent(`${executor.directory}/stdout`)}&offset=0`);
    assert.equal(read.status, 200, read.body);
    const body = read.json();
    assert.match(body.data, /hello-from-sandbox/);
    assert.equal(body.offset, 0);
    // The same bytes are on disk.
    assert.match(readFileSync(`${executor.directory}/stdout`, 'utf8'), /hello-from-sandbox/);
  } finally {
    await fw.stop();
  }
});

test('killing a long task ends in TASK_KILLED and its process is gone', async () => {
  const fw = await new TestFramework(masterAddress(), 'e2e-kill').start();
  try {
    fw.submit([{ id: 'long', command: 'sleep 100' }]);
    await fw.awaitState('long', 'TASK_RUNNING');
    procs.remember();
    const agent = agents.find((a) => a.id === fw.agentOf.get('long'))!;
    const sleeping = () => descendantPids(agent.proc.pid).filter((pid) => cmdline(pid).includes('sleep 100'));
    await eventually(() => sleeping().length > 0, 10_000, 'the sleep process to show up under the agent');
    await fw.client.kill('long', fw.agentOf.get('long'));
    await fw.awaitTerminal(['long']);
    assert.equal(fw.finalState('long'), 'TASK_KILLED', fw.states.get('long')?.join(' -> '));
    await eventually(() => sleeping().length === 0, 10_000, 'the sleep process to exit');
  } finally {
    await fw.stop();
  }
});

test('a failing command ends in TASK_FAILED', async () => {
  const fw = await new TestFramework(masterAddress(), 'e2e-fail').start();
  try {
    fw.submit([{ id: 'fails', command: 'exit 3' }]);
    await fw.awaitTerminal(['fails']);
    assert.equal(fw.finalState('fails'), 'TASK_FAILED');
    const last = fw.updates.filter((u) => u.task_id.value === 'fails').at(-1)!;
    assert.match(last.message ?? '', /3/);
  } finally {
    await fw.stop();
  }
});

test('bin/mesos-execute prints the updates and exits 0 for `echo hello`, non-zero for `false`', async () => {
  const ok = procs.spawn('mesos-execute', [`--master=${masterAddress()}`, '--name=demo', '--command=echo hello', '--resources=cpus:0.5;mem:64']);
  const okExit = await ok.exited;
  assert.equal(okExit.code, 0, ok.output());
  assert.ok(ok.lines.some((l) => /^Subscribed with ID /.test(l)), ok.output());
  assert.ok(ok.lines.includes("Received status update TASK_RUNNING for task 'demo'"), ok.output());
  assert.ok(ok.lines.includes("Received status update TASK_FINISHED for task 'demo'"), ok.output());

  const bad = procs.spawn('mesos-execute', [`--master=${masterAddress()}`, '--name=nope', '--command=false', '--content_type=json']);
  const badExit = await bad.exited;
  assert.notEqual(badExit.code, 0, bad.output());
  assert.ok(bad.lines.includes("Received status update TASK_FAILED for task 'nope'"), bad.output());
});

test('bin/mesos-execute --kill_after kills a long task: TASK_KILLED and a non-zero exit', async () => {
  const p = procs.spawn('mesos-execute', [
    `--master=${masterAddress()}`,
    '--name=sleepy',
    '--command=sleep 100',
    '--kill_after=500ms',
    '--framework_capabilities=TASK_KILLING_STATE',
    '--resources=cpus:0.5;mem:64',
  ]);
  const exit = await p.exited;
  assert.equal(exit.code, 1, p.output());
  assert.ok(p.lines.includes("Received status update TASK_RUNNING for task 'sleepy'"), p.output());
  assert.ok(p.lines.includes("Received status update TASK_KILLED for task 'sleepy'"), p.output());
});

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
