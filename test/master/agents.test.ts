// Agent health (FT-04): pings and pongs, unreachable after missed pongs, re-registration,
// link breaks; and reconciliation (TSK-05) across those agent states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuidBytes } from '../../src/common/ids.js';
import { FRAMEWORK, FakeAgent, PA_FRAMEWORK, Scheduler, type Msg, commandTask, getJson, scalar, startTestMaster, until } from './helpers.js';

const tick = () => new Promise((r) => setTimeout(r, 10));

async function launchOne(s: Scheduler, agent: FakeAgent, agentId: string, taskId: string): Promise<Msg> {
  const offer = (await s.next('OFFERS')).offers.offers[0];
  await s.call({
    type: 'ACCEPT',
    accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [commandTask(taskId, agentId, [scalar('cpus', 1)])] } }] },
  });
  return agent.next('RunTaskMessage');
}

test('pings every agent_ping_timeout; missed pongs make the agent unreachable; it can re-register', async (t) => {
  const c = await startTestMaster(['--agent_ping_timeout=10secs', '--max_agent_ping_timeouts=3']);
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register();
  const reg = agent.received.find((r) => r.name === 'SlaveRegisteredMessage')!.msg;
  assert.equal(reg.connection.total_ping_timeout_seconds, 30);
  await agent.next('PingSlaveMessage');
  const ping = agent.received.find((r) => r.name === 'PingSlaveMessage')!;
  assert.match(ping.from, /^slave-observer\(\d+\)@127\.0\.0\.1:\d+$/);
  assert.equal(ping.msg.connected, true);

  await s.subscribe(PA_FRAMEWORK);
  await s.next('SUBSCRIBED');
  const run = await launchOne(s, agent, agentId, 't1');
  const uuid = uuidBytes();
  agent.statusUpdate(s.frameworkId!, 't1', 'TASK_RUNNING', uuid);
  await s.next('UPDATE');
  await s.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: agentId }, task_id: { value: 't1' }, uuid } });

  // Pongs keep it alive well past the total ping timeout.
  for (let i = 0; i < 6; i++) {
    c.clock.advance(10_000);
    await until(() => agent.count('PingSlaveMessage') >= i + 2, 'ping');
    await tick();
  }
  assert.ok(c.master.master.agent(agentId));

  // The ping in flight was answered; the next three go unanswered.
  agent.autoPong = false;
  for (let i = 0; i < 3; i++) {
    c.clock.advance(10_000);
    await tick();
    assert.ok(c.master.master.agent(agentId), `still registered after ${i} missed pongs`);
  }
  c.clock.advance(10_000);
  await until(() => c.master.master.agent(agentId) === undefined, 'agent removed');
  const lost = await s.next('UPDATE', (e) => e.update.status.task_id.value === 't1');
  assert.equal(lost.update.status.state, 'TASK_UNREACHABLE');
  assert.equal(lost.update.status.reason, 'REASON_AGENT_REMOVED');
  assert.equal(lost.update.status.source, 'SOURCE_MASTER');
  assert.ok(lost.update.status.unreachable_time);
  const failure = await s.next('FAILURE');
  assert.equal(failure.failure.agent_id.value, agentId);
  let metrics = await getJson(c.url, '/metrics/snapshot');
  assert.equal(metrics['master/slaves_unreachable'], 1);
  assert.equal(metrics['master/tasks_unreachable'], 1);

  // Explicit reconciliation of the task answers its unreachable state.
  await s.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' }, agent_id: { value: agentId } }] } });
  const rec = await s.next('UPDATE', (e) => e.update.status.reason === 'REASON_RECONCILIATION');
  assert.equal(rec.update.status.state, 'TASK_UNREACHABLE');
  // A task never seen on that unreachable agent.
  await s.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'ghost' }, agent_id: { value: agentId } }] } });
  const ghost = await s.next('UPDATE', (e) => e.update.status.task_id.value === 'ghost');
  assert.equal(ghost.update.status.state, 'TASK_UNREACHABLE');
  assert.equal(ghost.update.status.message, 'Reconciliation: Task is unreachable');

  // The agent comes back with its task.
  agent.autoPong = true;
  agent.send('ReregisterSlaveMessage', {
    slave: { id: { value: agentId }, hostname: 'agent-host', port: 5051, resources: [scalar('cpus', 4), scalar('mem', 1024)] },
    version: '1.11.0',
    tasks: [{
      name: 't1', task_id: { value: 't1' }, framework_id: { value: s.frameworkId }, agent_id: { value: agentId }, state: 'TASK_RUNNING',
      resources: run.task.resources,
    }],
    frameworks: [{ ...PA_FRAMEWORK, id: { value: s.frameworkId } }],
  });
  const rereg = await agent.next('SlaveReregisteredMessage');
  assert.equal(rereg.slave_id.value, agentId);
  const fw = c.master.master.framework(s.frameworkId)!;
  assert.equal(fw.tasks.get('t1')!.state, 'TASK_RUNNING');
  assert.equal(fw.unreachableTasks.size, 0);
  metrics = await getJson(c.url, '/metrics/snapshot');
  assert.equal(metrics['master/slaves_unreachable'], 0);
  assert.equal(metrics['master/slaves_active'], 1);
  assert.equal(metrics['master/cpus_used'], 1);
  const state = await getJson(c.url, '/master/state');
  assert.equal(state.frameworks[0].used_resources.cpus, 1);
  assert.equal(state.frameworks[0].tasks[0].state, 'TASK_RUNNING');
});

