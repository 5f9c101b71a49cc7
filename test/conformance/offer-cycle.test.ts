// Conformance of the core offer cycle as a third-party v1 scheduler sees it (spec 2.5, 2.6, 2.9,
// 8.2-8.5): OFFERS/UPDATE shapes, ACKNOWLEDGE and RECONCILE answers, task and offer validation,
// and the agent's /state entries for command tasks.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { type Cluster, getJson, json, request, startCluster, subscribe, until } from './helpers.js';

const API = '/api/v1/scheduler';
let c: Cluster;
before(async () => {
  c = await startCluster();
  await until(async () => (await getJson(c.mport, '/master/slaves')).slaves.length === 1, 'agent registration');
});
after(async () => c.stop());

function call(s: { frameworkId: string; streamId: string }, type: string, payload: Record<string, unknown> = {}) {
  return request(c.mport, API, json({ type, framework_id: { value: s.frameworkId }, ...payload }, { 'Mesos-Stream-Id': s.streamId }));
}

/** Follows one task's updates, acknowledging each (the agent sends the next only then), until `last`. */
async function follow(s: { frameworkId: string; streamId: string; stream: any }, taskId: string, last: string): Promise<any[]> {
  const seen: any[] = [];
  for (;;) {
    const u = await until(
      () => s.stream.all((e: any) => e.type === 'UPDATE' && e.update.status.task_id.value === taskId && e.update.status.uuid)[seen.length],
      `update ${seen.length + 1} of ${taskId}`,
    );
    seen.push(u);
    const st = u.update.status;
    const r = await call(s, 'ACKNOWLEDGE', { acknowledge: { agent_id: st.agent_id, task_id: st.task_id, uuid: st.uuid } });
    assert.equal(r.status, 202);
    if (st.state === last) return seen;
  }
}

const task = (id: string, agentId: string, command: string, extra: Record<string, unknown> = {}) => ({
  name: `task ${id}`,
  task_id: { value: id },
  agent_id: { value: agentId },
  resources: [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
  ],
  command: { value: command },
  ...extra,
});

