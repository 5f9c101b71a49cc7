// Conformance of the libprocess message transport (WIRE-01, WIRE-03) as a foreign agent sees it:
// raw TCP in, a plain HTTP server of ours for the replies, protobuf bodies built and read by hand
// from the upstream field numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster } from '../../src/master/main.js';
import { fields, getJson, one, pbEnum, pbField, rawTcp, request, str, sub, until } from './helpers.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  socket: net.Socket;
}

/** The foreign agent's own libprocess endpoint: records every message and answers 202. */
async function listen(onMessage?: (m: Received) => void): Promise<{ server: http.Server; port: number; got: Received[] }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), socket: req.socket };
      got.push(m);
      res.writeHead(202);
      res.end();
      onMessage?.(m);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, got, port: (server.address() as net.AddressInfo).port };
}

const double = (no: number, v: number): Buffer => {
  const b = Buffer.alloc(9);
  b[0] = (no << 3) | 1;
  b.writeDoubleLE(v, 1);
  return b;
};

/** A v0 Resource {name = 1, type = 2 (SCALAR = 0), scalar = 3 {value = 1}, role = 6}. */
const scalar = (name: string, v: number) => Buffer.concat([pbField(1, name), pbEnum(2, 0), pbField(3, double(1, v)), pbField(6, '*')]);

