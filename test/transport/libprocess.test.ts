import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { HttpServer, sendText } from '../../src/common/http/server.js';
import { encodeRequest, Libprocess } from '../../src/transport/libprocess.js';
import { formatUpid, parseUpid } from '../../src/transport/upid.js';
import { Inbox, deadPort, jsonCodec, rawExchange, startDaemon, statuses } from './helpers.js';

test('typed messages both ways, replies to the sender UPID', async () => {
  const a = await startDaemon({ codec: jsonCodec });
  const b = await startDaemon({ codec: jsonCodec });
  try {
    const agent = a.lp.spawn('slave(1)');
    const observer = b.lp.spawn('slave-observer(1)');
    const pongs = new Inbox<Record<string, unknown>>();
    const pings = new Inbox<Record<string, unknown>>();
    agent.install('mesos.internal.PingSlaveMessage', (from, msg) => {
      pings.push(from, msg);
      agent.send(from, 'mesos.internal.PongSlaveMessage', {});
    });
    observer.install('mesos.internal.PongSlaveMessage', pongs.push);

    observer.send(agent.upid, 'mesos.internal.PingSlaveMessage', { connected: true });
    const [ping] = await pings.waitFor(1);
    assert.deepEqual(ping!.value, { connected: true });
    assert.deepEqual(ping!.from, observer.upid);
    assert.equal(formatUpid(ping!.from), `slave-observer(1)@127.0.0.1:${b.port}`);

    const [pong] = await pongs.waitFor(1);
    assert.deepEqual(pong!.value, {});
    assert.equal(formatUpid(pong!.from), agent.pid);
    assert.equal(agent.pid, `slave(1)@127.0.0.1:${a.port}`);
    // Each side sent over its own single connection.
    assert.ok(b.lp.isConnected(agent.pid));
    assert.ok(a.lp.isConnected(observer.upid));
  } finally {
    await a.close();
    await b.close();
  }
});

test('1,000 messages arrive in order, empty bodies included', async () => {
  const a = await startDaemon();
  const b = await startDaemon();
  try {
    let inbound = 0;
    b.server.nodeServer.on('connection', () => inbound++);
    const sender = a.lp.spawn('sender');
    const receiver = b.lp.spawn('receiver');
    const inbox = new Inbox<number>();
    receiver.installRaw('Seq', (from, body) => inbox.push(from, body.length === 0 ? -1 : body.readUInt32BE(0)));
    const expected: number[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 100 === 7) {
        sender.sendRaw(receiver.pid, 'Seq');
        expected.push(-1);
        continue;
      }
      // Bodies of varied sizes, some spanning several TCP segments.
      const body = Buffer.alloc(4 + ((i * 37) % 5000), i & 0xff);
      body.writeUInt32BE(i, 0);
      sender.sendRaw(receiver.upid, 'Seq', body);
      expected.push(i);
    }
    const got = await inbox.waitFor(1000);
    assert.deepEqual(
      got.map((r) => r.value),
      expected,
    );
    // All of it over one persistent connection.
    assert.equal(inbound, 1);
  } finally {
    await a.close();
    await b.close();
  }
});

test('the request on the wire is exactly the libprocess encoding, one write per message', async () => {
  const chunks: Buffer[] = [];
  const sink = net.createServer((s) => s.on('data', (d) => chunks.push(d)));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const port = (sink.address() as net.AddressInfo).port;
  const a = await startDaemon();
  try {
    const me = a.lp.spawn('slave(1)');
    me.sendRaw({ id: 'master', ip: '127.0.0.1', port }, 'mesos.internal.Foo', Buffer.from('hello, world!!!!'));
    me.sendRaw(`slave-observer(3)@127.0.0.1:${port}`, 'mesos.internal.PongSlaveMessage');
    const from = `slave(1)@127.0.0.1:${a.port}`;
    const expected =
      `POST /master/mesos.internal.Foo HTTP/1.1\r\nUser-Agent: libprocess/${from}\r\nLibprocess-From: ${from}\r\n` +
      `Connection: Keep-Alive\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nhello, world!!!!\r\n0\r\n\r\n` +
      `POST /slave-observer(3)/mesos.internal.PongSlaveMessage HTTP/1.1\r\nUser-Agent: libprocess/${from}\r\n` +
      `Libprocess-From: ${from}\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
    while (Buffer.concat(chunks).length < expected.length) await new Promise((r) => setTimeout(r, 5));
    assert.equal(Buffer.concat(chunks).toString('latin1'), expected);
    // The encoder emits each message as one buffer.
    const one = encodeRequest(' HTTP/1.1\r\nHost: ', 'x', 'y', 'h:1', Buffer.from([1, 2, 3]));
    assert.equal(one.toString('latin1'), 'POST /x/y HTTP/1.1\r\nHost: h:1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\x01\x02\x03\r\n0\r\n\r\n');
  } finally {
    await a.close();
    sink.close();
  }
});

test('202 for a known actor, 404 for an unknown one, unknown message names dropped', async () => {
  const b = await startDaemon();
  try {
    const inbox = new Inbox<string>();
    b.lp.spawn('master').installRaw('Known', (from, body) => inbox.push(from, body.toString()));
    const from = 'scheduler-1@127.0.0.1:9';
    const req = (path: string, body: string) =>
      `POST ${path} HTTP/1.1\r\nLibprocess-From: ${from}\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const out = await rawExchange(
      b.port,
      req('/nobody/Known', 'a') + req('/master/Unknown', 'b') + req('/master/Known', 'c'),
      3,
    );
    assert.deepEqual(statuses(out), [404, 202, 202]);
    const got = await inbox.waitFor(1);
    assert.deepEqual(
      got.map((r) => r.value),
      ['c'],
    );
    assert.deepEqual(got[0]!.from, parseUpid(from));
  } finally {
    await b.close();
  }
});

