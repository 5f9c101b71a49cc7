// Offer operations (OPS-03..06): RESERVE, UNRESERVE, CREATE, DESTROY through ACCEPT, the operator
// API and the legacy endpoints; agents are told their checkpointed resources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../src/resources/index.js';
import { FRAMEWORK, FakeAgent, type Msg, Scheduler, getJson, request, startTestMaster } from './helpers.js';

const dyn = (name: string, value: number, role: string, extra: Msg = {}) => ({ name, type: 'SCALAR', scalar: { value }, role, reservation: {}, ...extra });
const volume = (id: string, value: number, role: string) => dyn('disk', value, role, { disk: { persistence: { id }, volume: { container_path: 'data', mode: 'RW' } } });

test('RESERVE and CREATE in ACCEPT, then a task on them; DESTROY and UNRESERVE give them back', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register('cpus:4;mem:1024;disk:2048');
  await s.subscribe({ ...FRAMEWORK, role: 'r' });
  await s.next('SUBSCRIBED');
  let offer = (await s.next('OFFERS')).offers.offers[0];
  assert.equal(offer.allocation_info.role, 'r');

  await s.call({
    type: 'ACCEPT',
    accept: {
      offer_ids: [offer.id],
      operations: [
        { type: 'RESERVE', reserve: { resources: [dyn('cpus', 1, 'r'), dyn('disk', 100, 'r')] } },
        { type: 'CREATE', create: { volumes: [volume('v1', 100, 'r')] } },
        { type: 'LAUNCH', launch: { task_infos: [{ name: 't', task_id: { value: 't1' }, agent_id: { value: agentId }, command: { value: 'true' }, resources: [dyn('cpus', 1, 'r'), volume('v1', 100, 'r')] }] } },
        { type: 'RESERVE', id: { value: 'bad-op' }, reserve: { resources: [dyn('mem', 10, 'elsewhere')] } },
      ],
      filters: { refuse_seconds: 0 },
    },
  });
  // The agent is told its checkpointed resources after each conversion, then gets the task.
  const cp1 = await agent.next('CheckpointResourcesMessage');
  assert.equal(Resources.fromProto(cp1.resources).reserved('r').scalar('cpus'), 1);
  const cp2 = await agent.next('CheckpointResourcesMessage');
  assert.equal(Resources.fromProto(cp2.resources).persistentVolumes().scalar('disk'), 100);
  const run = await agent.next('RunTaskMessage');
  const taskRes = Resources.fromProto(run.task.resources);
  assert.equal(taskRes.reserved('r').scalar('cpus'), 1);
  assert.equal(taskRes.persistentVolumes().scalar('disk'), 100);
  const err = await s.next('UPDATE_OPERATION_STATUS');
  assert.equal(err.update_operation_status.status.operation_id.value, 'bad-op');
  assert.equal(err.update_operation_status.status.state, 'OPERATION_ERROR');
  assert.match(err.update_operation_status.status.message, /does not match the allocation role 'r'/);

  let state = await getJson(c.url, '/master/state');
  assert.equal(state.slaves[0].reserved_resources.r.cpus, 1);
  assert.equal(state.slaves[0].reserved_resources.r.disk, 100);
  assert.equal(state.slaves[0].unreserved_resources.cpus, 3);
  assert.equal(state.slaves[0].resources.disk, 2048);

  // The volume is used by the task; once the task is gone it comes back in an offer.
  agent.statusUpdate(s.frameworkId!, 't1', 'TASK_FINISHED', Buffer.alloc(16, 1));
  await s.next('UPDATE');
  offer = undefined;
  for (let i = 0; i < 20 && !offer; i++) {
    c.clock.advance(1000);
    const e = await s.next('OFFERS');
    offer = e.offers.offers.find((o: Msg) => Resources.fromProto(o.resources).persistentVolumes().scalar('disk') === 100);
  }
  assert.ok(offer, 'an offer with the volume');
  const offered = Resources.fromProto(offer.resources);
  assert.equal(offered.reserved('r').scalar('cpus'), 1);
  const vol = offer.resources.find((r: Msg) => r.disk?.persistence);
  assert.equal(vol.role, 'r');
  assert.equal(vol.disk.persistence.id, 'v1');

  await s.call({
    type: 'ACCEPT',
    accept: {
      offer_ids: [offer.id],
      operations: [
        { type: 'DESTROY', destroy: { volumes: [volume('v1', 100, 'r')] } },
        { type: 'UNRESERVE', id: { value: 'op2' }, unreserve: { resources: [dyn('cpus', 1, 'r'), dyn('disk', 100, 'r')] } },
      ],
    },
  });
  const done = await s.next('UPDATE_OPERATION_STATUS');
  assert.equal(done.update_operation_status.status.state, 'OPERATION_FINISHED');
  state = await getJson(c.url, '/master/state');
  assert.deepEqual(state.slaves[0].reserved_resources, {});
  const last = await (async () => {
    let m: Msg | undefined;
    for (let i = 0; i < 2; i++) m = await agent.next('CheckpointResourcesMessage');
    return m!;
  })();
  assert.deepEqual(last.resources ?? [], []);
});

