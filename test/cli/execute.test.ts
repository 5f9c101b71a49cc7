import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execute } from '../../src/cli/execute.js';
import { FakeMaster } from '../scheduler/fake-master.js';

const scalar = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, role: '*', allocation_info: { role: '*' } });
const offer = (id: string, agent: string, cpus: number, mem: number) => ({
  id: { value: id },
  framework_id: { value: 'fw-1' },
  agent_id: { value: agent },
  hostname: 'localhost',
  allocation_info: { role: '*' },
  resources: [scalar('cpus', cpus), scalar('mem', mem)],
});
const uuid = (n: number) => Buffer.alloc(16, n).toString('base64');

async function runAgainst(master: FakeMaster, argv: string[], finalState: string) {
  const out: string[] = [];
  const err: string[] = [];
  const done = execute([`--master=${master.address}`, '--content_type=json', ...argv], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: {},
  });
  await master.until(() => master.streams.length === 1);
  const stream = master.streams[0]!;
  // A too-small offer first, then one that fits and one extra in the same event.
  await stream.send({ type: 'OFFERS', offers: { offers: [offer('O1', 'S-small', 0.5, 64)] } });
  await master.until(() => master.calls.some((c) => c.body.type === 'DECLINE'));
  await stream.send({ type: 'OFFERS', offers: { offers: [offer('O2', 'S1', 4, 1024), offer('O3', 'S2', 4, 1024)] } });
  await master.until(() => master.calls.some((c) => c.body.type === 'ACCEPT'));
  const accept = master.calls.find((c) => c.body.type === 'ACCEPT')!.body;
  const task = accept.accept.operations[0].launch.task_infos[0];
  const status = (state: string, n: number) => ({
    type: 'UPDATE',
    update: { status: { task_id: task.task_id, agent_id: { value: 'S1' }, state, source: 'SOURCE_EXECUTOR', uuid: uuid(n) } },
  });
  await stream.send(status('TASK_RUNNING', 1));
  await stream.send({ ...status(finalState, 2), update: { status: { ...status(finalState, 2).update.status, message: 'Command exited with status 0' } } });
  const code = await done;
  return { code, out, err, accept, task };
}

test('execute launches one task on a fitting offer, prints and acknowledges updates, exits 0 on TASK_FINISHED', async (t) => {
  const master = await new FakeMaster().start();
  t.after(() => master.stop());
  const { code, out, err, accept, task } = await runAgainst(master, ['--name=demo', '--command=echo hello', '--env={"A":"1"}'], 'TASK_FINISHED');
  assert.equal(code, 0);
  assert.deepEqual(err, [], 'nothing on stderr (the stream closing after TEARDOWN is expected)');

  const sub = master.subscribes[0]!.body.subscribe.framework_info;
  assert.equal(sub.name, 'mesos-execute instance');
  assert.deepEqual(sub.roles, ['*']);
  assert.ok(sub.capabilities.some((c: any) => c.type === 'MULTI_ROLE'));

  assert.deepEqual(accept.accept.offer_ids, [{ value: 'O2' }]);
  assert.equal(task.name, 'demo');
  assert.deepEqual(task.task_id, { value: 'demo' });
  assert.deepEqual(task.agent_id, { value: 'S1' });
  assert.equal(task.command.value, 'echo hello');
  assert.equal(task.command.shell, true);
  const vars = task.command.environment.variables;
  assert.equal(vars.length, 1);
  assert.equal(vars[0].name, 'A');
  assert.equal(vars[0].value, '1');
  const cpus = task.resources.find((r: any) => r.name === 'cpus');
  assert.equal(cpus.scalar.value, 1);
  assert.deepEqual(cpus.allocation_info, { role: '*' });
  assert.equal(task.resources.find((r: any) => r.name === 'mem').scalar.value, 128);

  const types = master.calls.map((c) => c.body.type);
  // O1 declined before the launch; O3 declined with a long filter after it.
  const declines = master.calls.filter((c) => c.body.type === 'DECLINE').map((c) => c.body.decline);
  assert.deepEqual(declines.map((d) => d.offer_ids[0].value), ['O1', 'O3']);
  assert.ok(declines[1].filters.refuse_seconds >= 3600);
  const acks = master.calls.filter((c) => c.body.type === 'ACKNOWLEDGE').map((c) => c.body.acknowledge.uuid);
  assert.deepEqual(acks, [uuid(1), uuid(2)]);
  assert.equal(types[types.length - 1], 'TEARDOWN');

  assert.ok(out.includes("Submitted task 'demo' to agent 'S1'"), out.join('\n'));
  assert.ok(out.includes("Received status update TASK_RUNNING for task 'demo'"));
  const fin = out.indexOf("Received status update TASK_FINISHED for task 'demo'");
  assert.ok(fin > 0);
  assert.equal(out[fin + 1], "  message: 'Command exited with status 0'");
  assert.equal(out[fin + 2], '  source: SOURCE_EXECUTOR');
});