test('percent-encoded actor ids, chunked and Content-Length bodies, User-Agent-only senders', async () => {
  const b = await startDaemon();
  try {
    const inbox = new Inbox<string>();
    const agent = b.lp.spawn('slave(1)');
    agent.installRaw('mesos.internal.Msg', (from, body) => inbox.push(from, `${formatUpid(from)} ${body.toString()}`));
    const chunked =
      'POST /slave%281%29/mesos.internal.Msg HTTP/1.1\r\nUser-Agent: libprocess/master@10.0.0.1:5050\r\n' +
      'Libprocess-From: master@10.0.0.1:5050\r\nConnection: Keep-Alive\r\nHost: \r\nTransfer-Encoding: chunked\r\n\r\n' +
      '3\r\none\r\n4\r\n-two\r\n0\r\n\r\n';
    const contentLength =
      'POST /slave(1)/mesos.internal.Msg HTTP/1.1\r\nLibprocess-From: master@10.0.0.1:5050\r\nHost: 10.0.0.2:5051\r\n' +
      'Content-Length: 5\r\n\r\nthree';
    const userAgentOnly =
      'POST /slave(1)/mesos.internal.Msg HTTP/1.1\r\nUser-Agent: libprocess/scheduler-xyz@10.0.0.3:4000\r\n' +
      'Host: \r\nContent-Length: 4\r\n\r\nfour';
    // What old libprocess versions sent: HTTP/1.0, no Host, no Libprocess-From.
    const http10 =
      'POST /slave(1)/mesos.internal.Msg HTTP/1.0\r\nUser-Agent: libprocess/old@10.0.0.4:4\r\n' +
      'Connection: Keep-Alive\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nfive\r\n0\r\n\r\n';
    const out = await rawExchange(b.port, chunked + contentLength + userAgentOnly + http10, 4);
    assert.deepEqual(statuses(out), [202, 202, 202, 202]);
    const got = await inbox.waitFor(4);
    assert.deepEqual(
      got.map((r) => r.value),
      [
        'master@10.0.0.1:5050 one-two',
        'master@10.0.0.1:5050 three',
        'scheduler-xyz@10.0.0.3:4000 four',
        'old@10.0.0.4:4 five',
      ],
    );
  } finally {
    await b.close();
  }
});

test('exited fires when the peer server closes, and sends reconnect afterwards', async () => {
  const a = await startDaemon();
  const b = await startDaemon();
  try {
    const master = a.lp.spawn('master');
    const agent = b.lp.spawn('slave(1)');
    const inbox = new Inbox<string>();
    agent.installRaw('Hello', (from, body) => inbox.push(from, body.toString()));
    const exited = new Inbox<null>();
    master.onExited((peer) => exited.push(peer, null));
    master.link(agent.upid);
    master.link(agent.upid); // idempotent: one exited per link
    master.sendRaw(agent.upid, 'Hello', Buffer.from('1'));
    await inbox.waitFor(1);

    // The agent drops every connection but keeps listening.
    b.server.nodeServer.closeAllConnections();
    const [ex] = await exited.waitFor(1);
    assert.deepEqual(ex!.from, agent.upid);

    // Messages are best effort: the next send opens a fresh connection.
    master.sendRaw(agent.upid, 'Hello', Buffer.from('2'));
    await inbox.waitFor(2);
    assert.deepEqual(
      inbox.items.map((r) => r.value),
      ['1', '2'],
    );
    assert.equal(exited.items.length, 1);

    // Breaking the connection from the sender's side reports it the same way.
    master.link(agent.upid);
    a.lp.disconnect(agent.pid);
    await exited.waitFor(2);
    assert.ok(!a.lp.isConnected(agent.upid));

    // A new link on the new connection fires again when the daemon goes away for good.
    master.link(agent.pid);
    await b.close();
    await exited.waitFor(3);
    assert.equal(formatUpid(exited.items[2]!.from), agent.pid);
  } finally {
    await a.close();
    await b.close();
  }
});

