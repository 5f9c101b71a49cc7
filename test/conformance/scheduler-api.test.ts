// Conformance of the v1 scheduler API (SCH-01..SCH-04, spec 2.9) as a third-party client sees it:
// raw HTTP bytes against a real master and agent.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  type Cluster, Stream, fields, getJson, json, one, request, startCluster, str, sub, subscribe, until,
  pbEnum, pbField, rawTcp,
} from './helpers.js';

const API = '/api/v1/scheduler';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let c: Cluster;
before(async () => {
  c = await startCluster();
  await until(async () => (await getJson(c.mport, '/master/slaves')).slaves.length === 1, 'agent registration');
});
after(async () => c.stop());

test('SCH-01 transport errors carry Mesos status codes and texts', async () => {
  const subscribeBody = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n' } } });
  let r = await request(c.mport, API);
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'POST');
  assert.equal(r.text, "Expecting one of { 'POST' }, but received 'GET'");

  r = await request(c.mport, API, { method: 'POST', body: subscribeBody });
  assert.equal(r.status, 400);
  assert.equal(r.text, "Expecting 'Content-Type' to be present");

  r = await request(c.mport, API, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: subscribeBody });
  assert.equal(r.status, 415);
  assert.equal(r.text, "Expecting 'Content-Type' of application/json or application/x-protobuf");

  r = await request(c.mport, API, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type": ' });
  assert.equal(r.status, 400);
  assert.match(r.text, /^Failed to parse body into JSON: /);

  r = await request(c.mport, API, json({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n', checkpoint: 'yes' } } }));
  assert.equal(r.status, 400);
  assert.match(r.text, /^Failed to convert JSON into Call protobuf: /);

  r = await request(c.mport, API, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.from([0xff, 0xff, 0xff]) });
  assert.equal(r.status, 400);
  assert.match(r.text, /^Failed to parse body into Call protobuf/);

  r = await request(c.mport, API, json({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n' } } }, { Accept: 'text/html' }));
  assert.equal(r.status, 406);
  assert.equal(r.text, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");

  r = await request(c.mport, API, json({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n' } } }, { 'Mesos-Stream-Id': 'x' }));
  assert.equal(r.status, 400);
  assert.equal(r.text, "Subscribe calls should not include the 'Mesos-Stream-Id' header");

  r = await request(c.mport, API, json({ type: 'TEARDOWN' }));
  assert.equal(r.status, 400);
  assert.equal(r.text, "Failed to validate scheduler::Call: Expecting 'framework_id' to be present");

  r = await request(c.mport, API, json({ type: 'TEARDOWN', framework_id: { value: 'nope' } }));
  assert.equal(r.status, 400);
  assert.equal(r.text, 'Framework cannot be found');

  // A huge malformed body is refused, and the master keeps serving.
  r = await request(c.mport, API, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: Buffer.alloc(4 << 20, 0x5b) });
  assert.equal(r.status, 400);
  // Broken chunked framing on a raw socket: answered 400 or closed, never a hang or a crash.
  const got = await rawTcp(c.mport, `POST ${API} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n`);
  assert.ok(got === '' || got.startsWith('HTTP/1.1 400'), got);
  // An oversized header block is refused, not buffered without bound.
  const big = await rawTcp(c.mport, `POST ${API} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`, (g) => g.includes('\r\n\r\n'));
  assert.ok(big === '' || /^HTTP\/1\.1 4\d\d /.test(big), big);
  assert.equal((await request(c.mport, '/health')).status, 200);
});

test('SUBSCRIBE answers 200 chunked RecordIO with Mesos-Stream-Id; SUBSCRIBED then HEARTBEAT', async () => {
  const { stream, frameworkId, streamId } = await subscribe(c.mport);
  try {
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['content-type'], 'application/json');
    assert.equal(stream.headers['transfer-encoding'], 'chunked');
    assert.equal(stream.headers['content-length'], undefined);
    assert.match(streamId, UUID_RE);
    const [first] = stream.events;
    assert.equal(first.type, 'SUBSCRIBED');
    assert.equal(first.subscribed.framework_id.value, frameworkId);
    assert.match(frameworkId, new RegExp(`^${c.master.master.id}-\\d{4}$`));
    assert.equal(first.subscribed.heartbeat_interval_seconds, 15);
    const mi = first.subscribed.master_info;
    assert.equal(mi.id, c.master.master.id);
    assert.equal(mi.pid, `master@127.0.0.1:${c.mport}`);
    assert.equal(mi.port, c.mport);
    assert.equal(mi.hostname, 'master.test');
    assert.equal(typeof mi.ip, 'number');
    assert.deepEqual(mi.address, { hostname: 'master.test', ip: '127.0.0.1', port: c.mport });
    await stream.next((e) => e.type === 'HEARTBEAT', 'HEARTBEAT');
    assert.deepEqual(stream.events.find((e) => e.type === 'HEARTBEAT'), { type: 'HEARTBEAT' });
  } finally {
    stream.close();
  }
});

test('Accept lists and repeated Accept headers choose the encoding as Mesos does (JSON wins when allowed)', async () => {
  const body = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'accept' } } });
  const cases: Array<[string | string[], string]> = [
    ['application/x-protobuf', 'application/x-protobuf'],
    [['text/html', 'application/x-protobuf'], 'application/x-protobuf'],
    ['text/html, application/x-protobuf;q=0.5', 'application/x-protobuf'],
    ['application/x-protobuf, application/json', 'application/json'],
    ['application/x-protobuf, application/json;q=0.1', 'application/json'],
    ['*/*', 'application/json'],
  ];
  for (const [accept, expected] of cases) {
    const s = new Stream();
    await s.open(c.mport, API, body, { 'Content-Type': 'application/json', Accept: accept });
    try {
      assert.equal(s.status, 200, String(accept));
      assert.equal(s.headers['content-type'], expected, String(accept));
      await until(() => s.raw.records.length > 0, 'first record');
      const rec = s.raw.records[0]!;
      if (expected === 'application/json') {
        assert.equal(JSON.parse(rec.toString()).type, 'SUBSCRIBED');
      } else {
        // mesos.v1.scheduler.Event: type = 1 (SUBSCRIBED = 1), subscribed = 2 {framework_id = 1,
        // heartbeat_interval_seconds = 2 (double), master_info = 3 {id = 1, port = 3, pid = 4}}.
        const ev = fields(rec);
        assert.equal(one(ev, 1)!.value, 1n);
        const subscribed = sub(one(ev, 2));
        assert.match(str(one(sub(one(subscribed, 1)), 1))!, /-\d{4}$/);
        const hb = one(subscribed, 2)!;
        assert.equal(hb.wire, 1);
        assert.equal((hb.value as Buffer).readDoubleLE(0), 15);
        const mi = sub(one(subscribed, 3));
        assert.equal(str(one(mi, 1)), c.master.master.id);
        assert.equal(one(mi, 3)!.value, BigInt(c.mport));
        assert.equal(str(one(mi, 4)), `master@127.0.0.1:${c.mport}`);
      }
    } finally {
      s.close();
    }
  }
});

test('a protobuf SUBSCRIBE built by hand from the upstream field numbers is understood', async () => {
  // Call { type = 2: SUBSCRIBE(1), subscribe = 3 { framework_info = 1 { user = 1, name = 2 } } }
  const info = Buffer.concat([pbField(1, 'pbuser'), pbField(2, 'pbname')]);
  const call = Buffer.concat([pbEnum(2, 1), pbField(3, pbField(1, info))]);
  const s = new Stream();
  await s.open(c.mport, API, call, { 'Content-Type': 'application/x-protobuf', Accept: 'application/x-protobuf' });
  try {
    assert.equal(s.status, 200);
    await until(() => s.raw.records.length > 0, 'SUBSCRIBED');
    const ev = fields(s.raw.records[0]!);
    assert.equal(one(ev, 1)!.value, 1n);
    const fwId = str(one(sub(one(sub(one(ev, 2)), 1)), 1))!;
    const state = await getJson(c.mport, '/master/frameworks');
    const fw = state.frameworks.find((f: any) => f.id === fwId);
    assert.equal(fw.name, 'pbname');
    assert.equal(fw.user, 'pbuser');
  } finally {
    s.close();
  }
});

test('SCH-03 stream id rules, calls for another framework, UNKNOWN 501, 403 when not subscribed', async () => {
  const a = await subscribe(c.mport, { user: 'u', name: 'a', failover_timeout: 600 });
  const b = await subscribe(c.mport, { user: 'u', name: 'b' });
  try {
    let r = await request(c.mport, API, json({ type: 'REVIVE', framework_id: { value: a.frameworkId } }));
    assert.equal(r.status, 400);
    assert.equal(r.text, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");

    // Framework b's stream id used for framework a's call.
    r = await request(c.mport, API, json({ type: 'REVIVE', framework_id: { value: a.frameworkId } }, { 'Mesos-Stream-Id': b.streamId }));
    assert.equal(r.status, 400);
    assert.equal(r.text, `The stream ID '${b.streamId}' included in this request didn't match the stream ID currently associated with framework ID ${a.frameworkId}`);

    r = await request(c.mport, API, json({ type: 'REVIVE', framework_id: { value: a.frameworkId } }, { 'Mesos-Stream-Id': a.streamId }));
    assert.equal(r.status, 202);
    assert.equal(r.body.length, 0);

    r = await request(c.mport, API, json({ type: 'UNKNOWN', framework_id: { value: a.frameworkId } }, { 'Mesos-Stream-Id': a.streamId }));
    assert.equal(r.status, 501);

    // SUBSCRIBE naming a framework id that differs from framework_info.id.
    r = await request(c.mport, API, json({ type: 'SUBSCRIBE', framework_id: { value: a.frameworkId }, subscribe: { framework_info: { user: 'u', name: 'a' } } }));
    assert.equal(r.status, 400);
    assert.equal(r.text, "Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'");

    // Disconnect a (failover_timeout keeps it): its calls now get 403.
    a.stream.close();
    await until(async () => (await getJson(c.mport, '/master/frameworks')).frameworks.some((f: any) => f.id === a.frameworkId && !f.connected), 'framework a disconnected');
    r = await request(c.mport, API, json({ type: 'REVIVE', framework_id: { value: a.frameworkId } }, { 'Mesos-Stream-Id': a.streamId }));
    assert.equal(r.status, 403);
    assert.equal(r.text, 'Framework is not subscribed');
  } finally {
    a.stream.close();
    b.stream.close();
  }
});

test('protobuf event stream: OFFERS and UPDATE decode with upstream field numbers, required zero enums present', async () => {
  const body = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'pb-stream' } } });
  const s = new Stream();
  await s.open(c.mport, API, body, { 'Content-Type': 'application/json', Accept: 'application/x-protobuf' });
  const byType = (t: bigint) => s.raw.records.map(fields).filter((ev) => one(ev, 1)!.value === t);
  try {
    const subscribed = await until(() => byType(1n)[0], 'SUBSCRIBED');
    const frameworkId = str(one(sub(one(sub(one(subscribed, 2)), 1)), 1))!;
    const streamId = s.headers['mesos-stream-id'] as string;
    // Event.type OFFERS = 2, offers = 3 {offers = 1: Offer}.
    const offersEv = await until(() => byType(2n)[0], 'OFFERS');
    const offer = sub(one(sub(one(offersEv, 3)), 1));
    const offerId = str(one(sub(one(offer, 1)), 1))!;
    assert.match(offerId, /-O\d+$/);
    assert.equal(str(one(sub(one(offer, 2)), 1)), frameworkId);
    const agentId = str(one(sub(one(offer, 3)), 1))!;
    assert.equal(str(one(offer, 4)), 'agent.test');
    // Offer.url = 8: URL {scheme = 1, address = 2 {hostname = 1, ip = 2, port = 3}, path = 3}.
    const url = sub(one(offer, 8));
    assert.equal(str(one(url, 1)), 'http');
    assert.equal(str(one(url, 3)), '/slave(1)');
    const address = sub(one(url, 2));
    assert.equal(str(one(address, 2)), '127.0.0.1');
    assert.equal(one(address, 3)!.value, BigInt(c.aport));
    // Offer.allocation_info = 10 {role = 1}.
    assert.equal(str(one(sub(one(offer, 10)), 1)), '*');
    // Resource {name = 1, type = 2 (required: SCALAR = 0 must be on the wire), scalar = 3, role = 6}.
    const cpus = offer.get(5)!.map((f) => fields(f.value as Buffer)).find((r) => str(one(r, 1)) === 'cpus')!;
    assert.equal(one(cpus, 2)!.value, 0n, 'Resource.type SCALAR encoded although it is 0');
    assert.equal((one(sub(one(cpus, 3)), 1)!.value as Buffer).readDoubleLE(0), 2);
    assert.equal(str(one(cpus, 6)), '*');

    const r = await request(c.mport, API, json({
      type: 'ACCEPT', framework_id: { value: frameworkId },
      accept: { offer_ids: [{ value: offerId }], operations: [{ type: 'LAUNCH', launch: { task_infos: [{
        name: 'pb', task_id: { value: 'pb' }, agent_id: { value: agentId },
        resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }], command: { value: 'true' },
      }] } }] },
    }, { 'Mesos-Stream-Id': streamId }));
    assert.equal(r.status, 202);
    // Event.type UPDATE = 4, update = 5 {status = 1: TaskStatus {task_id = 1, state = 2, agent_id = 5,
    // timestamp = 6 (double), executor_id = 7, source = 9, uuid = 11}}.
    const updateEv = await until(() => byType(4n)[0], 'UPDATE');
    const status = sub(one(sub(one(updateEv, 5)), 1));
    assert.equal(str(one(sub(one(status, 1)), 1)), 'pb');
    assert.equal(one(status, 2)!.value, 0n, 'TaskStatus.state TASK_STARTING (0) is on the wire: the field is required');
    assert.equal(str(one(sub(one(status, 5)), 1)), agentId);
    assert.equal(one(status, 6)!.wire, 1);
    assert.equal(str(one(sub(one(status, 7)), 1)), 'pb');
    assert.equal(one(status, 9)!.value, 2n, 'SOURCE_EXECUTOR');
    assert.equal((one(status, 11)!.value as Buffer).length, 16);
  } finally {
    s.close();
  }
});
