// SCH-01..SCH-04: status codes and messages of POST /api/v1/scheduler, Mesos-Stream-Id rules,
// HEARTBEATs, failover, malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeProto } from '../../src/protocol/codec.js';
import { FRAMEWORK, Scheduler, request, startTestMaster, until } from './helpers.js';

const JSON_CT = { 'Content-Type': 'application/json' };
const post = (url: string, body: string | Buffer, headers: Record<string, string> = JSON_CT, path = '/api/v1/scheduler') =>
  request(url, path, { method: 'POST', headers, body });

test('transport errors: 405, 400, 415, malformed bodies, validation, 406', async (t) => {
  const c = await startTestMaster();
  t.after(() => c.master.stop());
  const subscribe = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: FRAMEWORK } });

  let r = await request(c.url, '/api/v1/scheduler');
  assert.equal(r.status, 405);
  assert.equal(r.body, "Expecting one of { 'POST' }, but received 'GET'");

  r = await post(c.url, subscribe, {});
  assert.equal(r.status, 400);
  assert.equal(r.body, "Expecting 'Content-Type' to be present");

  r = await post(c.url, subscribe, { 'Content-Type': 'text/plain' });
  assert.equal(r.status, 415);
  assert.equal(r.body, "Expecting 'Content-Type' of application/json or application/x-protobuf");

  r = await post(c.url, '{"type": "SUBSC');
  assert.equal(r.status, 400);
  assert.match(r.body, /^Failed to parse body into JSON: /);

  r = await post(c.url, '[1,2]');
  assert.equal(r.status, 400);
  assert.match(r.body, /^Failed to convert JSON into Call protobuf: /);

  r = await post(c.url, Buffer.from([0xff, 0xff, 0xff, 0x0f]), { 'Content-Type': 'application/x-protobuf' });
  assert.equal(r.status, 400);
  assert.match(r.body, /^Failed to parse body into Call protobuf/);

  // A required field missing (FrameworkInfo.user).
  r = await post(c.url, JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'x' } } }));
  assert.equal(r.status, 400);
  assert.match(r.body, /^Failed to convert JSON into Call protobuf: .*user/);

  r = await post(c.url, JSON.stringify({ type: 'NOT_A_CALL' }));
  assert.equal(r.status, 400);
  assert.equal(r.body, "Failed to validate scheduler::Call: Expecting 'type' to be present");

  r = await post(c.url, JSON.stringify({ type: 'SUBSCRIBE' }));
  assert.equal(r.status, 400);
  assert.equal(r.body, "Failed to validate scheduler::Call: Expecting 'subscribe' to be present");

  r = await post(c.url, JSON.stringify({ type: 'SUBSCRIBE', framework_id: { value: 'a' }, subscribe: { framework_info: FRAMEWORK } }));
  assert.equal(r.status, 400);
  assert.equal(r.body, "Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'");

  r = await post(c.url, JSON.stringify({ type: 'TEARDOWN' }));
  assert.equal(r.status, 400);
  assert.equal(r.body, "Failed to validate scheduler::Call: Expecting 'framework_id' to be present");

  r = await post(c.url, JSON.stringify({ type: 'ACCEPT', framework_id: { value: 'x' } }));
  assert.equal(r.status, 400);
  assert.equal(r.body, "Failed to validate scheduler::Call: Expecting 'accept' to be present");

  r = await post(c.url, subscribe, { ...JSON_CT, Accept: 'text/html' });
  assert.equal(r.status, 406);
  assert.equal(r.body, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");

  r = await post(c.url, subscribe, { ...JSON_CT, 'Mesos-Stream-Id': 'abc' });
  assert.equal(r.status, 400);
  assert.equal(r.body, "Subscribe calls should not include the 'Mesos-Stream-Id' header");

  r = await post(c.url, JSON.stringify({ type: 'TEARDOWN', framework_id: { value: 'nope' } }));
  assert.equal(r.status, 400);
  assert.equal(r.body, 'Framework cannot be found');

  // The /master/ prefix reaches the same endpoint.
  r = await post(c.url, JSON.stringify({ type: 'TEARDOWN', framework_id: { value: 'nope' } }), JSON_CT, '/master/api/v1/scheduler');
  assert.equal(r.status, 400);
  assert.equal(r.body, 'Framework cannot be found');

  // Still serving after all of that.
  r = await request(c.url, '/health');
  assert.equal(r.status, 200);
});