test('exited fires for a dead port, once per linked peer; queued messages are dropped', async () => {
  const a = await startDaemon();
  try {
    const port = await deadPort();
    const me = a.lp.spawn('slave(1)');
    const exited = new Inbox<null>();
    me.onExited((peer) => exited.push(peer, null));
    me.sendRaw({ id: 'master', ip: '127.0.0.1', port }, 'Lost', Buffer.from('x'));
    me.link({ id: 'master', ip: '127.0.0.1', port });
    me.link({ id: 'other', ip: '127.0.0.1', port });
    const got = await exited.waitFor(2);
    assert.deepEqual(got.map((r) => r.from.id).sort(), ['master', 'other']);
    assert.ok(!a.lp.isConnected(`master@127.0.0.1:${port}`));
    // Unlinked peers are not reported.
    const other = a.lp.spawn('other');
    const otherExited = new Inbox<null>();
    other.onExited((peer) => otherExited.push(peer, null));
    other.link({ id: 'x', ip: '127.0.0.1', port });
    other.unlink({ id: 'x', ip: '127.0.0.1', port });
    me.link({ id: 'master', ip: '127.0.0.1', port });
    await exited.waitFor(3);
    assert.equal(otherExited.items.length, 0);
  } finally {
    await a.close();
  }
});

