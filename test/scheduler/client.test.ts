import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../src/common/clock.js';
import { SchedulerClient } from '../../src/scheduler/client.js';
import { SchedulerHttpError, SubscriptionError } from '../../src/scheduler/errors.js';
import { parseMaster, resolveLocation } from '../../src/scheduler/address.js';
import { FakeMaster } from './fake-master.js';

const FRAMEWORK = { user: 'tester', name: 'client-test' };

function client(master: FakeMaster, extra: Partial<ConstructorParameters<typeof SchedulerClient>[0]> = {}) {
  return new SchedulerClient({ master: master.address, frameworkInfo: FRAMEWORK, contentType: 'json', ...extra });
}

/** Lets socket I/O run (the ManualClock only moves protocol time). */
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

test('parseMaster accepts host:port, URLs and protocol-relative forms', () => {
  assert.deepEqual(parseMaster('127.0.0.1:5050'), { host: '127.0.0.1', port: 5050, path: '/api/v1/scheduler' });
  assert.deepEqual(parseMaster('http://m1:5051'), { host: 'm1', port: 5051, path: '/api/v1/scheduler' });
  assert.deepEqual(parseMaster('//m1:7/master/api/v1/scheduler'), { host: 'm1', port: 7, path: '/master/api/v1/scheduler' });
  assert.deepEqual(parseMaster('m2'), { host: 'm2', port: 5050, path: '/api/v1/scheduler' });
  assert.throws(() => parseMaster('zk://zk1:2181/mesos'), /ZooKeeper/);
  assert.throws(() => parseMaster('ftp://x:1'), /Unsupported scheme/);
  const next = resolveLocation('//leader:6060/api/v1/scheduler', parseMaster('a:1'));
  assert.deepEqual(next, { host: 'leader', port: 6060, path: '/api/v1/scheduler' });
});

test('subscribe reads SUBSCRIBED and later events, remembers stream id and framework id', async (t) => {
  const master = await new FakeMaster().start();
  const c = client(master);
  t.after(async () => {
    c.close();
    await master.stop();
  });
  const subscribed = await c.subscribe();
  assert.deepEqual(subscribed.framework_id, { value: 'fw-1' });
  assert.equal(c.streamId, 'stream-1');
  assert.deepEqual(c.frameworkId, { value: 'fw-1' });

  const sub = master.subscribes[0]!;
  assert.equal(sub.headers['content-type'], 'application/json');
  assert.equal(sub.headers.accept, 'application/json');
  assert.equal(sub.headers['mesos-stream-id'], undefined, 'SUBSCRIBE must not carry Mesos-Stream-Id');
  assert.equal(sub.body.subscribe.framework_info.user, 'tester');
  assert.equal(sub.body.subscribe.framework_info.name, 'client-test');
  assert.equal(sub.body.subscribe.framework_info.id, undefined);
  assert.equal(sub.body.framework_id, undefined);

  const stream = master.streams[0]!;
  const offer = {
    id: { value: 'O1' },
    framework_id: { value: 'fw-1' },
    agent_id: { value: 'S1' },
    hostname: 'h',
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 } }],
  };
  // One record delivered a byte at a time: chunk boundaries must not matter.
  await stream.send({ type: 'OFFERS', offers: { offers: [offer] } }, true);
  await stream.send({ type: 'HEARTBEAT' });

  const it = c[Symbol.asyncIterator]();
  const e1 = (await it.next()).value;
  assert.equal(e1.type, 'SUBSCRIBED');
  const e2 = (await it.next()).value;
  assert.equal(e2.type, 'OFFERS');
  assert.equal(e2.offers.offers[0].id.value, 'O1');
  assert.equal(e2.offers.offers[0].resources[0].scalar.value, 2);
  const e3 = (await it.next()).value;
  assert.equal(e3.type, 'HEARTBEAT');

  await c.launch(['O1'], [{ name: 't', task_id: { value: 't1' }, agent_id: { value: 'S1' }, command: { value: 'true' } }], {
    refuse_seconds: 1,
  });
  const accept = master.calls[0]!;
  assert.equal(accept.headers['mesos-stream-id'], 'stream-1');
  assert.deepEqual(accept.body.framework_id, { value: 'fw-1' });
  assert.equal(accept.body.type, 'ACCEPT');
  assert.deepEqual(accept.body.accept.offer_ids, [{ value: 'O1' }]);
  assert.equal(accept.body.accept.operations[0].type, 'LAUNCH');
  assert.equal(accept.body.accept.operations[0].launch.task_infos[0].command.value, 'true');
  assert.equal(accept.body.accept.filters.refuse_seconds, 1);
});

