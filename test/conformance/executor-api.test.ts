// Conformance of the v1 executor API (EXE-01, EXE-10..28) as a third-party executor sees it: the
// agent launches a custom executor that never speaks, and this test subscribes in its place.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type Cluster, Stream, getJson, json, request, startCluster, subscribe, until } from './helpers.js';

let c: Cluster;
before(async () => {
  c = await startCluster();
  await until(async () => (await getJson(c.mport, '/master/slaves')).slaves.length === 1, 'agent registration');
});
after(async () => c.stop());

const uuid = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');
const res = (cpus: number, mem: number) => [
  { name: 'cpus', type: 'SCALAR', scalar: { value: cpus } },
  { name: 'mem', type: 'SCALAR', scalar: { value: mem } },
];

test('executor API: status codes and texts, SUBSCRIBED payload, LAUNCH, UPDATE/ACKNOWLEDGED, /slave(1) alias', async () => {
  const s = await subscribe(c.mport, { user: 'conf', name: 'executor-api' });
  try {
    const offer = (await s.stream.next((e) => e.type === 'OFFERS', 'OFFERS')).offers.offers[0];
    const agentId = offer.agent_id.value;
    const mark = s.stream.events.length;
    const r0 = await request(c.mport, '/api/v1/scheduler', json({
      type: 'ACCEPT', framework_id: { value: s.frameworkId },
      accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [{
        name: 'via custom executor', task_id: { value: 'ct' }, agent_id: { value: agentId }, resources: res(0.1, 32),
        executor: { executor_id: { value: 'ex1' }, command: { value: 'sleep 60' }, resources: res(0.1, 32) },
      }] } }], filters: { refuse_seconds: 0 } },
    }, { 'Mesos-Stream-Id': s.streamId }));
    assert.equal(r0.status, 202);
    await until(async () => {
      const st = await getJson(c.aport, '/state');
      return st.frameworks.find((f: any) => f.id === s.frameworkId)?.executors.some((e: any) => e.id === 'ex1');
    }, 'executor launched');

    // Later offers of that agent name the framework's executor there.
    const next = await s.stream.next((e) => e.type === 'OFFERS', 'next OFFERS', mark);
    assert.deepEqual(next.offers.offers[0].executor_ids, [{ value: 'ex1' }]);

    const API = '/api/v1/executor';
    const ids = { framework_id: { value: s.frameworkId }, executor_id: { value: 'ex1' } };
    const exec = (body: unknown, path = API, headers: Record<string, string> = {}) => request(c.aport, path, json(body, headers));
    const running = { task_id: { value: 'ct' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid: uuid() };

    let r = await request(c.aport, API);
    assert.equal(r.status, 405);
    assert.equal(r.text, "Expecting one of { 'POST' }, but received 'GET'");
    r = await request(c.aport, API, { method: 'POST', body: '{}' });
    assert.equal(r.status, 400);
    assert.equal(r.text, "Expecting 'Content-Type' to be present");
    r = await request(c.aport, API, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body: '{}' });
    assert.equal(r.status, 415);
    assert.equal(r.text, "Expecting 'Content-Type' of application/json or application/x-protobuf");
    r = await request(c.aport, API, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' });
    assert.equal(r.status, 400);
    assert.match(r.text, /^Failed to parse body into JSON: /);
    r = await exec({ type: 'SUBSCRIBE', subscribe: {} });
    assert.equal(r.status, 400);
    assert.match(r.text, /^Failed to convert JSON into Call protobuf: /);
    r = await exec({ type: 'SUBSCRIBE', ...ids });
    assert.equal(r.status, 400);
    assert.equal(r.text, "Failed to validate Executor::Call: Expecting 'subscribe' to be present");
    r = await exec({ type: 'SUBSCRIBE', ...ids, subscribe: {} }, API, { Accept: 'text/html' });
    assert.equal(r.status, 406);
    assert.equal(r.text, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");
    r = await exec({ type: 'UPDATE', ...ids, update: { status: running } });
    assert.equal(r.status, 403);
    assert.equal(r.text, 'Executor is not subscribed');
    r = await exec({ type: 'UPDATE', framework_id: ids.framework_id, executor_id: { value: 'nope' }, update: { status: running } });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'Executor cannot be found');
    r = await exec({ type: 'UPDATE', framework_id: { value: 'nope' }, executor_id: ids.executor_id, update: { status: running } });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'Framework cannot be found');
    // HEARTBEAT is accepted before any lookup, even with made-up ids.
    r = await exec({ type: 'HEARTBEAT', framework_id: { value: 'x' }, executor_id: { value: 'y' } });
    assert.equal(r.status, 202);
    r = await exec({ type: 'HEARTBEAT', ...ids }, '/slave%281%29/api/v1/executor');
    assert.equal(r.status, 202, 'percent-encoded delegate path');

    // SUBSCRIBE through the libprocess delegate path, as the C++ executor library builds it.
    const ex = new Stream();
    await ex.open(c.aport, '/slave(1)/api/v1/executor', JSON.stringify({ type: 'SUBSCRIBE', ...ids, subscribe: {} }), {
      'Content-Type': 'application/json', Accept: 'application/json',
    });
    try {
      assert.equal(ex.status, 200);
      assert.equal(ex.headers['content-type'], 'application/json');
      assert.equal(ex.headers['transfer-encoding'], 'chunked');
      assert.equal(ex.headers['mesos-stream-id'], undefined);
      const subscribed = await ex.next((e) => e.type === 'SUBSCRIBED', 'SUBSCRIBED');
      const p = subscribed.subscribed;
      assert.deepEqual(Object.keys(p).sort(), ['agent_info', 'container_id', 'executor_info', 'framework_info']);
      assert.deepEqual(p.executor_info.executor_id, { value: 'ex1' });
      assert.deepEqual(p.executor_info.framework_id, { value: s.frameworkId });
      assert.equal(p.executor_info.command.value, 'sleep 60');
      assert.deepEqual(p.framework_info.id, { value: s.frameworkId });
      assert.equal(p.framework_info.name, 'executor-api');
      assert.deepEqual(p.agent_info.id, { value: agentId });
      assert.equal(p.agent_info.hostname, 'agent.test');
      assert.equal(p.agent_info.port, c.aport);
      assert.equal(typeof p.container_id.value, 'string');
      const launch = await ex.next((e) => e.type === 'LAUNCH', 'LAUNCH');
      assert.deepEqual(launch.launch.task.task_id, { value: 'ct' });
      assert.deepEqual(launch.launch.task.agent_id, { value: agentId });

      // UPDATE validation as Mesos words it.
      const bad = async (status: Record<string, unknown>, text: string) => {
        const rr = await exec({ type: 'UPDATE', ...ids, update: { status } });
        assert.equal(rr.status, 400, text);
        assert.equal(rr.text, `Failed to validate Executor::Call: ${text}`);
      };
      await bad({ ...running, uuid: undefined }, "Expecting 'uuid' to be present");
      await bad({ ...running, uuid: Buffer.from('x').toString('base64') }, 'Not a valid UUID');
      await bad({ ...running, source: 'SOURCE_MASTER' }, `Received Call from executor ex1 of framework ${s.frameworkId} with invalid source, expecting 'SOURCE_EXECUTOR'`);
      await bad({ ...running, state: 'TASK_STAGING' }, `Received TASK_STAGING from executor ex1 of framework ${s.frameworkId} which is not allowed`);
      r = await exec({ type: 'UNKNOWN', ...ids });
      assert.equal(r.status, 501);

      r = await exec({ type: 'UPDATE', ...ids, update: { status: running } });
      assert.equal(r.status, 202);
      assert.equal(r.body.length, 0);
      const acked = await ex.next((e) => e.type === 'ACKNOWLEDGED', 'ACKNOWLEDGED');
      assert.deepEqual(acked.acknowledged, { task_id: { value: 'ct' }, uuid: running.uuid });
      const upd = await s.stream.next((e) => e.type === 'UPDATE' && e.update.status.task_id.value === 'ct', 'scheduler UPDATE');
      assert.equal(upd.update.status.state, 'TASK_RUNNING');
      assert.equal(upd.update.status.uuid, running.uuid);
      assert.equal(upd.update.status.source, 'SOURCE_EXECUTOR');
      assert.deepEqual(upd.update.status.executor_id, { value: 'ex1' });
      assert.deepEqual(upd.update.status.agent_id, { value: agentId });

      r = await exec({ type: 'MESSAGE', ...ids, message: { data: Buffer.from('hi').toString('base64') } });
      assert.equal(r.status, 202);
      const msg = await s.stream.next((e) => e.type === 'MESSAGE', 'scheduler MESSAGE');
      assert.deepEqual(msg.message, { agent_id: { value: agentId }, executor_id: { value: 'ex1' }, data: Buffer.from('hi').toString('base64') });
    } finally {
      ex.close();
    }
  } finally {
    await request(c.mport, '/api/v1/scheduler', json({ type: 'TEARDOWN', framework_id: { value: s.frameworkId } }, { 'Mesos-Stream-Id': s.streamId }));
    s.stream.close();
  }
});
