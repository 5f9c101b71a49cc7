import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/common/clock.js';
import { Checkpointer } from '../../src/agent/checkpoint/writer.js';
import { pendingUpdates, readCheckpoints } from '../../src/agent/checkpoint/reader.js';
import * as P from '../../src/agent/checkpoint/paths.js';
import { TaskStatusUpdateManager } from '../../src/agent/status-updates/manager.js';
import { incompatibility } from '../../src/agent/recovery/compatibility.js';
import { planRecovery, RecoveryError } from '../../src/agent/recovery/index.js';
import { Resources } from '../../src/resources/index.js';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-ckpt-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const uuid = (n: number) => Buffer.alloc(16, n);
const update = (state: string, n: number) => ({
  framework_id: { value: 'fw-1' },
  executor_id: { value: 'ex-1' },
  slave_id: { value: 'agent-1' },
  status: { task_id: { value: 'task-1' }, state, uuid: uuid(n), source: 'SOURCE_EXECUTOR' },
  timestamp: 1000 + n,
  uuid: uuid(n),
});
const agentInfo = { id: { value: 'agent-1' }, hostname: 'h', port: 5051, resources: Resources.parse('cpus:2;mem:1024', '*').toProto(), attributes: [] };
const run = { agentId: 'agent-1', frameworkId: 'fw-1', executorId: 'ex-1', containerId: 'c-1' };

function writeAll(dir: string): Checkpointer {
  const cp = new Checkpointer(dir);
  cp.bootId('boot-a');
  cp.agent(agentInfo);
  cp.framework('agent-1', { id: { value: 'fw-1' }, user: 'u', name: 'f', checkpoint: true }, 'scheduler@1.2.3.4:5');
  cp.executor(run, { executor_id: { value: 'ex-1' }, command: { value: 'x' } });
  cp.forkedPid(run, 4242);
  cp.task(run, { name: 't', task_id: { value: 'task-1' }, framework_id: { value: 'fw-1' }, agent_id: { value: 'agent-1' }, state: 'TASK_STAGING' });
  cp.update(run, 'task-1', update('TASK_RUNNING', 1));
  cp.ack(run, 'task-1', uuid(1));
  cp.update(run, 'task-1', update('TASK_FINISHED', 2));
  return cp;
}

test('the FT-05 layout is written and read back; pending = updates without an ACK', () => {
  const dir = tmp();
  const cp = writeAll(dir);
  assert.equal(fs.readlinkSync(P.latestAgentLink(dir)), 'agent-1');
  assert.equal(fs.readlinkSync(P.latestRunMetaLink(dir, 'agent-1', 'fw-1', 'ex-1')), 'c-1');
  assert.ok(fs.existsSync(path.join(dir, 'meta/slaves/agent-1/frameworks/fw-1/executors/ex-1/runs/c-1/tasks/task-1/task.updates')));
  // slave.info is a 4-byte length and the AgentInfo, like Mesos's protobuf::write.
  const raw = fs.readFileSync(P.agentInfoPath(dir, 'agent-1'));
  assert.equal(raw.readUInt32LE(0), raw.length - 4);

  const state = readCheckpoints(dir);
  assert.deepEqual(state.errors, []);
  assert.equal(state.bootId, 'boot-a');
  assert.equal(state.agent?.id, 'agent-1');
  assert.equal(state.agent?.info.hostname, 'h');
  const fw = state.agent!.frameworks[0]!;
  assert.equal(fw.pid, 'scheduler@1.2.3.4:5');
  assert.equal(fw.info.checkpoint, true);
  const r = fw.executors[0]!.latest!;
  assert.equal(r.containerId, 'c-1');
  assert.equal(r.forkedPid, 4242);
  assert.equal(r.completed, false);
  const t = r.tasks[0]!;
  assert.equal(t.info?.name, 't');
  assert.deepEqual(t.updates.map((u) => u.status.state), ['TASK_RUNNING', 'TASK_FINISHED']);
  assert.deepEqual(pendingUpdates(t).map((u) => u.status.state), ['TASK_FINISHED']);

  cp.executorCompleted(run);
  assert.equal(readCheckpoints(dir).agent!.frameworks[0]!.executors[0]!.latest!.completed, true);
});

test('a torn trailing record in task.updates is ignored and cut off', () => {
  const dir = tmp();
  const cp = writeAll(dir);
  const file = P.taskUpdatesPath(cp.runDir(run), 'task-1');
  const whole = fs.readFileSync(file).length;
  // Half of a third record: the agent died in the middle of an append.
  fs.appendFileSync(file, Buffer.from([200, 0, 0, 0, 1, 2, 3]));
  const state = readCheckpoints(dir);
  assert.deepEqual(state.errors, []);
  const t = state.agent!.frameworks[0]!.executors[0]!.latest!.tasks[0]!;
  assert.equal(t.tornBytes, 7);
  assert.equal(t.updates.length, 2);
  assert.equal(fs.readFileSync(file).length, whole);
  // Appends after recovery are readable again.
  cp.ack(run, 'task-1', uuid(2));
  const again = readCheckpoints(dir).agent!.frameworks[0]!.executors[0]!.latest!.tasks[0]!;
  assert.deepEqual(pendingUpdates(again), []);
});