test('acknowledge sends ACKNOWLEDGE only for updates that carry a uuid', async (t) => {
  const master = await new FakeMaster().start();
  const c = client(master);
  t.after(async () => {
    c.close();
    await master.stop();
  });
  await c.subscribe();
  const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const status = { task_id: { value: 't1' }, agent_id: { value: 'S1' }, state: 'TASK_RUNNING', uuid };
  assert.equal(await c.acknowledge(status), true);
  assert.equal(await c.acknowledge({ task_id: { value: 't1' }, state: 'TASK_LOST', source: 'SOURCE_MASTER' }), false);
  assert.equal(master.calls.length, 1);
  const ack = master.calls[0]!.body;
  assert.equal(ack.type, 'ACKNOWLEDGE');
  assert.deepEqual(ack.acknowledge.task_id, { value: 't1' });
  assert.deepEqual(ack.acknowledge.agent_id, { value: 'S1' });
  assert.equal(ack.acknowledge.uuid, uuid.toString('base64'));
});

test('the other call helpers produce Mesos-shaped calls', async (t) => {
  const master = await new FakeMaster().start();
  const c = client(master);
  t.after(async () => {
    c.close();
    await master.stop();
  });
  await c.subscribe();
  await c.decline(['O2'], { refuse_seconds: 3600 });
  await c.kill('t1', 'S1');
  await c.reconcile([{ task_id: 't1' }, { task_id: 't2', agent_id: 'S1' }]);
  await c.revive(['r1']);
  await c.suppress();
  await c.message('S1', 'e1', Buffer.from('hi'));
  await c.shutdown('e1', 'S1');
  const updated = await c.updateFramework({ ...FRAMEWORK, name: 'renamed' });
  assert.equal(updated.status, 200);
  await c.teardown();
  const bodies = master.calls.map((x) => x.body);
  assert.deepEqual(
    bodies.map((b) => b.type),
    ['DECLINE', 'KILL', 'RECONCILE', 'REVIVE', 'SUPPRESS', 'MESSAGE', 'SHUTDOWN', 'UPDATE_FRAMEWORK', 'TEARDOWN'],
  );
  assert.deepEqual(bodies[0].decline, { offer_ids: [{ value: 'O2' }], filters: { refuse_seconds: 3600 } });
  assert.deepEqual(bodies[1].kill, { task_id: { value: 't1' }, agent_id: { value: 'S1' } });
  assert.deepEqual(bodies[2].reconcile.tasks, [{ task_id: { value: 't1' } }, { task_id: { value: 't2' }, agent_id: { value: 'S1' } }]);
  assert.deepEqual(bodies[3].revive.roles, ['r1']);
  assert.equal(bodies[5].message.data, Buffer.from('hi').toString('base64'));
  assert.deepEqual(bodies[6].shutdown, { executor_id: { value: 'e1' }, agent_id: { value: 'S1' } });
  assert.deepEqual(bodies[7].update_framework.framework_info.id, { value: 'fw-1' });
  assert.equal(bodies[7].update_framework.framework_info.name, 'renamed');
  for (const b of bodies) assert.deepEqual(b.framework_id, { value: 'fw-1' });
});

test('a refused call throws an error carrying status and body', async (t) => {
  const master = await new FakeMaster().start();
  master.answer = (call) => (call.type === 'KILL' ? [403, 'Framework is not subscribed'] : undefined);
  const c = client(master);
  t.after(async () => {
    c.close();
    await master.stop();
  });
  await c.subscribe();
  await assert.rejects(c.kill('t1'), (e: unknown) => {
    assert.ok(e instanceof SchedulerHttpError);
    assert.equal(e.status, 403);
    assert.equal(e.body, 'Framework is not subscribed');
    assert.match(e.message, /KILL call failed with HTTP 403/);
    return true;
  });
});

test('subscribe follows a protocol-relative 307 to the leader, and later calls go there', async (t) => {
  const leader = await new FakeMaster().start();
  const follower = await new FakeMaster().start();
  follower.onSubscribe = (_req, res) => {
    res.writeHead(307, { Location: `//127.0.0.1:${leader.port}/api/v1/scheduler` }).end();
    return true;
  };
  const c = client(follower);
  t.after(async () => {
    c.close();
    await leader.stop();
    await follower.stop();
  });
  await c.subscribe();
  assert.equal(follower.subscribes.length, 1);
  assert.equal(leader.subscribes.length, 1);
  assert.equal(c.masterEndpoint.port, leader.port);
  await c.revive();
  assert.equal(leader.calls.length, 1);
  assert.equal(follower.calls.length, 0);
});