test('link with reconnect swaps the connection without reporting exited', async () => {
  const a = await startDaemon();
  const b = await startDaemon();
  try {
    const inbound: net.Socket[] = [];
    b.server.nodeServer.on('connection', (s) => inbound.push(s));
    const agent = b.lp.spawn('slave(1)');
    const inbox = new Inbox<string>();
    agent.installRaw('M', (from, body) => inbox.push(from, body.toString()));
    const master = a.lp.spawn('master');
    const exited = new Inbox<null>();
    master.onExited((p) => exited.push(p, null));
    master.link(agent.upid);
    master.sendRaw(agent.upid, 'M', Buffer.from('before'));
    await inbox.waitFor(1);
    assert.equal(inbound.length, 1);
    const oldClosed = new Promise<void>((r) => inbound[0]!.once('close', () => r()));

    master.link(agent.upid, { reconnect: true });
    master.sendRaw(agent.upid, 'M', Buffer.from('after'));
    await inbox.waitFor(2);
    await oldClosed;
    assert.equal(inbound.length, 2);
    assert.equal(exited.items.length, 0);

    // The link now watches the new connection.
    b.server.nodeServer.closeAllConnections();
    await exited.waitFor(1);
    assert.deepEqual(exited.items[0]!.from, agent.upid);
    assert.deepEqual(
      inbox.items.map((r) => r.value),
      ['before', 'after'],
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('idle message connections outlive the server keep-alive timeout', async () => {
  const a = await startDaemon();
  const b = await startDaemon();
  try {
    // Node closes idle keep-alive sockets keepAliveTimeout + 1 s after the last response.
    b.server.nodeServer.keepAliveTimeout = 1;
    const master = a.lp.spawn('master');
    const agent = b.lp.spawn('slave(1)');
    const inbox = new Inbox<null>();
    agent.installRaw('Ping', (from) => inbox.push(from, null));
    let exited = 0;
    master.onExited(() => exited++);
    master.link(agent.upid);
    master.sendRaw(agent.upid, 'Ping');
    await inbox.waitFor(1);
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(exited, 0);
    assert.ok(a.lp.isConnected(agent.upid));
    master.sendRaw(agent.upid, 'Ping');
    await inbox.waitFor(2);
    assert.equal(exited, 0);
  } finally {
    await a.close();
    await b.close();
  }
});

test('local sends and links stay in process; terminate fires exited', async () => {
  const a = await startDaemon();
  try {
    const one = a.lp.spawn('one');
    const two = a.lp.spawn(a.lp.generateId('two'));
    assert.equal(two.id, 'two(1)');
    assert.equal(a.lp.generateId('two'), 'two(2)');
    const inbox = new Inbox<number>();
    two.installRaw('N', (from, body) => inbox.push(from, body[0]!));
    for (let i = 0; i < 10; i++) one.sendRaw(two.upid, 'N', Buffer.from([i]));
    const got = await inbox.waitFor(10);
    assert.deepEqual(
      got.map((r) => r.value),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(got[0]!.from, one.upid);
    const exited = new Inbox<null>();
    one.onExited((p) => exited.push(p, null));
    one.link(two.upid);
    a.lp.terminate(two.id);
    assert.equal(exited.items.length, 0); // an event, not a re-entrant call
    await exited.waitFor(1);
    assert.deepEqual(exited.items[0]!.from, two.upid);
    assert.equal(a.lp.actor('two(1)'), undefined);
    // Linking to an actor that does not exist fires too.
    one.link({ id: 'ghost', ip: '127.0.0.1', port: a.port });
    await exited.waitFor(2);
    assert.deepEqual(
      exited.items.map((r) => r.from.id),
      ['two(1)', 'ghost'],
    );
    assert.throws(() => a.lp.spawn('one'), /already exists/);
    assert.throws(() => a.lp.spawn('bad id'), /Malformed/);
  } finally {
    await a.close();
  }
});

test('normal HTTP routes work on the same server', async () => {
  const b = await startDaemon();
  try {
    b.lp.spawn('master');
    b.server.route('/health', (_req, res) => sendText(res, 200, 'ok'));
    b.server.route('/api/v1', (req, res) => sendText(res, 200, `api ${req.method}`));
    const out = await rawExchange(
      b.port,
      'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}' +
        // A libprocess-looking sender with a path that is not /<actor>/<name> is plain HTTP.
        'POST /health HTTP/1.1\r\nHost: x\r\nLibprocess-From: a@1.2.3.4:5\r\nContent-Length: 0\r\n\r\n' +
        // A malformed sender is plain HTTP too.
        'POST /master/Foo HTTP/1.1\r\nHost: x\r\nLibprocess-From: nonsense\r\nContent-Length: 0\r\n\r\n',
      4,
    );
    assert.deepEqual(statuses(out), [200, 200, 200, 404]);
    assert.match(out, /\r\n\r\nok/);
    assert.match(out, /api POST/);
  } finally {
    await b.close();
  }
});

test('garbage, bad bodies and failing handlers never crash the daemon', async () => {
  const b = await startDaemon({ codec: jsonCodec });
  try {
    const inbox = new Inbox<unknown>();
    const actor = b.lp.spawn('master');
    actor.install('Typed', (from, msg) => inbox.push(from, msg));
    actor.installRaw('Boom', () => {
      throw new Error('handler bug');
    });
    const from = 'x@127.0.0.1:1';
    // Plain garbage gets 400 and a closed socket.
    const garbage = await rawExchange(b.port, Buffer.from([0, 1, 2, 255, 13, 10, 13, 10, 99]), 1);
    assert.deepEqual(statuses(garbage), [400]);
    // A broken chunked body in a libprocess request.
    const badChunk = await rawExchange(
      b.port,
      `POST /master/Typed HTTP/1.1\r\nLibprocess-From: ${from}\r\nHost: \r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
      1,
    );
    assert.deepEqual(statuses(badChunk), [400]);
    // A half-sent message whose sender disappears.
    await new Promise<void>((resolve) => {
      const s = net.connect(b.port, '127.0.0.1', () => {
        s.write(`POST /master/Typed HTTP/1.1\r\nLibprocess-From: ${from}\r\nHost: \r\nContent-Length: 100\r\n\r\nabc`, () => {
          s.destroy();
          resolve();
        });
      });
    });
    // A body the codec rejects, a throwing handler, then a good message: only the good one arrives.
    const msg = (name: string, body: string) =>
      `POST /master/${name} HTTP/1.1\r\nLibprocess-From: ${from}\r\nHost: \r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const out = await rawExchange(
      b.port,
      msg('Typed', 'not json') + msg('Boom', '') + msg('Typed', JSON.stringify({ type: 'Typed', msg: { ok: 1 } })),
      3,
    );
    assert.deepEqual(statuses(out), [202, 202, 202]);
    const got = await inbox.waitFor(1);
    assert.deepEqual(
      got.map((r) => r.value),
      [{ ok: 1 }],
    );
    // And a real peer still gets through afterwards.
    const a = await startDaemon({ codec: jsonCodec });
    try {
      a.lp.spawn('s').send(actor.upid, 'Typed', { ok: 2 });
      await inbox.waitFor(2);
      assert.deepEqual(inbox.items[1]!.value, { ok: 2 });
    } finally {
      await a.close();
    }
  } finally {
    await b.close();
  }
});

test('close() destroys outgoing sockets without reporting exited', async () => {
  const a = await startDaemon();
  const b = await startDaemon();
  try {
    const inbound: net.Socket[] = [];
    b.server.nodeServer.on('connection', (s) => inbound.push(s));
    const agent = b.lp.spawn('slave(1)');
    const inbox = new Inbox<null>();
    agent.installRaw('Hi', (from) => inbox.push(from, null));
    const master = a.lp.spawn('master');
    let exited = 0;
    master.onExited(() => exited++);
    master.link(agent.upid);
    master.sendRaw(agent.upid, 'Hi');
    await inbox.waitFor(1);
    assert.equal(inbound.length, 1);
    const closed = new Promise<void>((r) => inbound[0]!.once('close', () => r()));
    a.lp.close();
    await closed;
    assert.equal(exited, 0);
    assert.equal(a.lp.actor('master'), undefined);
  } finally {
    await a.close();
    await b.close();
  }
});

test('filters see every incoming message and can drop it', async () => {
  const a = await startDaemon();
  const b = await startDaemon();
  try {
    const agent = b.lp.spawn('slave(1)');
    const inbox = new Inbox<string>();
    agent.installRaw('A', (from, body) => inbox.push(from, `A${body.toString()}`));
    agent.installRaw('B', (from, body) => inbox.push(from, `B${body.toString()}`));
    const seen: string[] = [];
    const remove = b.lp.addFilter((m) => {
      seen.push(`${m.name}>${m.to.id}<${m.from.id}`);
      return m.name === 'B';
    });
    const master = a.lp.spawn('master');
    master.sendRaw(agent.upid, 'A', Buffer.from('1'));
    master.sendRaw(agent.upid, 'B', Buffer.from('2'));
    master.sendRaw(agent.upid, 'A', Buffer.from('3'));
    await inbox.waitFor(2);
    remove();
    master.sendRaw(agent.upid, 'B', Buffer.from('4'));
    await inbox.waitFor(3);
    assert.deepEqual(
      inbox.items.map((r) => r.value),
      ['A1', 'A3', 'B4'],
    );
    assert.deepEqual(seen, ['A>slave(1)<master', 'B>slave(1)<master', 'A>slave(1)<master']);
  } finally {
    await a.close();
    await b.close();
  }
});

test('bodies do not alias the socket read buffer', async () => {
  const b = await startDaemon();
  try {
    const inbox = new Inbox<Buffer>();
    b.lp.spawn('master').installRaw('M', inbox.push);
    const body = 'x'.repeat(100);
    const one = `POST /master/M HTTP/1.1\r\nLibprocess-From: a@127.0.0.1:1\r\nHost: \r\nContent-Length: 100\r\n\r\n${body}`;
    // ~17 KB in one write: the server reads it in large chunks.
    await rawExchange(b.port, one.repeat(100), 100);
    const got = await inbox.waitFor(100);
    for (const r of got) {
      assert.equal(r.value.toString(), body);
      // A stored body must not keep the whole read alive (pooled small buffers are at most 8 KiB).
      assert.ok(r.value.buffer.byteLength <= 8192, `body backed by ${r.value.buffer.byteLength} bytes`);
    }
  } finally {
    await b.close();
  }
});

test('IPv6 peers: bracketed UPIDs, Host header and replies', async (t) => {
  const server6 = new HttpServer({ host: '::1', port: 0 });
  let port6: number;
  try {
    port6 = await server6.listen();
  } catch {
    t.skip('no IPv6 loopback here');
    return;
  }
  const lp6 = new Libprocess(server6, { ip: '::1', port: port6 });
  const a = await startDaemon();
  try {
    const agent = lp6.spawn('slave(1)');
    assert.equal(agent.pid, `slave(1)@[::1]:${port6}`);
    const hosts: string[] = [];
    server6.nodeServer.prependListener('request', (req) => hosts.push(String(req.headers.host)));
    const pongs = new Inbox<string>();
    agent.installRaw('Ping', (from) => agent.sendRaw(from, 'Pong', Buffer.from('6')));
    const master = a.lp.spawn('master');
    master.installRaw('Pong', (from, body) => pongs.push(from, body.toString()));
    master.sendRaw(agent.pid, 'Ping');
    const [pong] = await pongs.waitFor(1);
    assert.equal(formatUpid(pong!.from), agent.pid);
    assert.deepEqual(hosts, [`[::1]:${port6}`]);
  } finally {
    lp6.close();
    await server6.close();
    await a.close();
  }
});
