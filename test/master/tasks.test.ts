// ACCEPT validation (SCH-12, TSK-03), DECLINE filters, KILL, TEARDOWN, MESSAGE and executor events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuidBytes } from '../../src/common/ids.js';
import { FRAMEWORK, FakeAgent, PA_FRAMEWORK, Scheduler, type Msg, commandTask, getJson, scalar, startTestMaster, until } from './helpers.js';

async function setup(t: { after: (fn: () => unknown) => void }, framework: Msg = FRAMEWORK, flags: string[] = []) {
  const c = await startTestMaster(flags);
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register();
  await s.subscribe(framework);
  await s.next('SUBSCRIBED');
  const offer = (await s.next('OFFERS')).offers.offers[0];
  return { c, agent, s, agentId, offer };
}

const launch = (tasks: Msg[]) => [{ type: 'LAUNCH', launch: { task_infos: tasks } }];

test('invalid offers: TASK_LOST (or TASK_DROPPED when partition-aware) with REASON_INVALID_OFFERS', async (t) => {
  for (const fw of [FRAMEWORK, PA_FRAMEWORK]) {
    const { s, agentId, agent } = await setup(t, fw);
    const r = await s.call({
      type: 'ACCEPT',
      accept: { offer_ids: [{ value: 'no-such-offer' }], operations: launch([commandTask('t1', agentId, [scalar('cpus', 1)])]) },
    });
    assert.equal(r.status, 202);
    const u = await s.next('UPDATE');
    assert.equal(u.update.status.state, fw === PA_FRAMEWORK ? 'TASK_DROPPED' : 'TASK_LOST');
    assert.equal(u.update.status.reason, 'REASON_INVALID_OFFERS');
    assert.equal(u.update.status.source, 'SOURCE_MASTER');
    assert.equal(u.update.status.uuid, undefined);
    assert.equal(u.update.status.message, 'Task launched with invalid offers: Offer no-such-offer is no longer valid');
    assert.equal(agent.count('RunTaskMessage'), 0);
  }
});

test('an offer is single-use and duplicate offer ids are rejected', async (t) => {
  const { c, s, agentId, agent, offer } = await setup(t);
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id, offer.id], operations: launch([commandTask('t1', agentId, [scalar('cpus', 1)])]) } });
  let u = await s.next('UPDATE');
  assert.equal(u.update.status.message, `Task launched with invalid offers: Duplicate offer ${offer.id.value} in offer list`);
  // The offer was used up by that call.
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: launch([commandTask('t2', agentId, [scalar('cpus', 1)])]) } });
  u = await s.next('UPDATE');
  assert.equal(u.update.status.reason, 'REASON_INVALID_OFFERS');
  assert.equal(agent.count('RunTaskMessage'), 0);
  assert.equal([...c.master.master.offers].length, 0);
});

test('invalid tasks get TASK_ERROR / REASON_TASK_INVALID; valid ones in the same call launch', async (t) => {
  const { s, agentId, agent, offer } = await setup(t);
  const tasks = [
    commandTask('good', agentId, [scalar('cpus', 1), scalar('mem', 64)]),
    commandTask('good', agentId, [scalar('cpus', 1)]),
    commandTask('../bad', agentId, [scalar('cpus', 1)]),
    commandTask('greedy', agentId, [scalar('cpus', 100)]),
    commandTask('wrong-agent', 'other-agent', [scalar('cpus', 1)]),
    { ...commandTask('nothing', agentId, [scalar('cpus', 1)]), command: undefined },
    commandTask('no-resources', agentId, []),
    commandTask('bad-resources', agentId, [{ name: 'cpus', type: 'SCALAR', scalar: { value: -1 } }]),
  ];
  const r = await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: launch(tasks) } });
  assert.equal(r.status, 202);
  const run = await agent.next('RunTaskMessage');
  assert.equal(run.task.task_id.value, 'good');
  const errors = new Map<string, Msg>();
  await until(() => {
    for (const e of s.events) if (e.type === 'UPDATE') errors.set(e.update.status.task_id.value + '#' + errors.size, e.update.status);
    return s.count('UPDATE') >= 7;
  }, '7 TASK_ERROR updates');
  const updates = s.events.filter((e) => e.type === 'UPDATE').map((e) => e.update.status);
  for (const u of updates) {
    assert.equal(u.state, 'TASK_ERROR');
    assert.equal(u.reason, 'REASON_TASK_INVALID');
    assert.equal(u.source, 'SOURCE_MASTER');
    assert.equal(u.uuid, undefined);
  }
  const byId = (id: string) => updates.find((u) => u.task_id.value === id)!.message as string;
  assert.equal(byId('good'), 'Task has duplicate ID: good');
  assert.match(byId('../bad'), /^Task ID is invalid: /);
  assert.match(byId('greedy'), /^Task uses more resources .* than available /);
  assert.equal(byId('wrong-agent'), `Task uses invalid agent: other-agent while agent ${agentId} is expected`);
  assert.equal(byId('nothing'), 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present');
  assert.equal(byId('no-resources'), 'Task uses no resources');
  assert.match(byId('bad-resources'), /^Task uses invalid resources: /);
  assert.equal(agent.count('RunTaskMessage'), 1);
});