test('stream id rules, 202/200/501, acknowledge uuid validation, heartbeats', async (t) => {
  const c = await startTestMaster();
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await c.master.stop();
  });
  await s.subscribe({ ...FRAMEWORK, failover_timeout: 60 });
  await s.next('SUBSCRIBED');
  assert.match(s.streamId!, /^[0-9a-f-]{36}$/);
  // First heartbeat right after SUBSCRIBED, then one per 15 s.
  await s.next('HEARTBEAT');
  c.clock.advance(14_999);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.count('HEARTBEAT'), 1);
  c.clock.advance(1);
  await s.next('HEARTBEAT');
  c.clock.advance(15_000);
  await s.next('HEARTBEAT');

  let r = await s.call({ type: 'REVIVE' }, {});
  assert.equal(r.status, 400);
  assert.equal(r.body, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");

  r = await s.call({ type: 'REVIVE' }, { 'Mesos-Stream-Id': 'not-mine' });
  assert.equal(r.status, 400);
  assert.equal(
    r.body,
    `The stream ID 'not-mine' included in this request didn't match the stream ID currently associated with framework ID ${s.frameworkId}`,
  );

  r = await s.call({ type: 'REVIVE' });
  assert.equal(r.status, 202);
  r = await s.call({ type: 'SUPPRESS', suppress: { roles: ['*'] } });
  assert.equal(r.status, 202);
  assert.deepEqual([...c.master.master.framework(s.frameworkId)!.suppressedRoles], ['*']);
  // A role the framework is not subscribed to drops the whole call.
  r = await s.call({ type: 'REVIVE', revive: { roles: ['*', 'other'] } });
  assert.equal(r.status, 202);
  assert.deepEqual([...c.master.master.framework(s.frameworkId)!.suppressedRoles], ['*']);
  r = await s.call({ type: 'RECONCILE', reconcile: {} });
  assert.equal(r.status, 202);

  r = await s.call({ type: 'UNKNOWN' });
  assert.equal(r.status, 501);

  r = await s.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: Buffer.from('short') } });
  assert.equal(r.status, 400);
  assert.equal(r.body, 'Failed to validate scheduler::Call: Not a valid UUID');

  // UPDATE_FRAMEWORK is synchronous: 200, or 400 for a disallowed change.
  const info = { ...FRAMEWORK, id: { value: s.frameworkId }, failover_timeout: 60, name: 'renamed' };
  r = await s.call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: info } });
  assert.equal(r.status, 200);
  assert.equal(c.master.master.framework(s.frameworkId)!.info.name, 'renamed');
  r = await s.call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...info, user: 'root' } } });
  assert.equal(r.status, 400);
  assert.equal(r.body, "Updating 'FrameworkInfo.user' is unsupported");
  r = await s.call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...info, id: { value: 'other' } } } });
  assert.equal(r.status, 400);
  assert.equal(r.body, "Failed to validate scheduler::Call: 'framework_id' differs from 'update_framework.framework_info.id'");

  // A disconnected framework (still within its failover timeout) is "not subscribed".
  const streamId = s.streamId!;
  s.disconnect();
  await until(() => !c.master.master.framework(s.frameworkId)!.connected, 'disconnect');
  r = await s.call({ type: 'REVIVE' }, { 'Mesos-Stream-Id': streamId });
  assert.equal(r.status, 403);
  assert.equal(r.body, 'Framework is not subscribed');
  // ... and is removed when the failover timeout expires.
  c.clock.advance(60_000);
  assert.equal(c.master.master.framework(s.frameworkId), undefined);
  assert.equal(c.master.master.completedFrameworks[0]!.id, s.frameworkId);
  r = await s.call({ type: 'REVIVE' }, { 'Mesos-Stream-Id': streamId });
  assert.equal(r.status, 400);
  assert.equal(r.body, 'Framework cannot be found');
});

test('failover: a new SUBSCRIBE sends ERROR on the old stream and takes over', async (t) => {
  const c = await startTestMaster();
  const first = new Scheduler(c.url);
  const second = new Scheduler(c.url, 'protobuf');
  t.after(async () => {
    first.disconnect();
    second.disconnect();
    await c.master.stop();
  });
  await first.subscribe({ ...FRAMEWORK, failover_timeout: 100 });
  await first.next('SUBSCRIBED');
  const id = first.frameworkId!;
  await second.subscribe({ ...FRAMEWORK, failover_timeout: 100, id: { value: id } });
  const sub = await second.next('SUBSCRIBED');
  assert.equal(sub.subscribed.framework_id.value, id);
  const err = await first.next('ERROR');
  assert.equal(err.error.message, 'Framework failed over');
  await until(() => first.closed, 'old stream closed');
  assert.notEqual(first.streamId, second.streamId);

  let r = await first.call({ type: 'REVIVE' });
  assert.equal(r.status, 400);
  assert.match(r.body, /didn't match the stream ID/);
  r = await second.call({ type: 'REVIVE' });
  assert.equal(r.status, 202);
  assert.equal(c.master.master.framework(id)!.connected, true);
  const state = c.master.master.framework(id)!;
  assert.ok(state.reregisteredTime !== undefined);
});

test('invalid FrameworkInfo is answered with ERROR on the stream, then the stream closes', async (t) => {
  const c = await startTestMaster();
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await c.master.stop();
  });
  await s.subscribe({ ...FRAMEWORK, roles: ['a'] });
  assert.equal(s.status, 200);
  const err = await s.next('ERROR');
  assert.equal(err.error.message, "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable");
  await until(() => s.closed, 'closed');
  assert.equal([...c.master.master.frameworks].length, 0);

  const s2 = new Scheduler(c.url);
  t.after(() => s2.disconnect());
  await s2.subscribe({ ...FRAMEWORK, capabilities: [{ type: 'MULTI_ROLE' }], roles: ['a'] }, { suppressed_roles: ['b'] });
  const err2 = await s2.next('ERROR');
  assert.equal(err2.error.message, "Suppressed role 'b' is not contained in the list of roles");
});

test('protobuf calls are accepted and teardown closes the stream', async (t) => {
  const c = await startTestMaster();
  const s = new Scheduler(c.url, 'protobuf');
  t.after(async () => {
    s.disconnect();
    await c.master.stop();
  });
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  const body = encodeProto('mesos.v1.scheduler.Call', { type: 'TEARDOWN', framework_id: { value: s.frameworkId } });
  const r = await post(c.url, body, { 'Content-Type': 'application/x-protobuf', 'Mesos-Stream-Id': s.streamId! });
  assert.equal(r.status, 202);
  await until(() => s.closed, 'stream closed by teardown');
  assert.equal(c.master.master.completedFrameworks.length, 1);
  // Re-subscribing a removed framework is refused.
  const again = new Scheduler(c.url);
  t.after(() => again.disconnect());
  await again.subscribe({ ...FRAMEWORK, id: { value: s.frameworkId } });
  const err = await again.next('ERROR');
  assert.equal(err.error.message, 'Framework has been removed');
});