test('a non-200 SUBSCRIBE rejects with the status, and an ERROR event is fatal', async (t) => {
  const master = await new FakeMaster().start();
  master.onSubscribe = (_req, res) => {
    res.writeHead(400, { 'Content-Type': 'text/plain' }).end("Failed to validate scheduler::Call: Expecting 'framework_info.user'");
    return true;
  };
  const c = client(master);
  t.after(async () => {
    c.close();
    await master.stop();
  });
  await assert.rejects(c.subscribe(), (e: unknown) => e instanceof SchedulerHttpError && e.status === 400 && /framework_info.user/.test(e.body));

  master.onSubscribe = undefined;
  master.autoSubscribed = () => ({ type: 'ERROR', error: { message: 'Framework has been removed' } });
  await assert.rejects(c.subscribe(), (e: unknown) => e instanceof SubscriptionError && /has been removed/.test(e.message));
  // The ERROR event is delivered, then the iterator ends (no automatic re-subscription).
  const events: any[] = [];
  for await (const e of c) events.push(e);
  assert.deepEqual(events.map((e) => e.type), ['ERROR']);
  assert.equal(master.subscribes.length, 2);
});

test('a broken stream re-subscribes with the assigned framework id and uses the new stream id', async (t) => {
  const master = await new FakeMaster().start();
  const clock = new ManualClock();
  const c = client(master, { clock, backoffInitialMs: 100, backoffMaxMs: 400 });
  t.after(async () => {
    c.close();
    await master.stop();
  });
  const disconnected = new Promise((r) => c.once('disconnected', r));
  await c.subscribe();
  master.streams[0]!.close();
  await disconnected;
  assert.equal(c.streamId, undefined);
  assert.equal(master.subscribes.length, 1, 'no re-subscription before the backoff elapses');
  clock.advance(100);
  await master.until(() => master.subscribes.length === 2);
  await new Promise((r) => c.once('subscribed', r));
  const again = master.subscribes[1]!.body;
  assert.deepEqual(again.framework_id, { value: 'fw-1' });
  assert.deepEqual(again.subscribe.framework_info.id, { value: 'fw-1' });
  assert.equal(c.streamId, 'stream-2');
  await c.revive();
  assert.equal(master.calls[0]!.headers['mesos-stream-id'], 'stream-2');
});

test('re-subscription backs off exponentially while the master is away', async (t) => {
  const master = await new FakeMaster().start();
  const clock = new ManualClock();
  const c = client(master, { clock, backoffInitialMs: 100, backoffMaxMs: 1000 });
  const failures: Error[] = [];
  c.on('reconnectFailed', (e: Error) => failures.push(e));
  t.after(async () => {
    c.close();
    await master.stop();
  });
  await c.subscribe();
  let refuse = true;
  master.onSubscribe = (_req, res) => {
    if (!refuse) return false;
    res.writeHead(503).end('Master has not finished recovery');
    return true;
  };
  master.streams[0]!.close();
  await new Promise((r) => c.once('disconnected', r));
  // Attempt n waits between base/2 and base, base = 100 * 2^(n-1): after 100 ms the first try has happened.
  clock.advance(100);
  await master.until(() => master.subscribes.length === 2);
  await tick();
  assert.equal(failures.length, 1);
  clock.advance(99); // second wait is at least 100 ms
  await tick();
  assert.equal(master.subscribes.length, 2);
  clock.advance(101);
  await master.until(() => master.subscribes.length === 3);
  refuse = false;
  await tick();
  clock.advance(400);
  await master.until(() => master.subscribes.length === 4);
  await new Promise((r) => c.once('subscribed', r));
  assert.ok(c.connected);
});

test('no event for 5 heartbeat intervals drops the stream and re-subscribes', async (t) => {
  const master = await new FakeMaster().start();
  master.autoSubscribed = () => ({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'fw-9' }, heartbeat_interval_seconds: 1 } });
  const clock = new ManualClock();
  const c = client(master, { clock, backoffInitialMs: 10, backoffMaxMs: 10 });
  t.after(async () => {
    c.close();
    await master.stop();
  });
  await c.subscribe();
  let dropped = false;
  c.once('disconnected', () => (dropped = true));
  clock.advance(4000);
  await master.streams[0]!.send({ type: 'HEARTBEAT' });
  await tick();
  clock.advance(4000); // 4 s since the heartbeat: still alive
  await tick();
  assert.equal(dropped, false);
  clock.advance(1000); // 5 s of silence
  await tick();
  assert.equal(dropped, true);
  clock.advance(10);
  await master.until(() => master.subscribes.length === 2);
  assert.deepEqual(master.subscribes[1]!.body.framework_id, { value: 'fw-9' });
});