test('decline filter holds the agent back for refuse_seconds; unused ACCEPT leftovers too', async (t) => {
  const { c, s, offer } = await setup(t);
  await s.call({ type: 'DECLINE', decline: { offer_ids: [offer.id], filters: { refuse_seconds: 10 } } });
  await until(() => [...c.master.master.offers].length === 0, 'offer gone');
  for (let i = 0; i < 9; i++) {
    c.clock.advance(1000);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(s.count('OFFERS'), 1);
  c.clock.advance(2000);
  const again = await s.next('OFFERS');
  assert.notEqual(again.offers.offers[0].id.value, offer.id.value);
  assert.equal(s.count('OFFERS'), 2);
});

test('custom executor launch, MESSAGE both ways, ExitedExecutor -> FAILURE, SHUTDOWN', async (t) => {
  const { s, agentId, agent, offer } = await setup(t);
  const executor = { executor_id: { value: 'ex1' }, command: { value: './my-executor' }, resources: [scalar('cpus', 0.5)] };
  const task = { name: 't', task_id: { value: 't1' }, agent_id: { value: agentId }, resources: [scalar('cpus', 1)], executor };
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: launch([task]) } });
  const run = await agent.next('RunTaskMessage');
  assert.equal(run.launch_executor, true);
  assert.equal(run.task.executor.executor_id.value, 'ex1');
  assert.equal(run.task.executor.framework_id.value, s.frameworkId);

  // A second task for the running executor: only the task's resources, no new executor.
  await s.call({ type: 'REVIVE' });
  const next = (await s.next('OFFERS')).offers.offers[0];
  assert.deepEqual(next.executor_ids, [{ value: 'ex1' }]);
  assert.equal(next.resources.find((r: Msg) => r.name === 'cpus').scalar.value, 2.5);
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [next.id], operations: launch([{ ...task, task_id: { value: 't2' } }]) } });
  const run2 = await agent.next('RunTaskMessage');
  assert.equal(run2.task.task_id.value, 't2');
  assert.equal(run2.launch_executor, false);

  await s.call({ type: 'MESSAGE', message: { agent_id: { value: agentId }, executor_id: { value: 'ex1' }, data: Buffer.from('hi') } });
  const toExec = await agent.next('FrameworkToExecutorMessage');
  assert.equal(Buffer.from(toExec.data).toString(), 'hi');
  assert.equal(toExec.executor_id.value, 'ex1');

  agent.send('ExecutorToFrameworkMessage', {
    slave_id: { value: agentId }, framework_id: { value: s.frameworkId }, executor_id: { value: 'ex1' }, data: Buffer.from('yo'),
  });
  const m = await s.next('MESSAGE');
  assert.equal(Buffer.from(m.message.data).toString(), 'yo');
  assert.equal(m.message.agent_id.value, agentId);

  await s.call({ type: 'SHUTDOWN', shutdown: { agent_id: { value: agentId }, executor_id: { value: 'ex1' } } });
  const sd = await agent.next('ShutdownExecutorMessage');
  assert.equal(sd.executor_id.value, 'ex1');

  agent.send('ExitedExecutorMessage', {
    slave_id: { value: agentId }, framework_id: { value: s.frameworkId }, executor_id: { value: 'ex1' }, status: 9,
  });
  const f = await s.next('FAILURE');
  assert.equal(f.failure.executor_id.value, 'ex1');
  assert.equal(f.failure.status, 9);
});

