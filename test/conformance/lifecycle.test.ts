// Conformance of the subscription lifecycle (SCH-04, SCH-12, SCH-13, SCH-11) with two agents:
// one OFFERS event per allocation, single-use offer ids, failover with ERROR on the old stream,
// TEARDOWN closing the stream.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { type Cluster, Stream, getJson, json, request, startCluster, subscribe, until } from './helpers.js';

const API = '/api/v1/scheduler';
let c: Cluster;
before(async () => {
  c = await startCluster([], 2);
  // An agent learns its id only once the master admitted it (and offers it).
  for (const a of c.agents) await until(async () => Boolean((await getJson(a.port, '/state')).id), 'agent admitted');
});
after(async () => c.stop());

test('offers of one allocation share an event; a declined offer id is dead; failover and teardown', async () => {
  const info = { user: 'conf', name: 'lifecycle', failover_timeout: 60 };
  const s = await subscribe(c.mport, info);
  const call = (streamId: string, body: Record<string, unknown>) =>
    request(c.mport, API, json({ framework_id: { value: s.frameworkId }, ...body }, { 'Mesos-Stream-Id': streamId }));
  let s2: Stream | undefined;
  try {
    const first = await s.stream.next((e) => e.type === 'OFFERS', 'OFFERS');
    assert.equal(first.offers.offers.length, 2, 'both agents in one OFFERS event');
    assert.equal(new Set(first.offers.offers.map((o: any) => o.agent_id.value)).size, 2);

    const [o1] = first.offers.offers;
    let r = await call(s.streamId, { type: 'DECLINE', decline: { offer_ids: [o1.id], filters: { refuse_seconds: 3600 } } });
    assert.equal(r.status, 202);
    r = await call(s.streamId, {
      type: 'ACCEPT',
      accept: { offer_ids: [o1.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [{
        name: 'late', task_id: { value: 'late' }, agent_id: o1.agent_id, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
        command: { value: 'true' },
      }] } }] },
    });
    assert.equal(r.status, 202);
    const lost = await s.stream.next((e) => e.type === 'UPDATE' && e.update.status.task_id.value === 'late', 'TASK_LOST for a used offer');
    assert.equal(lost.update.status.state, 'TASK_LOST');
    assert.equal(lost.update.status.reason, 'REASON_INVALID_OFFERS');

    // Failover: the same framework id subscribes again on a new connection.
    s2 = new Stream();
    await s2.open(c.mport, API, JSON.stringify({
      type: 'SUBSCRIBE', framework_id: { value: s.frameworkId },
      subscribe: { framework_info: { ...info, id: { value: s.frameworkId } } },
    }), { 'Content-Type': 'application/json' });
    const again = await s2.next((e) => e.type === 'SUBSCRIBED', 'SUBSCRIBED again');
    assert.equal(again.subscribed.framework_id.value, s.frameworkId);
    const newStreamId = s2.headers['mesos-stream-id'] as string;
    assert.notEqual(newStreamId, s.streamId);
    await until(() => s.stream.ended, 'old stream closed');
    assert.deepEqual(s.stream.events.at(-1), { type: 'ERROR', error: { message: 'Framework failed over' } });
    r = await call(s.streamId, { type: 'REVIVE' });
    assert.equal(r.status, 400, 'the old stream id is dead');
    r = await call(newStreamId, { type: 'REVIVE' });
    assert.equal(r.status, 202);

    // TEARDOWN: 202, the stream ends, the framework is gone.
    r = await call(newStreamId, { type: 'TEARDOWN' });
    assert.equal(r.status, 202);
    await until(() => s2!.ended, 'stream closed by TEARDOWN');
    r = await call(newStreamId, { type: 'REVIVE' });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'Framework cannot be found');
    const fws = await getJson(c.mport, '/master/frameworks');
    assert.ok(fws.completed_frameworks.some((f: any) => f.id === s.frameworkId));
  } finally {
    s.stream.close();
    s2?.close();
  }
});