test('execute exits 1 when the task fails', async (t) => {
  const master = await new FakeMaster().start();
  t.after(() => master.stop());
  const { code, out } = await runAgainst(master, ['--name=bad', '--command=false'], 'TASK_FAILED');
  assert.equal(code, 1);
  assert.ok(out.includes("Received status update TASK_FAILED for task 'bad'"));
});

test('execute rejects bad flags with the usage text', async () => {
  const err: string[] = [];
  const io = { out: () => undefined, err: (l: string) => err.push(l), env: {} };
  assert.equal(await execute(['--name=x'], io), 1);
  assert.match(err.join('\n'), /--master/);
  err.length = 0;
  assert.equal(await execute(['--master=127.0.0.1:1'], io), 1);
  assert.match(err[0]!, /--command/);
  err.length = 0;
  assert.equal(await execute(['--master=127.0.0.1:1', '--command=true', '--content_type=xml'], io), 1);
  assert.match(err[0]!, /content_type/);
  err.length = 0;
  assert.equal(await execute(['--master=127.0.0.1:1', '--command=true', '--env=[1]'], io), 1);
  assert.match(err[0]!, /JSON object/);
});

test('execute reports a master it cannot reach and exits 1', async () => {
  const err: string[] = [];
  const code = await execute(['--master=127.0.0.1:1', '--command=true'], { out: () => undefined, err: (l) => err.push(l), env: {} });
  assert.equal(code, 1);
  assert.match(err.join('\n'), /ECONNREFUSED/);
});

test('execute --task launches the given TaskInfo with the agent id from the offer', async (t) => {
  const master = await new FakeMaster().start();
  t.after(() => master.stop());
  const taskJson = JSON.stringify({
    name: 'from-json',
    task_id: { value: 'tj-1' },
    command: { value: 'echo from json' },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.75 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 100 } },
    ],
    labels: { labels: [{ key: 'k', value: 'v' }] },
  });
  const { code, task, out } = await runAgainst(master, [`--task=${taskJson}`, '--partition_aware', '--framework_capabilities=TASK_KILLING_STATE,GPU_RESOURCES'], 'TASK_FINISHED');
  assert.equal(code, 0);
  assert.deepEqual(task.task_id, { value: 'tj-1' });
  assert.equal(task.name, 'from-json');
  assert.deepEqual(task.agent_id, { value: 'S1' });
  assert.equal(task.command.value, 'echo from json');
  assert.deepEqual(task.labels.labels, [{ key: 'k', value: 'v' }]);
  assert.equal(task.resources.find((r: any) => r.name === 'cpus').scalar.value, 0.75);
  const caps = master.subscribes[0]!.body.subscribe.framework_info.capabilities.map((c: any) => c.type).sort();
  assert.deepEqual(caps, ['GPU_RESOURCES', 'MULTI_ROLE', 'PARTITION_AWARE', 'TASK_KILLING_STATE']);
  assert.ok(out.includes("Received status update TASK_FINISHED for task 'tj-1'"));
});