test('agent link breaks: deactivated, offers rescinded, tasks of non-checkpointing frameworks lost', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await c.master.stop();
  });
  const agentId = await agent.register();
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  await launchOne(s, agent, agentId, 't1');
  // Let a second offer go out for the remaining resources (after the 5 s default filter).
  c.clock.advance(6000);
  const offers = await s.next('OFFERS');
  await agent.stop();
  const rescind = await s.next('RESCIND');
  assert.equal(rescind.rescind.offer_id.value, offers.offers.offers[0].id.value);
  const lost = await s.next('UPDATE');
  assert.equal(lost.update.status.state, 'TASK_LOST');
  assert.equal(lost.update.status.reason, 'REASON_AGENT_DISCONNECTED');
  const state = await getJson(c.url, '/master/state');
  assert.equal(state.slaves[0].active, false);
  assert.equal(state.deactivated_slaves, 1);
  const metrics = await getJson(c.url, '/metrics/snapshot');
  assert.equal(metrics['master/slaves_disconnected'], 1);
});

test('reconciliation: implicit returns latest states; explicit follows TSK-05 per agent state', async (t) => {
  for (const fwInfo of [FRAMEWORK, PA_FRAMEWORK]) {
    const pa = fwInfo === PA_FRAMEWORK;
    const c = await startTestMaster();
    const agent = await FakeAgent.start(c.master.pid);
    const s = new Scheduler(c.url);
    t.after(async () => {
      s.disconnect();
      await agent.stop();
      await c.master.stop();
    });
    const agentId = await agent.register();
    await s.subscribe(fwInfo);
    await s.next('SUBSCRIBED');
    await launchOne(s, agent, agentId, 't1');
    // An unacknowledged RUNNING update: reconciliation reports it.
    agent.statusUpdate(s.frameworkId!, 't1', 'TASK_RUNNING', uuidBytes());
    await s.next('UPDATE');

    await s.call({ type: 'RECONCILE', reconcile: {} });
    const implicit = await s.next('UPDATE');
    assert.equal(implicit.update.status.task_id.value, 't1');
    assert.equal(implicit.update.status.state, 'TASK_RUNNING');
    assert.equal(implicit.update.status.reason, 'REASON_RECONCILIATION');
    assert.equal(implicit.update.status.source, 'SOURCE_MASTER');
    assert.equal(implicit.update.status.message, 'Reconciliation: Latest task state');
    assert.equal(implicit.update.status.uuid, undefined);
    assert.equal(implicit.update.status.agent_id.value, agentId);

    const ask = async (taskId: string, agent?: string) => {
      const req: Msg = { task_id: { value: taskId } };
      if (agent) req.agent_id = { value: agent };
      await s.call({ type: 'RECONCILE', reconcile: { tasks: [req] } });
      return (await s.next('UPDATE', (e) => e.update.status.task_id.value === taskId)).update.status;
    };
    let st = await ask('t1', agentId);
    assert.equal(st.state, 'TASK_RUNNING');
    st = await ask('t1');
    assert.equal(st.state, 'TASK_RUNNING');
    st = await ask('ghost1', agentId);
    assert.equal(st.state, pa ? 'TASK_GONE' : 'TASK_LOST');
    assert.equal(st.message, 'Reconciliation: Task is unknown to the agent');
    st = await ask('ghost2', 'no-such-agent');
    assert.equal(st.state, pa ? 'TASK_UNKNOWN' : 'TASK_LOST');
    assert.equal(st.message, 'Reconciliation: Task is unknown');
    st = await ask('ghost3');
    assert.equal(st.state, pa ? 'TASK_UNKNOWN' : 'TASK_LOST');
    assert.equal(st.reason, 'REASON_RECONCILIATION');
    assert.equal(st.uuid, undefined);
  }
});

test('agent registration retries get the same id; unregistering removes the agent', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const id1 = await agent.register();
  const id2 = await agent.register();
  assert.equal(id1, id2);
  assert.equal([...c.master.master.agents].length, 1);
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  await s.next('OFFERS');
  agent.send('UnregisterSlaveMessage', { slave_id: { value: id1 } });
  await s.next('RESCIND');
  const failure = await s.next('FAILURE');
  assert.equal(failure.failure.agent_id.value, id1);
  assert.equal([...c.master.master.agents].length, 0);
});