test('close() ends the iterator and stops reconnecting', async (t) => {
  const master = await new FakeMaster().start();
  const clock = new ManualClock();
  const c = client(master, { clock });
  t.after(() => master.stop());
  await c.subscribe();
  const seen: string[] = [];
  const loop = (async () => {
    for await (const e of c) seen.push(e.type);
  })();
  await tick();
  c.close();
  await loop;
  assert.deepEqual(seen, ['SUBSCRIBED']);
  assert.equal(clock.pending(), 0, 'no timers left behind');
  await assert.rejects(c.revive(), /closed/);
});

test('a malformed RecordIO stream is treated as a broken connection', async (t) => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Mesos-Stream-Id': 's' });
      res.write('abc\n{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const c = new SchedulerClient({ master: `127.0.0.1:${port}`, frameworkInfo: FRAMEWORK, contentType: 'json' });
  t.after(async () => {
    c.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  await assert.rejects(c.subscribe());
});

test('protobuf encoding: calls and events travel as binary protobuf with RecordIO framing', async (t) => {
  const { decodeProto, encodeProto } = await import('../../src/protocol/codec.js');
  const calls: any[] = [];
  const uuid = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      assert.equal(req.headers['content-type'], 'application/x-protobuf');
      const call = decodeProto('mesos.v1.scheduler.Call', Buffer.concat(chunks));
      calls.push(call);
      if (call.type !== 'SUBSCRIBE') {
        res.writeHead(202).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Mesos-Stream-Id': 'pb-stream' });
      for (const event of [
        { type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'pb-fw' }, heartbeat_interval_seconds: 15 } },
        { type: 'UPDATE', update: { status: { task_id: { value: 't' }, agent_id: { value: 'S0' }, state: 'TASK_RUNNING', uuid } } },
      ]) {
        const bytes = encodeProto('mesos.v1.scheduler.Event', event);
        res.write(Buffer.concat([Buffer.from(`${bytes.length}\n`), bytes]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const c = new SchedulerClient({ master: `http://127.0.0.1:${port}`, frameworkInfo: FRAMEWORK });
  t.after(async () => {
    c.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  assert.equal(c.contentType, 'protobuf');
  await c.subscribe();
  assert.equal(calls[0].subscribe.framework_info.name, 'client-test');
  const it = c[Symbol.asyncIterator]();
  assert.equal((await it.next()).value.type, 'SUBSCRIBED');
  const update = (await it.next()).value;
  assert.equal(update.update.status.state, 'TASK_RUNNING');
  assert.ok(Buffer.from(update.update.status.uuid).equals(uuid));
  assert.equal(await c.acknowledge(update.update.status), true);
  assert.equal(calls[1].type, 'ACKNOWLEDGE');
  assert.deepEqual(calls[1].framework_id, { value: 'pb-fw' });
  assert.ok(Buffer.from(calls[1].acknowledge.uuid).equals(uuid));
});

test('a 4xx answer to a re-subscription is final: the iterator ends', async (t) => {
  const master = await new FakeMaster().start();
  const clock = new ManualClock();
  const c = client(master, { clock, backoffInitialMs: 10, backoffMaxMs: 10 });
  t.after(async () => {
    c.close();
    await master.stop();
  });
  await c.subscribe();
  master.onSubscribe = (_req, res) => {
    res.writeHead(403, { 'Content-Type': 'text/plain' }).end('Not authorized to use role');
    return true;
  };
  const failed = new Promise<Error>((r) => c.once('reconnectFailed', r));
  master.streams[0]!.close();
  await new Promise((r) => c.once('disconnected', r));
  clock.advance(10);
  const err = await failed;
  assert.ok(err instanceof SchedulerHttpError && err.status === 403);
  const seen: string[] = [];
  for await (const e of c) seen.push(e.type);
  assert.deepEqual(seen, ['SUBSCRIBED']);
  clock.advance(1000);
  await tick();
  assert.equal(master.subscribes.length, 2, 'no further attempts');
  await assert.rejects(c.subscribe(), /ended/);
});