test('OFFERS, LAUNCH, UPDATE and ACKNOWLEDGE look exactly like Mesos', async () => {
  const s = await subscribe(c.mport, { user: 'conf', name: 'cycle' });
  try {
    const offersEv = await s.stream.next((e) => e.type === 'OFFERS', 'OFFERS');
    assert.deepEqual(Object.keys(offersEv).sort(), ['offers', 'type']);
    assert.ok(Array.isArray(offersEv.offers.offers));
    const offer = offersEv.offers.offers[0];
    assert.match(offer.id.value, new RegExp(`^${c.master.master.id}-O\\d+$`));
    assert.equal(offer.framework_id.value, s.frameworkId);
    assert.match(offer.agent_id.value, new RegExp(`^${c.master.master.id}-S\\d+$`));
    assert.equal(offer.hostname, 'agent.test');
    assert.deepEqual(offer.url, { scheme: 'http', address: { hostname: 'agent.test', ip: '127.0.0.1', port: c.aport }, path: '/slave(1)' });
    assert.deepEqual(offer.allocation_info, { role: '*' });
    assert.deepEqual(offer.attributes, [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }]);
    const byName = Object.fromEntries(offer.resources.map((r: any) => [r.name, r]));
    assert.deepEqual(byName.cpus, { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, role: '*', allocation_info: { role: '*' } });
    assert.deepEqual(byName.ports, {
      name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31100 }] }, role: '*', allocation_info: { role: '*' },
    });
    for (const r of offer.resources) assert.equal(r.reservations, undefined, 'no refinement stack without RESERVATION_REFINEMENT');

    const agentId = offer.agent_id.value;
    let r = await call(s, 'ACCEPT', {
      accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t-ok', agentId, 'true')] } }], filters: { refuse_seconds: 0 } },
    });
    assert.equal(r.status, 202);
    assert.equal(r.body.length, 0);

    // A bad uuid is a validation error.
    r = await call(s, 'ACKNOWLEDGE', { acknowledge: { agent_id: { value: agentId }, task_id: { value: 't-ok' }, uuid: Buffer.from('short').toString('base64') } });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'Failed to validate scheduler::Call: Not a valid UUID');

    const updates = await follow(s, 't-ok', 'TASK_FINISHED');
    assert.deepEqual(updates.map((e) => e.update.status.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    for (const u of updates) {
      const st = u.update.status;
      assert.deepEqual(Object.keys(u).sort(), ['type', 'update']);
      assert.equal(Buffer.from(st.uuid, 'base64').length, 16, 'uuid is 16 bytes, base64 in JSON');
      assert.equal(st.source, 'SOURCE_EXECUTOR');
      assert.deepEqual(st.agent_id, { value: agentId });
      assert.deepEqual(st.executor_id, { value: 't-ok' }, 'the command executor is named after the task');
      assert.equal(typeof st.timestamp, 'number');
      assert.ok(st.timestamp > 1e9 && st.timestamp < 1e10, 'timestamp in seconds');
    }

    // Once the terminal update is acknowledged the task is completed in /master/tasks and /master/state.
    await until(async () => {
      const st = await getJson(c.mport, '/master/state');
      const fw = st.frameworks.find((f: any) => f.id === s.frameworkId);
      return fw?.completed_tasks.some((t: any) => t.id === 't-ok');
    }, 'completed task');
    const tasks = await getJson(c.mport, '/master/tasks');
    const t = tasks.tasks.find((x: any) => x.id === 't-ok');
    assert.equal(t.state, 'TASK_FINISHED');
    assert.equal(t.framework_id, s.frameworkId);
    assert.equal(t.slave_id, agentId);
    assert.deepEqual(t.statuses.map((x: any) => x.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    for (const x of t.statuses) assert.equal(typeof x.timestamp, 'number');
    assert.equal(typeof t.resources.cpus, 'number');
  } finally {
    s.stream.close();
  }
});

test('RECONCILE answers with REASON_RECONCILIATION and no uuid; invalid launches get TASK_ERROR / TASK_LOST / TASK_DROPPED', async () => {
  const s = await subscribe(c.mport, { user: 'conf', name: 'validation' });
  // The second framework subscribes once the first holds the agent's offer, so the first gets it.
  const offer = (await s.stream.next((e) => e.type === 'OFFERS', 'OFFERS')).offers.offers[0];
  const pa = await subscribe(c.mport, { user: 'conf', name: 'pa', capabilities: [{ type: 'PARTITION_AWARE' }] });
  try {
    const agentId = offer.agent_id.value;

    // Two tasks with one id in one LAUNCH: the second is TASK_ERROR, the others run.
    let r = await call(s, 'ACCEPT', {
      accept: {
        offer_ids: [offer.id],
        operations: [{
          type: 'LAUNCH',
          launch: { task_infos: [task('dup', agentId, 'sleep 30'), task('dup', agentId, 'sleep 30'), task('long', agentId, 'sleep 30; echo a long command')] },
        }],
      },
    });
    assert.equal(r.status, 202);
    const err = await s.stream.next((e) => e.type === 'UPDATE' && e.update.status.state === 'TASK_ERROR', 'TASK_ERROR');
    assert.equal(err.update.status.task_id.value, 'dup');
    assert.equal(err.update.status.source, 'SOURCE_MASTER');
    assert.equal(err.update.status.reason, 'REASON_TASK_INVALID');
    assert.equal(err.update.status.uuid, undefined, 'master-generated updates carry no uuid');
    assert.equal(typeof err.update.status.message, 'string');
    await follow(s, 'dup', 'TASK_RUNNING');
    await follow(s, 'long', 'TASK_RUNNING');

    // An offer that does not exist: TASK_LOST (REASON_INVALID_OFFERS) without PARTITION_AWARE ...
    r = await call(s, 'ACCEPT', {
      accept: { offer_ids: [{ value: 'no-such-offer' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('ghost-offer', agentId, 'true')] } }] },
    });
    assert.equal(r.status, 202);
    const lost = await s.stream.next((e) => e.type === 'UPDATE' && e.update.status.task_id.value === 'ghost-offer', 'TASK_LOST');
    assert.equal(lost.update.status.state, 'TASK_LOST');
    assert.equal(lost.update.status.reason, 'REASON_INVALID_OFFERS');
    assert.equal(lost.update.status.source, 'SOURCE_MASTER');
    assert.equal(lost.update.status.uuid, undefined);
    // ... and TASK_DROPPED with it.
    r = await call(pa, 'ACCEPT', {
      accept: { offer_ids: [{ value: 'no-such-offer' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('ghost-offer', agentId, 'true')] } }] },
    });
    assert.equal(r.status, 202);
    const dropped = await pa.stream.next((e) => e.type === 'UPDATE', 'TASK_DROPPED');
    assert.equal(dropped.update.status.state, 'TASK_DROPPED');
    assert.equal(dropped.update.status.reason, 'REASON_INVALID_OFFERS');

    // Explicit reconciliation: a known task gets its state, an unknown one on a registered agent is
    // TASK_LOST (TASK_GONE for partition-aware frameworks).
    const mark = s.stream.events.length;
    r = await call(s, 'RECONCILE', { reconcile: { tasks: [{ task_id: { value: 'dup' } }, { task_id: { value: 'never' }, agent_id: { value: agentId } }] } });
    assert.equal(r.status, 202);
    const known = await s.stream.next((e) => e.type === 'UPDATE' && e.update.status.task_id.value === 'dup', 'reconcile dup', mark);
    const never = await s.stream.next((e) => e.type === 'UPDATE' && e.update.status.task_id.value === 'never', 'reconcile never', mark);
    for (const u of [known, never]) {
      assert.equal(u.update.status.reason, 'REASON_RECONCILIATION');
      assert.equal(u.update.status.source, 'SOURCE_MASTER');
      assert.equal(u.update.status.uuid, undefined);
    }
    assert.equal(known.update.status.state, 'TASK_RUNNING');
    assert.equal(known.update.status.message, 'Reconciliation: Latest task state');
    assert.equal(never.update.status.state, 'TASK_LOST');
    // Marathon and others read this exact text to tell a gone task from a lost one.
    assert.equal(never.update.status.message, 'Reconciliation: Task is unknown to the agent');
    assert.deepEqual(never.update.status.agent_id, { value: agentId });
    const paMark = pa.stream.events.length;
    r = await call(pa, 'RECONCILE', { reconcile: { tasks: [{ task_id: { value: 'never' }, agent_id: { value: agentId } }] } });
    assert.equal(r.status, 202);
    const gone = await pa.stream.next((e) => e.type === 'UPDATE', 'reconcile never (PA)', paMark);
    assert.equal(gone.update.status.state, 'TASK_GONE');

    // Implicit reconciliation: every known task, here the running one.
    const mark2 = s.stream.events.length;
    r = await call(s, 'RECONCILE', { reconcile: {} });
    assert.equal(r.status, 202);
    await until(() => s.stream.events.slice(mark2).filter((e) => e.type === 'UPDATE').length >= 2, 'implicit reconcile');
    const implicit = s.stream.events.slice(mark2).filter((e) => e.type === 'UPDATE');
    assert.deepEqual(implicit.map((e) => e.update.status.task_id.value).sort(), ['dup', 'long']);
    for (const u of implicit) assert.equal(u.update.status.reason, 'REASON_RECONCILIATION');

    // The agent's /state shows the command executor as Mesos names it.
    const st = await getJson(c.aport, '/slave(1)/state');
    assert.deepEqual(st, await getJson(c.aport, '/state'));
    const fw = st.frameworks.find((f: any) => f.id === s.frameworkId);
    const ex = fw.executors.find((e: any) => e.id === 'dup');
    assert.equal(ex.name, "Command Executor (Task: dup) (Command: sh -c 'sleep 30')");
    assert.equal(ex.source, 'dup');
    assert.equal(typeof ex.container, 'string');
    assert.equal(typeof ex.directory, 'string');
    assert.equal(ex.tasks.length, 1);
    assert.equal(ex.tasks[0].id, 'dup');
    assert.equal(ex.tasks[0].state, 'TASK_RUNNING');
    assert.deepEqual(ex.queued_tasks, []);
    assert.deepEqual(ex.completed_tasks, []);
    assert.equal(typeof ex.resources.cpus, 'number');

    // /monitor/statistics lists it too.
    const stats = await getJson(c.aport, '/monitor/statistics');
    const entry = stats.find((e: any) => e.executor_id === 'dup');
    assert.equal(entry.framework_id, s.frameworkId);
    assert.equal(entry.source, 'dup');
    assert.equal(typeof entry.statistics.timestamp, 'number');

    // A long command is cut to 12 characters and '...'.
    const st2 = await getJson(c.aport, '/state');
    const ex2 = st2.frameworks.find((f: any) => f.id === s.frameworkId).executors.find((e: any) => e.id === 'long');
    assert.equal(ex2.name, "Command Executor (Task: long) (Command: sh -c 'sleep 30; ec...')");
  } finally {
    await call(s, 'TEARDOWN');
    s.stream.close();
    pa.stream.close();
  }
});