test('KILL reaches the agent; KILL of an unknown task answers like reconciliation', async (t) => {
  const { s, agentId, agent, offer } = await setup(t);
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: launch([commandTask('t1', agentId, [scalar('cpus', 1)])]) } });
  await agent.next('RunTaskMessage');
  await s.call({ type: 'KILL', kill: { task_id: { value: 't1' }, agent_id: { value: agentId } } });
  const k = await agent.next('KillTaskMessage');
  assert.equal(k.task_id.value, 't1');
  assert.equal(k.framework_id.value, s.frameworkId);

  await s.call({ type: 'KILL', kill: { task_id: { value: 'ghost' }, agent_id: { value: agentId } } });
  const u = await s.next('UPDATE', (e) => e.update.status.task_id.value === 'ghost');
  assert.equal(u.update.status.state, 'TASK_LOST');
  assert.equal(u.update.status.reason, 'REASON_RECONCILIATION');
});

test('TEARDOWN: agents get ShutdownFrameworkMessage, tasks end TASK_KILLED/REASON_FRAMEWORK_REMOVED', async (t) => {
  const { c, s, agentId, agent, offer } = await setup(t);
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: launch([commandTask('t1', agentId, [scalar('cpus', 1)])]) } });
  await agent.next('RunTaskMessage');
  const r = await s.call({ type: 'TEARDOWN' });
  assert.equal(r.status, 202);
  const sd = await agent.next('ShutdownFrameworkMessage');
  assert.equal(sd.framework_id.value, s.frameworkId);
  const state = await getJson(c.url, '/master/state');
  assert.equal(state.frameworks.length, 0);
  assert.equal(state.completed_frameworks.length, 1);
  const done = state.completed_frameworks[0].completed_tasks[0];
  assert.equal(done.state, 'TASK_KILLED');
  assert.equal(done.statuses.at(-1).state, 'TASK_KILLED');
  const metrics = await getJson(c.url, '/metrics/snapshot');
  assert.equal(metrics['master/tasks_killed'], 1);
  assert.equal(metrics['master/cpus_used'], 0);
});

test('disconnect with failover_timeout 0 removes the framework at once', async (t) => {
  const { c, s, agentId, agent, offer } = await setup(t);
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: launch([commandTask('t1', agentId, [scalar('cpus', 1)])]) } });
  await agent.next('RunTaskMessage');
  s.disconnect();
  await agent.next('ShutdownFrameworkMessage');
  assert.equal([...c.master.master.frameworks].length, 0);
});

test('status update for an unknown task is forwarded but counted invalid; unknown agent ignored', async (t) => {
  const { c, s, agent } = await setup(t);
  agent.statusUpdate(s.frameworkId!, 'never-launched', 'TASK_RUNNING', uuidBytes());
  await s.next('UPDATE');
  await until(() => c.master.master.counters.get('master/invalid_status_updates') === 1, 'invalid counted');
});

test('LAUNCH_GROUP sends one RunTaskGroupMessage; a bad group fails every task', async (t) => {
  const { s, agentId, agent, offer } = await setup(t);
  const executor = { executor_id: { value: 'default' }, type: 'DEFAULT', resources: [scalar('cpus', 0.1), scalar('mem', 32)] };
  const member = (id: string) => ({ name: id, task_id: { value: id }, agent_id: { value: agentId }, resources: [scalar('cpus', 0.5)], command: { value: 'true' } });
  await s.call({
    type: 'ACCEPT',
    accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks: [member('g1'), member('g2')] } } }] },
  });
  const run = await agent.next('RunTaskGroupMessage');
  assert.equal(run.executor.executor_id.value, 'default');
  assert.equal(run.executor.framework_id.value, s.frameworkId);
  assert.deepEqual(run.task_group.tasks.map((x: Msg) => x.task_id.value), ['g1', 'g2']);
  assert.equal(run.launch_executor, true);

  await s.call({ type: 'REVIVE' });
  const next = (await s.next('OFFERS')).offers.offers[0];
  await s.call({
    type: 'ACCEPT',
    accept: {
      offer_ids: [next.id],
      operations: [{ type: 'LAUNCH_GROUP', launch_group: { executor: { ...executor, executor_id: { value: 'e2' } }, task_group: { tasks: [member('g3'), { ...member('g4'), resources: [scalar('cpus', 99)] }] } } }],
    },
  });
  const u1 = await s.next('UPDATE');
  const u2 = await s.next('UPDATE');
  assert.deepEqual([u1, u2].map((u) => u.update.status.task_id.value).sort(), ['g3', 'g4']);
  for (const u of [u1, u2]) {
    assert.equal(u.update.status.state, 'TASK_ERROR');
    assert.equal(u.update.status.reason, 'REASON_TASK_GROUP_INVALID');
  }
  assert.equal(agent.count('RunTaskGroupMessage'), 1);
});

