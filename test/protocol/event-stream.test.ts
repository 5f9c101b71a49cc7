import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProto } from '../../src/protocol/codec.js';
import { encodeEvent, EventStream } from '../../src/protocol/event-stream.js';
import { RecordIOReader } from '../../src/protocol/recordio.js';

const EVENT = 'mesos.v1.scheduler.Event';

async function withServer(
  handler: (res: http.ServerResponse) => void,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const server = http.createServer((_req, res) => handler(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function get(port: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/scheduler', agent: false }, resolve);
    req.on('error', reject);
  });
}

test('encodeEvent frames JSON and protobuf events', () => {
  const ev = { type: 'HEARTBEAT' };
  assert.equal(encodeEvent(EVENT, ev, 'json').toString(), '20\n{"type":"HEARTBEAT"}');
  assert.deepEqual(encodeEvent(EVENT, ev, 'protobuf'), Buffer.from([0x32, 0x0a, 0x08, 0x08]));
});

test('EventStream writes a chunked 200 with one record per event', async () => {
  let stream: EventStream | undefined;
  await withServer(
    (res) => {
      stream = new EventStream(res, 'protobuf', EVENT, { 'Mesos-Stream-Id': 'abc' });
      stream.send({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'f' }, heartbeat_interval_seconds: 15 } });
      stream.send({ type: 'HEARTBEAT' });
      stream.close();
    },
    async (port) => {
      const res = await get(port);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/x-protobuf');
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.headers['content-length'], undefined);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.equal(res.headers['mesos-stream-id'], 'abc');
      const reader = new RecordIOReader();
      const events: unknown[] = [];
      for await (const chunk of res) {
        for (const rec of reader.push(chunk as Buffer)) events.push(decodeProto(EVENT, rec));
      }
      reader.end();
      assert.deepEqual(events, [
        { type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'f' }, heartbeat_interval_seconds: 15 } },
        { type: 'HEARTBEAT' },
      ]);
      assert.equal(stream!.closed, true);
      assert.equal(stream!.send({ type: 'HEARTBEAT' }), false);
    },
  );
});

test('onClose fires once when the client goes away', async () => {
  let stream: EventStream | undefined;
  let fired = 0;
  let resolveGone: () => void = () => {};
  const gone = new Promise<void>((resolve) => { resolveGone = resolve; });
  await withServer(
    (res) => {
      stream = new EventStream(res, 'json', EVENT);
      stream.onClose(() => { fired++; resolveGone(); });
      stream.send({ type: 'HEARTBEAT' });
    },
    async (port) => {
      const res = await get(port);
      assert.equal(res.headers['content-type'], 'application/json');
      const first: Buffer = await new Promise((resolve) => res.once('data', resolve));
      assert.equal(first.toString(), '20\n{"type":"HEARTBEAT"}');
      res.destroy();
      await gone;
      assert.equal(stream!.closed, true);
      assert.equal(stream!.send({ type: 'HEARTBEAT' }), false);
      stream!.close();
      let late = 0;
      stream!.onClose(() => late++);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(fired, 1);
      assert.equal(late, 1);
    },
  );
});

test('close() from our side ends the response without running onClose', async () => {
  let ownFired = 0;
  await withServer(
    (res) => {
      const s = new EventStream(res, 'json', EVENT);
      s.onClose(() => ownFired++);
      s.send({ type: 'HEARTBEAT' });
      s.close();
    },
    async (port) => {
      const res = await get(port);
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), '20\n{"type":"HEARTBEAT"}');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(ownFired, 0);
    },
  );
});