test('a damaged .info file is a recovery error, fatal with --strict', () => {
  const dir = tmp();
  writeAll(dir);
  fs.writeFileSync(P.frameworkInfoPath(dir, 'agent-1', 'fw-1'), Buffer.from([9, 0, 0, 0, 1]));
  const state = readCheckpoints(dir);
  assert.equal(state.errors.length, 1);
  assert.match(state.errors[0]!, /framework fw-1/);
  const opts = { workDir: dir, info: { ...agentInfo, id: undefined }, bootId: 'boot-a', reconfigurationPolicy: 'equal' };
  assert.throws(() => planRecovery({ ...opts, strict: true }), RecoveryError);
  const plan = planRecovery({ ...opts, strict: false });
  assert.equal(plan.agent?.id, 'agent-1');
  assert.equal(plan.agent?.frameworks.length, 0);
  assert.equal(plan.errors, 1, 'counted for slave/recovery_errors');
});

test('boot id change and reconfiguration policy', () => {
  const dir = tmp();
  writeAll(dir);
  const base = { workDir: dir, strict: true, reconfigurationPolicy: 'equal' };
  assert.equal(planRecovery({ ...base, info: agentInfo, bootId: 'boot-a' }).rebooted, false);
  assert.equal(planRecovery({ ...base, info: agentInfo, bootId: 'boot-b' }).rebooted, true);
  const more = { ...agentInfo, resources: Resources.parse('cpus:4;mem:1024', '*').toProto() };
  assert.throws(() => planRecovery({ ...base, info: more, bootId: 'boot-a' }), /Incompatible agent info.*resources changed/);
  assert.equal(planRecovery({ ...base, reconfigurationPolicy: 'additive', info: more, bootId: 'boot-a' }).agent?.id, 'agent-1');
  assert.equal(planRecovery({ ...base, strict: false, info: more, bootId: 'boot-a' }).agent, undefined);
  assert.match(incompatibility(agentInfo, { ...agentInfo, port: 5052 }, 'additive') ?? '', /port changed/);
  const attr = { ...agentInfo, attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'a' } }] };
  assert.equal(incompatibility(agentInfo, attr, 'additive'), undefined);
  assert.match(incompatibility(attr, agentInfo, 'additive') ?? '', /rack/);
  assert.match(incompatibility(agentInfo, attr, 'equal') ?? '', /attributes/);
});

test('replayed streams resend only unacknowledged updates and dedupe by uuid', () => {
  const clock = new ManualClock();
  const sent: string[] = [];
  const m = new TaskStatusUpdateManager({ clock, forward: (u) => sent.push(u.status.state) });
  m.pause();
  m.recover('fw-1', 'task-1', [update('TASK_RUNNING', 1), update('TASK_FINISHED', 2)], new Set([uuid(1).toString('hex')]));
  assert.deepEqual(sent, []);
  m.resume();
  assert.deepEqual(sent, ['TASK_FINISHED']);
  assert.deepEqual(m.update(update('TASK_FINISHED', 2)), { kind: 'duplicate' });
  assert.deepEqual(m.update(update('TASK_RUNNING', 1)), { kind: 'duplicate' });
  assert.equal(m.acknowledge('fw-1', 'task-1', uuid(2)).ok, true);
  assert.equal(m.pendingCount(), 0);
  // A stream whose terminal update was acknowledged is not recreated.
  m.recover('fw-1', 'task-2', [{ ...update('TASK_FAILED', 3), status: { ...update('TASK_FAILED', 3).status, task_id: { value: 'task-2' } } }], new Set([uuid(3).toString('hex')]));
  assert.equal(m.hasPending('fw-1', 'task-2'), false);
  m.stop();
});

test('startAgent validates the recovery flags', async () => {
  const { startAgent } = await import('../../src/agent/main.js');
  const dir = tmp();
  const base = ['--master=127.0.0.1:1', `--work_dir=${dir}`, '--port=0', '--ip=127.0.0.1'];
  await assert.rejects(startAgent([...base, '--executor_reregistration_timeout=16secs'], { env: {} }), /not more than 15secs/);
  await assert.rejects(startAgent([...base, '--recover=maybe'], { env: {} }), /Unknown option for 'recover' flag maybe/);
  await assert.rejects(startAgent([...base, '--reconfiguration_policy=any'], { env: {} }), /reconfiguration_policy/);
});