function chunkedMessage(to: string, name: string, from: string, body: Buffer): Buffer {
  const head =
    `POST /${to}/${name} HTTP/1.1\r\nUser-Agent: libprocess/${from}\r\nLibprocess-From: ${from}\r\n` +
    `Connection: Keep-Alive\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
}

test('a raw RegisterSlaveMessage gets 202, then SlaveRegisteredMessage and pings on our own server; pongs keep us', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conf-wire-'));
  const master = await startMaster(
    ['--ip=127.0.0.1', '--port=0', `--work_dir=${dir}`, '--registry=in_memory', '--agent_ping_timeout=100ms', '--max_agent_ping_timeouts=5'],
    { env: {} },
  );
  // Pings are answered the moment they arrive, for the whole test.
  let answered = 0;
  const pongFailures: string[] = [];
  const me = await listen((m) => {
    if (m.path === '/slave(1)/mesos.internal.PingSlaveMessage') pong(m).catch((e: Error) => pongFailures.push(e.message));
  });
  const from = `slave(1)@127.0.0.1:${me.port}`;
  // Pings come from slave-observer(N) on a connection the master opened; we pong that UPID.
  const pong = async (m: Received) => {
    const observer = String(m.headers['libprocess-from']);
    assert.match(observer, new RegExp(`^slave-observer\\(\\d+\\)@127\\.0\\.0\\.1:${master.port}$`));
    assert.equal(one(fields(m.body), 1)!.value, 1n, 'PingSlaveMessage.connected = true');
    const id = observer.slice(0, observer.indexOf('@'));
    // A Content-Length body (empty here) is accepted as well as chunked, and old libprocess
    // peers name the sender only in `User-Agent: libprocess/<pid>`.
    const sender = answered < 2 ? `Libprocess-From: ${from}` : `User-Agent: libprocess/${from}`;
    const r = await rawTcp(master.port,
      `POST /${id}/mesos.internal.PongSlaveMessage HTTP/1.1\r\n${sender}\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
      (g) => g.includes('\r\n\r\n'));
    assert.match(r, /^HTTP\/1\.1 202 /);
    answered++;
  };
  try {
    // SlaveInfo {hostname = 1, resources = 3, port = 8}; RegisterSlaveMessage {slave = 1, version = 2,
    // agent_capabilities = 4 {type = 1: MULTI_ROLE 1, HIERARCHICAL_ROLE 2, RESERVATION_REFINEMENT 3}}.
    const info = Buffer.concat([pbField(1, 'foreign.test'), pbField(3, scalar('cpus', 1)), pbField(3, scalar('mem', 128)), pbEnum(8, me.port)]);
    const caps = [1, 2, 3].map((t) => pbField(4, pbEnum(1, t)));
    const register = Buffer.concat([pbField(1, info), pbField(2, '1.11.0'), ...caps]);

    const reply = await rawTcp(master.port, chunkedMessage('master', 'mesos.internal.RegisterSlaveMessage', from, register), (g) => g.includes('\r\n\r\n'));
    assert.match(reply, /^HTTP\/1\.1 202 Accepted\r\n/);

    const registered = await until(() => me.got.find((m) => m.path === '/slave(1)/mesos.internal.SlaveRegisteredMessage'), 'SlaveRegisteredMessage');
    assert.equal(registered.headers['libprocess-from'], `master@127.0.0.1:${master.port}`);
    assert.equal(registered.headers['user-agent'], `libprocess/master@127.0.0.1:${master.port}`);
    const msg = fields(registered.body);
    const agentId = str(one(sub(one(msg, 1)), 1))!;
    assert.match(agentId, new RegExp(`^${master.master.id}-S\\d+$`));
    const conn = one(msg, 2);
    assert.ok(conn, 'connection is set');
    assert.ok(Math.abs((one(sub(conn), 1)!.value as Buffer).readDoubleLE(0) - 0.5) < 1e-9, 'total_ping_timeout_seconds = 5 x 100ms');

    await until(() => answered >= 8 || pongFailures.length > 0, 'eight pings answered');
    assert.deepEqual(pongFailures, []);
    // Eight ping intervals passed; without accepted pongs we would have been removed after five.
    const slaves = await getJson(master.port, '/master/slaves');
    const s = slaves.slaves.find((x: any) => x.id === agentId);
    assert.equal(s.active, true);
    assert.equal(s.hostname, 'foreign.test');
    assert.equal(s.pid, from);

    // Messages to an actor that does not exist are 404.
    const missing = await rawTcp(master.port, chunkedMessage('nobody', 'mesos.internal.PongSlaveMessage', from, Buffer.alloc(0)), (g) => g.includes('\r\n\r\n'));
    assert.match(missing, /^HTTP\/1\.1 404 /);
    // A malformed body is dropped without harm.
    const bad = await rawTcp(master.port, chunkedMessage('master', 'mesos.internal.RegisterSlaveMessage', from, Buffer.from([0xff, 0xff])), (g) => g.includes('\r\n\r\n'));
    assert.match(bad, /^HTTP\/1\.1 202 /);
    assert.equal((await getJson(master.port, '/master/slaves')).slaves.length, 1);
    // Broken chunk framing is a 400; a body past the size cap is refused; the master lives on.
    const head = `POST /master/mesos.internal.RegisterSlaveMessage HTTP/1.1\r\nLibprocess-From: ${from}\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const garbage = await rawTcp(master.port, `${head}zz\r\nabc\r\n0\r\n\r\n`, (g) => g.includes('\r\n\r\n'));
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    const huge = Buffer.alloc(65 * 1024 * 1024, 1);
    const tooBig = await rawTcp(master.port, Buffer.concat([Buffer.from(`${head}${huge.length.toString(16)}\r\n`), huge, Buffer.from('\r\n0\r\n\r\n')]), (g) => g.includes('\r\n\r\n'));
    assert.ok(tooBig === '' || /^HTTP\/1\.1 4\d\d /.test(tooBig), tooBig);
    assert.equal((await request(master.port, '/health')).status, 200);
  } finally {
    await master.stop();
    me.server.closeAllConnections();
    await new Promise((r) => me.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Meseta agent registers with a foreign master over raw libprocess and answers its pings', async () => {
  const fake = await listen();
  const masterPid = `master@127.0.0.1:${fake.port}`;
  const dir = mkdtempSync(join(tmpdir(), 'conf-wire-agent-'));
  const { startAgent } = await import('../../src/agent/main.js');
  const agent = await startAgent(
    [`--master=127.0.0.1:${fake.port}`, `--work_dir=${dir}`, '--port=0', '--ip=127.0.0.1', '--hostname=agent.test',
      '--registration_backoff_factor=10ms', '--resources=cpus:2;mem:1024;disk:2048;ports:[31000-31100]', '--no-switch_user'],
    { env: {} },
  );
  try {
    const reg = await until(() => fake.got.find((m) => m.path === '/master/mesos.internal.RegisterSlaveMessage'), 'RegisterSlaveMessage');
    const agentPid = `slave(1)@127.0.0.1:${agent.port}`;
    assert.equal(reg.headers['libprocess-from'], agentPid);
    assert.equal(reg.headers['user-agent'], `libprocess/${agentPid}`);
    // RegisterSlaveMessage {slave = 1: SlaveInfo {hostname = 1, resources = 3, port = 8}, version = 2,
    // agent_capabilities = 4}.
    const msg = fields(reg.body);
    const info = sub(one(msg, 1));
    assert.equal(str(one(info, 1)), 'agent.test');
    assert.equal(one(info, 8)!.value, BigInt(agent.port));
    const names = info.get(3)!.map((f) => str(one(fields(f.value as Buffer), 1)));
    assert.deepEqual(names.sort(), ['cpus', 'disk', 'mem', 'ports']);
    assert.match(str(one(msg, 2))!, /^\d+\.\d+\.\d+/);
    assert.ok((msg.get(4) ?? []).length > 0, 'agent_capabilities');

    // Admit it: SlaveRegisteredMessage {slave_id = 1 {value = 1}, connection = 2 {total_ping_timeout_seconds = 1}}.
    const registered = Buffer.concat([pbField(1, pbField(1, 'FOREIGN-S7')), pbField(2, double(1, 75))]);
    const reply = await rawTcp(agent.port, chunkedMessage('slave(1)', 'mesos.internal.SlaveRegisteredMessage', masterPid, registered), (g) => g.includes('\r\n\r\n'));
    assert.match(reply, /^HTTP\/1\.1 202 /);
    await until(async () => (await getJson(agent.port, '/state')).id === 'FOREIGN-S7', 'agent took its id');

    // A ping from slave-observer(3) is answered with a pong to that UPID, on the agent's own connection.
    const observer = `slave-observer(3)@127.0.0.1:${fake.port}`;
    // (The actor id may come percent-encoded.)
    const ping = await rawTcp(agent.port, chunkedMessage('slave%281%29', 'mesos.internal.PingSlaveMessage', observer, pbEnum(1, 1)), (g) => g.includes('\r\n\r\n'));
    assert.match(ping, /^HTTP\/1\.1 202 /);
    const pong = await until(() => fake.got.find((m) => m.path === '/slave-observer(3)/mesos.internal.PongSlaveMessage'), 'PongSlaveMessage');
    assert.equal(pong.headers['libprocess-from'], agentPid);
    assert.equal(pong.body.length, 0);
  } finally {
    await agent.stop();
    fake.server.closeAllConnections();
    await new Promise((r) => fake.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});
