// Operator API on the master (POST /api/v1): GET_* calls, weights, teardown, errors, SUBSCRIBE events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { uuidBytes } from '../../src/common/ids.js';
import { decodeProto, encodeProto, fromJson } from '../../src/protocol/codec.js';
import { RecordIOReader } from '../../src/protocol/recordio.js';
import { FRAMEWORK, FakeAgent, type Msg, Scheduler, commandTask, request, scalar, startTestMaster, until } from './helpers.js';

async function call(url: string, body: Msg, encoding: 'json' | 'protobuf' = 'json'): Promise<{ status: number; body: string; msg?: Msg }> {
  const payload = encoding === 'json' ? JSON.stringify(body) : encodeProto('mesos.v1.master.Call', body);
  const ct = encoding === 'json' ? 'application/json' : 'application/x-protobuf';
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/v1`, { method: 'POST', agent: false, headers: { 'Content-Type': ct, Accept: ct } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        let msg: Msg | undefined;
        if (status === 200 && raw.length > 0) {
          msg = encoding === 'json' ? fromJson('mesos.v1.master.Response', JSON.parse(raw.toString())) : decodeProto('mesos.v1.master.Response', raw);
        }
        resolve({ status, body: raw.toString(), msg });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

test('GET_* calls answer from the master state, in JSON and protobuf', async (t) => {
  const c = await startTestMaster(['--weights=ops=2']);
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register();
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  const offer = (await s.next('OFFERS')).offers.offers[0];
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [commandTask('t1', agentId, [scalar('cpus', 1)])] } }] } });
  await agent.next('RunTaskMessage');

  for (const enc of ['json', 'protobuf'] as const) {
    const health = await call(c.url, { type: 'GET_HEALTH' }, enc);
    assert.equal(health.status, 200);
    assert.equal(health.msg!.get_health.healthy, true);
    const state = (await call(c.url, { type: 'GET_STATE' }, enc)).msg!.get_state;
    assert.equal(state.get_agents.agents[0].agent_info.id.value, agentId);
    assert.equal(state.get_agents.agents[0].pid, agent.pid);
    assert.equal(state.get_frameworks.frameworks[0].framework_info.id.value, s.frameworkId);
    assert.equal(state.get_frameworks.frameworks[0].connected, true);
    assert.equal(state.get_tasks.tasks[0].task_id.value, 't1');
    assert.equal(state.get_tasks.tasks[0].state, 'TASK_STAGING');
    assert.equal(state.get_tasks.tasks[0].agent_id.value, agentId);
  }
  const master = (await call(c.url, { type: 'GET_MASTER' })).msg!.get_master;
  assert.equal(master.master_info.id, c.master.master.id);
  const flags = (await call(c.url, { type: 'GET_FLAGS' })).msg!.get_flags.flags as Msg[];
  assert.equal(flags.find((f) => f.name === 'weights')!.value, 'ops=2');
  const metrics = (await call(c.url, { type: 'GET_METRICS' })).msg!.get_metrics.metrics as Msg[];
  assert.equal(metrics.find((m) => m.name === 'master/tasks_staging')!.value, 1);
  const version = (await call(c.url, { type: 'GET_VERSION' })).msg!.get_version.version_info;
  assert.equal(version.version, '1.11.0');
  const tasks = (await call(c.url, { type: 'GET_TASKS' })).msg!.get_tasks;
  assert.equal(tasks.tasks.length, 1);

  let weights = (await call(c.url, { type: 'GET_WEIGHTS' })).msg!.get_weights.weight_infos as Msg[];
  assert.deepEqual(weights, [{ role: 'ops', weight: 2 }]);
  assert.equal((await call(c.url, { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'dev', weight: 3 }] } })).status, 200);
  weights = (await call(c.url, { type: 'GET_WEIGHTS' })).msg!.get_weights.weight_infos as Msg[];
  assert.deepEqual(weights.map((w) => w.role).sort(), ['dev', 'ops']);
  assert.equal((await call(c.url, { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'x', weight: -1 }] } })).status, 400);
  const roles = (await call(c.url, { type: 'GET_ROLES' })).msg!.get_roles.roles as Msg[];
  const star = roles.find((r) => r.name === '*')!;
  assert.deepEqual(star.frameworks, [{ value: s.frameworkId }]);
  assert.equal(roles.find((r) => r.name === 'dev')!.weight, 3);
});

test('operator API errors and TEARDOWN', async (t) => {
  const c = await startTestMaster();
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await c.master.stop();
  });
  let r = await request(c.url, '/api/v1');
  assert.equal(r.status, 405);
  r = await request(c.url, '/master/api/v1', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
  assert.equal(r.status, 415);
  r = await request(c.url, '/api/v1', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' });
  assert.equal(r.status, 400);
  assert.match(r.body, /^Failed to parse body into JSON/);
  r = await request(c.url, '/api/v1', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'text/html' }, body: '{"type":"GET_HEALTH"}' });
  assert.equal(r.status, 406);
  assert.equal((await call(c.url, { type: 'NOPE' })).body, "Failed to validate master::Call: Expecting 'type' to be present");
  assert.equal((await call(c.url, { type: 'TEARDOWN' })).body, "Failed to validate master::Call: Expecting 'teardown' to be present");
  assert.equal((await call(c.url, { type: 'UNKNOWN' })).status, 501);
  const td = await call(c.url, { type: 'TEARDOWN', teardown: { framework_id: { value: 'nope' } } });
  assert.equal(td.status, 400);
  assert.equal(td.body, 'No framework found with specified ID');

  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  assert.equal((await call(c.url, { type: 'TEARDOWN', teardown: { framework_id: { value: s.frameworkId } } })).status, 200);
  await until(() => s.closed, 'scheduler stream closed');
  assert.equal(c.master.master.completedFrameworks.length, 1);
});

test('SUBSCRIBE streams SUBSCRIBED, HEARTBEAT and agent/framework/task events', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  const events: Msg[] = [];
  let res: http.IncomingMessage | undefined;
  const req = http.request(`${c.url}/api/v1`, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', Accept: 'application/json' } });
  req.on('response', (r) => {
    res = r;
    const reader = new RecordIOReader();
    r.on('data', (chunk: Buffer) => {
      for (const rec of reader.push(chunk)) events.push(fromJson('mesos.v1.master.Event', JSON.parse(rec.toString())));
    });
  });
  req.on('error', () => {});
  req.end(JSON.stringify({ type: 'SUBSCRIBE' }));
  t.after(async () => {
    req.destroy();
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const waitFor = async (type: string) => {
    await until(() => events.some((e) => e.type === type), type);
    return events.find((e) => e.type === type)!;
  };
  const subscribed = await waitFor('SUBSCRIBED');
  assert.equal(res!.statusCode, 200);
  assert.equal(res!.headers['content-type'], 'application/json');
  assert.equal(subscribed.subscribed.heartbeat_interval_seconds, 15);
  assert.deepEqual(subscribed.subscribed.get_state.get_agents.agents ?? [], []);
  await waitFor('HEARTBEAT');

  const agentId = await agent.register();
  const added = await waitFor('AGENT_ADDED');
  assert.equal(added.agent_added.agent.agent_info.id.value, agentId);
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  const fwAdded = await waitFor('FRAMEWORK_ADDED');
  assert.equal(fwAdded.framework_added.framework.framework_info.id.value, s.frameworkId);
  const offer = (await s.next('OFFERS')).offers.offers[0];
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [commandTask('t1', agentId, [scalar('cpus', 1)])] } }] } });
  const taskAdded = await waitFor('TASK_ADDED');
  assert.equal(taskAdded.task_added.task.task_id.value, 't1');
  agent.statusUpdate(s.frameworkId!, 't1', 'TASK_RUNNING', uuidBytes());
  const updated = await waitFor('TASK_UPDATED');
  assert.equal(updated.task_updated.state, 'TASK_RUNNING');
  assert.equal(updated.task_updated.framework_id.value, s.frameworkId);
  await s.call({ type: 'TEARDOWN' });
  const removed = await waitFor('FRAMEWORK_REMOVED');
  assert.equal(removed.framework_removed.framework_info.id.value, s.frameworkId);
  agent.send('UnregisterSlaveMessage', { slave_id: { value: agentId } });
  const agentRemoved = await waitFor('AGENT_REMOVED');
  assert.equal(agentRemoved.agent_removed.agent_id.value, agentId);
  const before = events.filter((e) => e.type === 'HEARTBEAT').length;
  c.clock.advance(15_000);
  await until(() => events.filter((e) => e.type === 'HEARTBEAT').length === before + 1, 'second heartbeat');
});

test('MARK_AGENT_GONE, DEACTIVATE_AGENT and REACTIVATE_AGENT', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register();
  await s.subscribe({ ...FRAMEWORK, capabilities: [{ type: 'PARTITION_AWARE' }] });
  await s.next('SUBSCRIBED');
  const offer = (await s.next('OFFERS')).offers.offers[0];

  // Deactivated: its offer is rescinded and nothing more is offered until reactivated.
  assert.equal((await call(c.url, { type: 'DEACTIVATE_AGENT', deactivate_agent: { agent_id: { value: agentId } } })).status, 200);
  const rescind = await s.next('RESCIND');
  assert.equal(rescind.rescind.offer_id.value, offer.id.value);
  const state = (await call(c.url, { type: 'GET_AGENTS' })).msg!.get_agents;
  assert.equal(state.agents[0].deactivated, true);
  c.clock.advance(10_000);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.count('OFFERS'), 1);
  assert.equal((await call(c.url, { type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: agentId } } })).status, 200);
  const again = (await s.next('OFFERS')).offers.offers[0];
  assert.equal((await call(c.url, { type: 'DEACTIVATE_AGENT', deactivate_agent: { agent_id: { value: 'nope' } } })).status, 404);

  await s.call({ type: 'ACCEPT', accept: { offer_ids: [again.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [commandTask('t1', agentId, [scalar('cpus', 1)])] } }] } });
  await agent.next('RunTaskMessage');
  assert.equal((await call(c.url, { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: agentId } } })).status, 200);
  const shutdown = await agent.next('ShutdownMessage');
  assert.equal(shutdown.message, 'Agent has been marked gone');
  const gone = await s.next('UPDATE', (e) => e.update.status.task_id.value === 't1');
  assert.equal(gone.update.status.state, 'TASK_GONE_BY_OPERATOR');
  assert.equal(gone.update.status.reason, 'REASON_AGENT_REMOVED_BY_OPERATOR');
  await s.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'ghost' }, agent_id: { value: agentId } }] } });
  const rec = await s.next('UPDATE', (e) => e.update.status.task_id.value === 'ghost');
  assert.equal(rec.update.status.state, 'TASK_GONE_BY_OPERATOR');
  const again2 = await call(c.url, { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: agentId } } });
  assert.equal(again2.status, 400);
  // A gone agent that comes back is told to shut down.
  agent.send('ReregisterSlaveMessage', { slave: { id: { value: agentId }, hostname: 'agent-host', resources: [] }, version: '1.11.0' });
  await agent.next('ShutdownMessage');
});

test('DRAIN_AGENT: offers stop, the agent is told, DRAINED once its tasks end, then gone with mark_gone', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register();
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  const offer = (await s.next('OFFERS')).offers.offers[0];
  await s.call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [commandTask('t1', agentId, [scalar('cpus', 1)])] } }] } });
  await agent.next('RunTaskMessage');
  c.clock.advance(6000);
  await s.next('OFFERS');

  assert.equal((await call(c.url, { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: 'nope' } } })).status, 404);
  const r = await call(c.url, { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agentId }, max_grace_period: { seconds: 5 }, mark_gone: true } });
  assert.equal(r.status, 200);
  const drain = await agent.next('DrainSlaveMessage');
  assert.equal(drain.config.max_grace_period.nanoseconds, 5e9);
  assert.equal(drain.config.mark_gone, true);
  await s.next('RESCIND');
  let agents = (await call(c.url, { type: 'GET_AGENTS' })).msg!.get_agents.agents;
  assert.equal(agents[0].drain_info.state, 'DRAINING');
  assert.equal(agents[0].deactivated, true);

  // The agent kills the task; once the terminal update is acknowledged the agent is drained, then gone.
  const uuid = uuidBytes();
  agent.statusUpdate(s.frameworkId!, 't1', 'TASK_KILLED', uuid, { reason: 'REASON_AGENT_DRAINING' });
  await s.next('UPDATE', (e) => e.update.status.state === 'TASK_KILLED');
  agents = (await call(c.url, { type: 'GET_AGENTS' })).msg!.get_agents.agents;
  assert.equal(agents[0].drain_info.state, 'DRAINING');
  await s.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: agentId }, task_id: { value: 't1' }, uuid } });
  const shutdown = await agent.next('ShutdownMessage');
  assert.equal(shutdown.message, 'Agent has been marked gone');
  await s.next('FAILURE');
  assert.equal(c.master.master.agent(agentId), undefined);
});

test('TASK_ADDED for a task a re-registering agent reports carries its reported state', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const events: Msg[] = [];
  const off = c.master.master.onOperatorEvent((e) => events.push(e));
  t.after(async () => {
    off();
    await agent.stop();
    await c.master.stop();
  });
  // An agent this master never saw (it failed over) comes back with a running task.
  const agentId = 'earlier-master-S0';
  const frameworkId = 'earlier-master-0000';
  agent.send('ReregisterSlaveMessage', {
    slave: { id: { value: agentId }, hostname: 'agent-host', port: 5051, resources: [scalar('cpus', 4), scalar('mem', 1024)] },
    frameworks: [{ ...FRAMEWORK, id: { value: frameworkId } }],
    tasks: [{
      name: 't1', task_id: { value: 't1' }, framework_id: { value: frameworkId }, agent_id: { value: agentId },
      state: 'TASK_RUNNING', status_update_state: 'TASK_RUNNING', resources: [scalar('cpus', 1)],
    }],
    version: '1.11.0',
  });
  await agent.next('SlaveReregisteredMessage');
  const added = events.find((e) => e.type === 'TASK_ADDED');
  assert.ok(added, 'TASK_ADDED emitted');
  assert.equal(added.task_added.task.task_id.value, 't1');
  assert.equal(added.task_added.task.state, 'TASK_RUNNING');
  assert.equal(added.task_added.task.status_update_state, 'TASK_RUNNING');
});
