// The wire client against a real ZooKeeper server.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MAX_PACKET_BYTES, WireZkClient, isZkError, parseServers, type ZkClient } from '../../src/zookeeper/index.js';
import { startZooKeeper, zookeeperMissing, type ZkTestCluster } from '../support/zookeeper-server.js';
import { defineClientBehaviour } from './behaviour.js';

const missing = zookeeperMissing();
if (missing) console.log(`# ${missing}`);

describe('WireZkClient against a real ZooKeeper', { skip: missing }, () => {
  let zk: ZkTestCluster;
  const clients: ZkClient[] = [];

  before(async () => {
    zk = await startZooKeeper();
  });
  after(async () => {
    for (const c of clients) await c.close();
    await zk?.stop();
  });

  async function client(opts: { sessionTimeoutMs?: number } = {}): Promise<WireZkClient> {
    const c = new WireZkClient({ servers: parseServers(zk.connectString), sessionTimeoutMs: opts.sessionTimeoutMs ?? 4000 });
    clients.push(c);
    await c.connected();
    return c;
  }

  defineClientBehaviour(() => ({
    client,
    // Steal the session from a second connection and close it there: the ensemble ends it.
    async expire(c) {
      const w = c as WireZkClient;
      const thief = new WireZkClient({ servers: parseServers(zk.connectString), session: { id: w.sessionId, password: w.sessionPassword } });
      await thief.connected();
      assert.equal(thief.sessionId, w.sessionId);
      await thief.close();
    },
  }));

  it('negotiates the session timeout within the server bounds', async () => {
    const c = await client({ sessionTimeoutMs: 120_000 });
    assert.equal(c.sessionTimeoutMs, 60_000);
    assert.ok(c.sessionId > 0n);
  });

  it('stores and returns large node data intact', async () => {
    const c = await client();
    const big = Buffer.alloc(900 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    await c.create('/big', big);
    assert.ok((await c.getData('/big')).data.equals(big));
  });

  it('never misses a watch event that arrives right behind the reply that set the watch', { timeout: 20_000 }, async () => {
    const c = await client();
    const other = await client();
    await c.create('/race');
    for (let i = 0; i < 40; i++) {
      let fire!: () => void;
      const fired = new Promise<void>((resolve) => (fire = resolve));
      // The reply and the notification often share one TCP read; the watch must already be armed.
      const listing = c.getChildren('/race', () => fire());
      await other.create(`/race/n${i}`);
      // Sessions are not ordered against each other: if the read came second, make one more change.
      if ((await listing).children.includes(`n${i}`)) await other.create(`/race/m${i}`);
      await fired;
    }
  });

  it('authenticates with digest credentials; others may read but not change what it creates', async () => {
    const owner = new WireZkClient({ servers: parseServers(zk.connectString), auth: { scheme: 'digest', credentials: 'meseta:secret' } });
    clients.push(owner);
    await owner.connected();
    await owner.create('/guarded', Buffer.from('mine'));
    await owner.setData('/guarded', Buffer.from('still mine'));
    const stranger = await client();
    assert.equal((await stranger.getData('/guarded')).data.toString(), 'still mine');
    await assert.rejects(stranger.setData('/guarded', Buffer.from('theirs')), (e: unknown) => isZkError(e, 'NOAUTH'));
  });

  it('refuses a packet over the server limit without losing the connection', async () => {
    const c = await client();
    await assert.rejects(c.create('/too-big', Buffer.alloc(MAX_PACKET_BYTES)), (e: unknown) => isZkError(e, 'MARSHALLINGERROR'));
    assert.equal(c.state, 'connected');
    assert.equal(await c.exists('/too-big'), undefined);
  });

  it('rejects a session with a wrong password as expired', async () => {
    const c = await client();
    const node = await c.create('/mine', Buffer.alloc(0), 'ephemeral');
    const bad = new WireZkClient({ servers: parseServers(zk.connectString), session: { id: c.sessionId, password: Buffer.alloc(16, 7) } });
    await assert.rejects(bad.connected(), (e: unknown) => isZkError(e, 'SESSIONEXPIRED'));
    assert.equal(bad.state, 'expired');
    // The server drops the owner's connection when someone claims its session; the owner comes back.
    let stat;
    for (;;) {
      try {
        stat = await c.exists(node);
        break;
      } catch (e) {
        if (!isZkError(e, 'CONNECTIONLOSS')) throw e;
      }
    }
    assert.equal(stat?.ephemeralOwner, c.sessionId);
    assert.equal(c.state, 'connected');
  });
});

describe('WireZkClient without a reachable server', { skip: missing }, () => {
  it('keeps its session across a server restart and expires it locally when the server stays away', async () => {
    const zk = await startZooKeeper();
    const c = new WireZkClient({ servers: parseServers(zk.connectString), sessionTimeoutMs: 4000 });
    // The client's clock timers are unref'ed (daemons keep themselves alive); keep this test alive.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await c.connected();
      const node = await c.create('/eph', Buffer.from('x'), 'ephemeral');
      const session = c.sessionId;
      const server = zk.servers[0]!;
      // A short outage: the session survives on the restarted server (sessions are in its log).
      const down = new Promise<void>((r) => { const off = c.onState((s) => { if (s === 'disconnected') { off(); r(); } }); });
      await server.kill();
      await down;
      server.start();
      await server.ready();
      await c.connected();
      assert.equal(c.sessionId, session);
      assert.ok(await c.exists(node));
      // A long outage: no server answers within the session timeout, so the client gives the session up.
      const gone = new Promise<void>((r) => { const off = c.onState((s) => { if (s === 'expired') { off(); r(); } }); });
      await server.kill();
      await gone;
      assert.equal(c.state, 'expired');
    } finally {
      clearInterval(keepAlive);
      await c.close();
      await zk.stop();
    }
  });
});

describe('WireZkClient against a misbehaving server', () => {
  it('drops a connection that sends garbage and keeps trying, without throwing', async () => {
    let connections = 0;
    const replies = [
      Buffer.from([0, 0, 0, 2, 1, 2]), // a connect response too short to read
      Buffer.from([0xff, 0xff, 0xff, 0xff]), // a negative frame length
    ];
    const server = net.createServer((sock) => {
      sock.on('error', () => undefined);
      sock.once('data', () => sock.write(replies[connections++ % replies.length]!));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const c = new WireZkClient({ servers: [{ host: '127.0.0.1', port }], sessionTimeoutMs: 1000 });
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      while (connections < 4) await new Promise((r) => setTimeout(r, 20));
      assert.equal(c.state, 'connecting');
      const pending = c.getData('/x');
      await c.close();
      await assert.rejects(pending, (e: unknown) => isZkError(e, 'CLOSED'));
      assert.equal(c.state, 'closed');
    } finally {
      clearInterval(keepAlive);
      await c.close();
      await new Promise((r) => server.close(r));
    }
  });
});
