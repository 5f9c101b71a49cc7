// Maintenance (MNT-01): schedule, inverse offers and answers, machine down/up, operator calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAMEWORK, FakeAgent, type Msg, Scheduler, commandTask, getJson, request, scalar, startTestMaster, until } from './helpers.js';

const post = (url: string, path: string, body: unknown) => request(url, path, { method: 'POST', body: JSON.stringify(body) });

test('schedule -> inverse offers and unavailability in offers; machine down/up', async (t) => {
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

  const machine = { hostname: 'agent-host', ip: '127.0.0.1' };
  const start = { nanoseconds: (c.clock.now() + 3_600_000) * 1e6 };
  let r = await post(c.url, '/master/maintenance/schedule', { windows: [{ machine_ids: [], unavailability: { start } }] });
  assert.equal(r.status, 400);
  assert.equal(r.body, 'List of machines in the maintenance window is empty');
  r = await post(c.url, '/master/maintenance/schedule', { windows: [{ machine_ids: [machine, machine], unavailability: { start } }] });
  assert.equal(r.status, 400);
  assert.match(r.body, /appears more than once/);
  r = await post(c.url, '/master/machine/down', [machine]);
  assert.equal(r.status, 400);
  assert.match(r.body, /is not part of a maintenance schedule/);

  r = await post(c.url, '/master/maintenance/schedule', { windows: [{ machine_ids: [machine], unavailability: { start } }] });
  assert.equal(r.status, 200);
  const schedule = await getJson(c.url, '/master/maintenance/schedule');
  assert.equal(schedule.windows[0].machine_ids[0].hostname, 'agent-host');

  c.clock.advance(1000);
  const inverse = await s.next('INVERSE_OFFERS');
  const io = inverse.inverse_offers.inverse_offers[0];
  assert.equal(io.agent_id.value, agentId);
  assert.equal(io.framework_id.value, s.frameworkId);
  assert.equal(io.unavailability.start.nanoseconds, start.nanoseconds);
  c.clock.advance(6000);
  const next = (await s.next('OFFERS')).offers.offers[0];
  assert.equal(next.unavailability.start.nanoseconds, start.nanoseconds);

  r = await s.call({ type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: [io.id], filters: { refuse_seconds: 100 } } });
  assert.equal(r.status, 202);
  await until(() => {
    const st = c.master.master.maintenanceStatus();
    return st.draining_machines[0]?.statuses?.[0]?.status === 'DECLINE';
  }, 'DECLINE recorded');
  const status = await getJson(c.url, '/master/maintenance/status');
  assert.equal(status.draining_machines[0].id.hostname, 'agent-host');
  assert.equal(status.draining_machines[0].statuses[0].framework_id.value, s.frameworkId);

  // Machine down: the agent is shut down and removed; it may not come back while down.
  r = await post(c.url, '/master/machine/down', [machine]);
  assert.equal(r.status, 200);
  const shutdown = await agent.next('ShutdownMessage');
  assert.equal(shutdown.message, "Operator initiated 'Machine DOWN'");
  await s.next('FAILURE');
  assert.equal(c.master.master.agent(agentId), undefined);
  assert.deepEqual((await getJson(c.url, '/master/maintenance/status')).down_machines, [machine]);
  agent.send('RegisterSlaveMessage', { slave: { hostname: 'agent-host', resources: [scalar('cpus', 1)] }, version: '1.11.0' });
  assert.equal((await agent.next('ShutdownMessage')).message, 'Agent is in maintenance mode and is shut down');
  // The schedule must keep down machines.
  r = await post(c.url, '/master/maintenance/schedule', { windows: [] });
  assert.equal(r.status, 400);

  r = await post(c.url, '/master/machine/up', [machine]);
  assert.equal(r.status, 200);
  r = await post(c.url, '/master/machine/up', [machine]);
  assert.equal(r.status, 400);
  assert.deepEqual((await getJson(c.url, '/master/maintenance/schedule')).windows ?? [], []);
  const again = await agent.register();
  assert.notEqual(again, agentId);
});

test('maintenance through the operator API', async (t) => {
  const c = await startTestMaster();
  t.after(() => c.master.stop());
  const op = (body: Msg) => request(c.url, '/api/v1', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const machine = { hostname: 'h1' };
  let r = await op({ type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule: { windows: [{ machine_ids: [machine], unavailability: { start: { nanoseconds: 1 } } }] } } });
  assert.equal(r.status, 200);
  r = await op({ type: 'GET_MAINTENANCE_SCHEDULE' });
  assert.equal(JSON.parse(r.body).get_maintenance_schedule.schedule.windows[0].machine_ids[0].hostname, 'h1');
  r = await op({ type: 'START_MAINTENANCE', start_maintenance: { machines: [machine] } });
  assert.equal(r.status, 200);
  r = await op({ type: 'GET_MAINTENANCE_STATUS' });
  assert.deepEqual(JSON.parse(r.body).get_maintenance_status.status.down_machines, [machine]);
  r = await op({ type: 'STOP_MAINTENANCE', stop_maintenance: { machines: [machine] } });
  assert.equal(r.status, 200);
  r = await op({ type: 'STOP_MAINTENANCE', stop_maintenance: { machines: [machine] } });
  assert.equal(r.status, 400);
});
