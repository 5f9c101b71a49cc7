// Bad input never crashes the master or hangs a connection: random bodies to the HTTP APIs and
// random bytes as libprocess messages are all answered (4xx) or dropped, and the master keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import http from 'node:http';
import { FRAMEWORK, FakeAgent, Scheduler, request, startTestMaster } from './helpers.js';

/** Status of a POST; the connection is dropped once the head arrives (a valid SUBSCRIBE streams forever). */
function status(url: string, path: string, headers: Record<string, string>, body: Buffer | string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers, agent: false }, (res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', reject);
    req.end(body);
  });
}

const CALL_TYPES = ['SUBSCRIBE', 'TEARDOWN', 'ACCEPT', 'DECLINE', 'REVIVE', 'KILL', 'SHUTDOWN', 'ACKNOWLEDGE', 'RECONCILE', 'MESSAGE', 'REQUEST', 'SUPPRESS', 'UPDATE_FRAMEWORK', 'UNKNOWN', 'X'];

test('random scheduler and operator calls get an answer and never break the master', async (t) => {
  const c = await startTestMaster();
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await c.master.stop();
  });
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  const anyJson = fc.jsonValue({ maxDepth: 3 });
  const call = fc.record({
    type: fc.constantFrom(...CALL_TYPES),
    framework_id: fc.option(fc.constantFrom({ value: s.frameworkId! }, { value: 'x' }, 7), { nil: undefined }),
    accept: fc.option(fc.record({ offer_ids: fc.array(fc.record({ value: fc.string() }), { maxLength: 2 }), operations: fc.array(anyJson, { maxLength: 2 }) }), { nil: undefined }),
    kill: fc.option(fc.record({ task_id: fc.record({ value: fc.string() }) }), { nil: undefined }),
    acknowledge: fc.option(anyJson, { nil: undefined }),
    reconcile: fc.option(fc.record({ tasks: fc.array(anyJson, { maxLength: 2 }) }), { nil: undefined }),
    subscribe: fc.option(anyJson, { nil: undefined }),
  }, { requiredKeys: ['type'] });
  const body = fc.oneof(call.map((x) => JSON.stringify(x)), fc.string(), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)));
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom('application/json', 'application/x-protobuf'), fc.constantFrom('/api/v1/scheduler', '/api/v1'), async (b, ct, path) => {
      const code = await status(c.url, path, { 'Content-Type': ct, 'Mesos-Stream-Id': s.streamId! }, b);
      assert.ok(code >= 200 && code < 600 && code !== 500, `status ${code} for ${String(b)}`);
    }),
    { numRuns: 150 },
  );
  const health = await request(c.url, '/health');
  assert.equal(health.status, 200);
});

test('garbage libprocess messages are dropped; agents still register', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  t.after(async () => {
    await agent.stop();
    await c.master.stop();
  });
  const names = ['mesos.internal.RegisterSlaveMessage', 'mesos.internal.StatusUpdateMessage', 'mesos.internal.ReregisterSlaveMessage', 'mesos.scheduler.Call', 'mesos.internal.ExitedExecutorMessage', 'mesos.internal.LaunchTasksMessage'];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...names), fc.uint8Array({ maxLength: 48 }), async (name, bytes) => {
      agent.actor.sendRaw(c.master.pid, name, Buffer.from(bytes));
    }),
    { numRuns: 100 },
  );
  // Well-formed but meaningless messages too.
  agent.send('StatusUpdateMessage', { update: { framework_id: { value: 'f' }, status: { task_id: { value: 't' }, state: 'TASK_RUNNING' }, timestamp: 1 } });
  agent.send('ExitedExecutorMessage', { slave_id: { value: 'nope' }, framework_id: { value: 'f' }, executor_id: { value: 'e' }, status: 1 });
  agent.send('ReregisterSlaveMessage', { slave: { hostname: 'h', resources: [] } });
  const id = await agent.register();
  assert.ok(c.master.master.agent(id));
});