test('operator RESERVE_RESOURCES rescinds offers as needed; 400/404/409; legacy /reserve and /unreserve', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register('cpus:4;mem:1024;disk:2048');
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  await s.next('OFFERS');
  const op = (body: Msg) => request(c.url, '/api/v1', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const post = { type: 'RESERVE_RESOURCES', reserve_resources: { agent_id: { value: agentId }, resources: [dyn('cpus', 2, 'ops')] } };
  let r = await op(post);
  assert.equal(r.status, 202);
  await s.next('RESCIND');
  const cp = await agent.next('CheckpointResourcesMessage');
  assert.equal(Resources.fromProto(cp.resources).reserved('ops').scalar('cpus'), 2);
  r = await op({ type: 'RESERVE_RESOURCES', reserve_resources: { agent_id: { value: agentId }, resources: [dyn('cpus', 20, 'ops')] } });
  assert.equal(r.status, 409);
  r = await op({ type: 'RESERVE_RESOURCES', reserve_resources: { agent_id: { value: 'nope' }, resources: [dyn('cpus', 1, 'ops')] } });
  assert.equal(r.status, 404);
  r = await op({ type: 'RESERVE_RESOURCES', reserve_resources: { agent_id: { value: agentId }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] } });
  assert.equal(r.status, 400);
  assert.match(r.body, /not reserved/);

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  let h = await request(c.url, '/master/unreserve', { method: 'POST', headers, body: form({ slaveId: agentId, resources: JSON.stringify([dyn('cpus', 2, 'ops')]) }) });
  assert.equal(h.status, 202);
  assert.deepEqual((await getJson(c.url, '/master/slaves')).slaves[0].reserved_resources, {});
  h = await request(c.url, '/master/reserve', { method: 'POST', headers, body: form({ slaveId: agentId, resources: 'nope' }) });
  assert.equal(h.status, 400);
  h = await request(c.url, '/master/reserve', { method: 'POST', headers, body: form({ resources: '[]' }) });
  assert.equal(h.status, 400);
  assert.equal(h.body, "Missing 'slaveId' query parameter in the request body");
});

test('an agent registering with checkpointed reservations and volumes has them in its total', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  t.after(async () => {
    await agent.stop();
    await c.master.stop();
  });
  agent.send('RegisterSlaveMessage', {
    slave: { hostname: 'h', port: 5051, resources: Resources.parse('cpus:4;mem:1024;disk:2048').toProto() },
    checkpointed_resources: Resources.fromProto([dyn('cpus', 1, 'r'), volume('v', 10, 'r')]).toProto({ refinement: true }),
    version: '1.11.0',
  });
  await agent.next('SlaveRegisteredMessage');
  const slave = (await getJson(c.url, '/master/state')).slaves[0];
  assert.equal(slave.resources.cpus, 4);
  assert.equal(slave.resources.disk, 2048);
  assert.equal(slave.reserved_resources.r.cpus, 1);
  assert.equal(slave.reserved_resources.r.disk, 10);
  assert.equal(slave.unreserved_resources.cpus, 3);
});
