// The transport over the real protobuf codec: mesos.internal messages by their full names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatUpid } from '../../src/transport/upid.js';
import { Inbox, rawExchange, startDaemon, statuses } from './helpers.js';
import type { Msg } from '../../src/transport/libprocess.js';

test('PingSlaveMessage / PongSlaveMessage between a master and an agent', async () => {
  const master = await startDaemon();
  const agent = await startDaemon();
  try {
    const slave = agent.lp.spawn('slave(1)');
    const observer = master.lp.spawn('slave-observer(1)');
    const pings = new Inbox<Msg>();
    const pongs = new Inbox<Msg>();
    slave.install('mesos.internal.PingSlaveMessage', (from, msg) => {
      pings.push(from, msg);
      slave.send(from, 'mesos.internal.PongSlaveMessage', {});
    });
    observer.install('mesos.internal.PongSlaveMessage', pongs.push);
    observer.send(slave.pid, 'mesos.internal.PingSlaveMessage', { connected: true });
    const [ping] = await pings.waitFor(1);
    assert.deepEqual(ping!.value, { connected: true });
    const [pong] = await pongs.waitFor(1);
    assert.deepEqual(pong!.value, {});
    assert.equal(formatUpid(pong!.from), slave.pid);
  } finally {
    await master.close();
    await agent.close();
  }
});

test('protobuf bytes from a raw libprocess peer are decoded; undecodable bodies are dropped', async () => {
  const agent = await startDaemon();
  try {
    const slave = agent.lp.spawn('slave(1)');
    const inbox = new Inbox<Msg>();
    slave.install('mesos.internal.PingSlaveMessage', inbox.push);
    slave.install('mesos.internal.ShutdownMessage', inbox.push);
    const from = 'slave-observer(4)@10.0.0.1:5050';
    // Encoded the way libprocess does: chunked when there is a body, nothing after the headers otherwise.
    const req = (name: string, body: Buffer) => {
      const head =
        `POST /slave%281%29/${name} HTTP/1.1\r\nUser-Agent: libprocess/${from}\r\nLibprocess-From: ${from}\r\n` +
        `Connection: Keep-Alive\r\nHost: \r\n`;
      if (body.length === 0) return Buffer.from(`${head}\r\n`);
      return Buffer.concat([
        Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`),
        body,
        Buffer.from('\r\n0\r\n\r\n'),
      ]);
    };
    const out = await rawExchange(
      agent.port,
      Buffer.concat([
        // field 1 (connected), varint, true
        req('mesos.internal.PingSlaveMessage', Buffer.from([0x08, 0x01])),
        // wire type 7 does not exist: not protobuf
        req('mesos.internal.ShutdownMessage', Buffer.from([0x0f])),
        // the required field `connected` is missing
        req('mesos.internal.PingSlaveMessage', Buffer.alloc(0)),
        // field 1 (message), "bye"
        req('mesos.internal.ShutdownMessage', Buffer.from([0x0a, 0x03, 0x62, 0x79, 0x65])),
      ]),
      4,
    );
    assert.deepEqual(statuses(out), [202, 202, 202, 202]);
    const got = await inbox.waitFor(2);
    assert.deepEqual(
      got.map((r) => r.value),
      [{ connected: true }, { message: 'bye' }],
    );
    assert.equal(formatUpid(got[0]!.from), from);
  } finally {
    await agent.close();
  }
});

test('send encodes synchronously: an invalid message throws at the caller, a dead actor sends nothing', async () => {
  const a = await startDaemon();
  const b = await startDaemon();
  try {
    const inbox = new Inbox<Msg>();
    b.lp.spawn('slave(1)').install('mesos.internal.ShutdownMessage', inbox.push);
    const master = a.lp.spawn('master');
    const to = `slave(1)@127.0.0.1:${b.port}`;
    assert.throws(() => master.send(to, 'mesos.internal.PingSlaveMessage', {}), /connected/);
    assert.throws(() => master.send(to, 'mesos.internal.NoSuchMessage', {}));
    assert.throws(() => master.send('not a pid', 'mesos.internal.ShutdownMessage', {}), /Malformed UPID/);
    master.send(to, 'mesos.internal.ShutdownMessage', { message: 'one' });
    await inbox.waitFor(1);
    a.lp.terminate('master');
    assert.equal(a.lp.actor('master'), undefined);
    assert.ok(!master.running);
    master.send(to, 'mesos.internal.ShutdownMessage', { message: 'two' });
    const again = a.lp.spawn('master');
    again.send(to, 'mesos.internal.ShutdownMessage', { message: 'three' });
    await inbox.waitFor(2);
    assert.deepEqual(
      inbox.items.map((r) => r.value),
      [{ message: 'one' }, { message: 'three' }],
    );
  } finally {
    await a.close();
    await b.close();
  }
});