test('--offer_timeout rescinds offers that were not used', async (t) => {
  const { c, s, offer } = await setup(t, FRAMEWORK, ['--offer_timeout=30secs']);
  c.clock.advance(29_000);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.count('RESCIND'), 0);
  c.clock.advance(1000);
  const r = await s.next('RESCIND');
  assert.equal(r.rescind.offer_id.value, offer.id.value);
});

test('UPDATE_FRAMEWORK removing a role rescinds its offers and tells the agents', async (t) => {
  const info = { ...FRAMEWORK, capabilities: [{ type: 'MULTI_ROLE' }], roles: ['a'] };
  const { s, offer, agent, agentId } = await setup(t, info);
  assert.equal(offer.allocation_info.role, 'a');
  const r = await s.call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...info, id: { value: s.frameworkId }, roles: ['b'] } } });
  assert.equal(r.status, 200);
  const rescind = await s.next('RESCIND');
  assert.equal(rescind.rescind.offer_id.value, offer.id.value);
  const o2 = (await s.next('OFFERS')).offers.offers[0];
  assert.equal(o2.allocation_info.role, 'b');
  assert.equal(o2.agent_id.value, agentId);
  const upd = await agent.next('UpdateFrameworkMessage');
  assert.equal(upd.framework_id.value, s.frameworkId);
  assert.deepEqual(upd.framework_info.roles, ['b']);
});

test('offer constraints: only matching agents are offered; invalid constraints are refused', async (t) => {
  const c = await startTestMaster();
  const r1 = await FakeAgent.start(c.master.pid);
  const r2 = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await r1.stop();
    await r2.stop();
    await c.master.stop();
  });
  const rack = (v: string) => [{ name: 'rack', type: 'TEXT', text: { value: v } }];
  const id1 = await r1.register('cpus:2;mem:512', 'h1', rack('r1'));
  await r2.register('cpus:2;mem:512', 'h2', rack('r2'));
  const info = { ...FRAMEWORK, capabilities: [{ type: 'MULTI_ROLE' }], roles: ['a'] };
  const onlyR1 = {
    role_constraints: { a: { groups: [{ attribute_constraints: [{ selector: { attribute_name: 'rack' }, predicate: { text_equals: { value: 'r1' } } }] }] } },
  };

  const bad = new Scheduler(c.url);
  t.after(() => bad.disconnect());
  await bad.subscribe(info, { offer_constraints: { role_constraints: { a: { groups: [] } } } });
  assert.match((await bad.next('ERROR')).error.message, /^Offer constraints are not valid: /);
  const bad2 = new Scheduler(c.url);
  t.after(() => bad2.disconnect());
  await bad2.subscribe(info, { offer_constraints: { role_constraints: { b: onlyR1.role_constraints.a } } });
  assert.match((await bad2.next('ERROR')).error.message, /role 'b', which is not in the framework's roles/);

  await s.subscribe(info, { offer_constraints: onlyR1 });
  await s.next('SUBSCRIBED');
  const offers = (await s.next('OFFERS')).offers.offers;
  c.clock.advance(3000);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual([...c.master.master.offers].map((o) => o.agentId), [id1]);
  assert.equal(offers[0].agent_id.value, id1);
  const state = await getJson(c.url, '/master/state');
  assert.equal(state.frameworks[0].offer_constraints.role_constraints.a.groups.length, 1);

  const upd = await s.call({
    type: 'UPDATE_FRAMEWORK',
    update_framework: { framework_info: { ...info, id: { value: s.frameworkId } }, offer_constraints: { role_constraints: { a: { groups: [] } } } },
  });
  assert.equal(upd.status, 400);
  assert.match(upd.body, /^Offer constraints are not valid/);
});