test('an agent that registers again from the address of a disconnected agent replaces it', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const first = await agent.register();
  // Checkpointing, so the task outlives the disconnection and is only lost with the agent.
  await s.subscribe({ ...PA_FRAMEWORK, checkpoint: true });
  await s.next('SUBSCRIBED');
  await launchOne(s, agent, first, 't1');
  c.master.master.exited(agent.pid);
  assert.equal(c.master.master.agent(first)!.connected, false);
  const second = await agent.register();
  assert.notEqual(second, first);
  assert.equal(c.master.master.agent(first), undefined);
  const gone = await s.next('UPDATE', (e) => e.update.status.task_id.value === 't1');
  assert.equal(gone.update.status.state, 'TASK_GONE');
  assert.equal(gone.update.status.reason, 'REASON_AGENT_REMOVED');
  await s.next('FAILURE', (e) => e.failure.agent_id.value === first);
});

test('a known agent re-registering with more resources is offered them', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register('cpus:4;mem:1024');
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  const first = (await s.next('OFFERS')).offers.offers[0];
  assert.equal(first.resources.find((r: Msg) => r.name === 'cpus').scalar.value, 4);
  agent.send('ReregisterSlaveMessage', {
    slave: { id: { value: agentId }, hostname: 'agent-host', port: 5051, resources: [scalar('cpus', 8), scalar('mem', 1024)] },
    version: '1.11.0',
  });
  await agent.next('SlaveReregisteredMessage');
  await s.call({ type: 'DECLINE', decline: { offer_ids: [first.id], filters: { refuse_seconds: 0 } } });
  c.clock.advance(1000);
  // The 4 new cpus may come in their own offer; together the outstanding offers hold all 8.
  const offeredCpus = () => [...c.master.master.offers].reduce((n, o) => n + o.resources.scalar('cpus'), 0);
  await until(() => offeredCpus() === 8, 'all 8 cpus offered');
  assert.equal((await getJson(c.url, '/master/state')).slaves[0].resources.cpus, 8);
});

test('an agent retrying the same re-registration gets the same answer each time; a changed one is handled in full', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register('cpus:4;mem:1024');
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  await launchOne(s, agent, agentId, 't1');
  const reregistration = {
    slave: { id: { value: agentId }, hostname: 'agent-host', port: 5051, resources: [scalar('cpus', 4), scalar('mem', 1024)] },
    version: '1.11.0',
  };
  const replies = () => agent.received.filter((r) => r.name === 'SlaveReregisteredMessage').map((r) => r.msg);
  // It does not report t1, so every answer (the retries' too) hands t1 back for reconciliation.
  for (let i = 1; i <= 3; i++) {
    agent.send('ReregisterSlaveMessage', reregistration);
    await until(() => replies().length === i, `reply ${i}`);
    const reply = replies()[i - 1]!;
    assert.equal(reply.slave_id.value, agentId);
    assert.deepEqual(reply.reconciliations.map((r: Msg) => r.statuses.map((st: Msg) => st.task_id.value)), [['t1']]);
    const status = reply.reconciliations[0].statuses[0];
    assert.equal(status.source, 'SOURCE_MASTER');
    assert.equal(status.agent_id.value, agentId);
    assert.equal(status.uuid, undefined);
  }
  let metrics = await getJson(c.url, '/metrics/snapshot');
  assert.equal(metrics['master/messages_reregister_slave'], 3);
  assert.equal(metrics['master/slave_reregistrations'], 3);
  // A body that differs is not a retry: the new resources are taken.
  agent.send('ReregisterSlaveMessage', { ...reregistration, slave: { ...reregistration.slave, resources: [scalar('cpus', 8), scalar('mem', 1024)] } });
  await until(() => replies().length === 4, 'reply 4');
  assert.equal((await getJson(c.url, '/master/state')).slaves[0].resources.cpus, 8);
  metrics = await getJson(c.url, '/metrics/snapshot');
  assert.equal(metrics['master/messages_reregister_slave'], 4);
});

test('MARK_AGENT_GONE of an unreachable agent keeps completed tasks within --max_completed_tasks_per_framework', async (t) => {
  const c = await startTestMaster(['--agent_ping_timeout=10secs', '--max_agent_ping_timeouts=1', '--max_completed_tasks_per_framework=0']);
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register();
  await s.subscribe(PA_FRAMEWORK);
  await s.next('SUBSCRIBED');
  await launchOne(s, agent, agentId, 't1');
  agent.autoPong = false;
  for (let i = 0; i < 5 && c.master.master.agent(agentId); i++) {
    c.clock.advance(10_000);
    await tick();
  }
  await until(() => c.master.master.agent(agentId) === undefined, 'agent unreachable');
  const fw = c.master.master.framework(s.frameworkId!)!;
  assert.equal(fw.unreachableTasks.size, 1);
  assert.equal(c.master.master.markAgentGone(agentId), undefined);
  const gone = await s.next('UPDATE', (e) => e.update.status.state === 'TASK_GONE_BY_OPERATOR');
  assert.equal(gone.update.status.task_id.value, 't1');
  assert.equal(fw.unreachableTasks.size, 0);
  assert.equal(fw.completedTasks.length, 0);
});
