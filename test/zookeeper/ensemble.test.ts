// A session survives the loss of the ensemble member (and ZooKeeper leader) it was connected to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WireZkClient, isZkError } from '../../src/zookeeper/index.js';
import { startEnsemble, zookeeperMissing } from '../support/zookeeper-server.js';
import { watchOnce } from './behaviour.js';

const missing = zookeeperMissing();
if (missing) console.log(`# ${missing}`);

describe('WireZkClient on a 3-server ensemble', { skip: missing }, () => {
  it('moves its session to another member when the ZooKeeper leader it talks to dies', async () => {
    const ensemble = await startEnsemble(3);
    const keepAlive = setInterval(() => undefined, 1000);
    const clients: WireZkClient[] = [];
    try {
      const modes = await Promise.all(ensemble.servers.map((s) => s.mode()));
      const leaderIndex = modes.indexOf('leader');
      assert.ok(leaderIndex >= 0, `no leader among ${modes.join(',')}`);
      const leader = ensemble.servers[leaderIndex]!;
      const others = ensemble.servers.filter((s) => s !== leader);
      const order = [leader, ...others].map((s) => ({ host: '127.0.0.1', port: s.clientPort }));
      const c = new WireZkClient({ servers: order, inOrder: true, sessionTimeoutMs: 10_000 });
      const peer = new WireZkClient({ servers: others.map((s) => ({ host: '127.0.0.1', port: s.clientPort })), inOrder: true });
      clients.push(c, peer);
      await c.connected();
      await peer.connected();
      assert.equal(c.server?.port, leader.clientPort);
      const session = c.sessionId;
      await c.create('/group');
      const mine = await c.create('/group/json.info_', Buffer.from('me'), 'ephemeral_sequential');
      await c.create('/flag', Buffer.from('0'));
      const changed = watchOnce();
      await c.getData('/flag', changed.watcher);

      await leader.kill();
      // The survivors elect a new leader; the peer's write lands once they serve again.
      // Followers drop their clients while they elect, so the peer retries like any careful caller.
      for (;;) {
        try {
          await peer.setData('/flag', Buffer.from('1'));
          break;
        } catch (e) {
          if (!isZkError(e, 'CONNECTIONLOSS')) throw e;
          await peer.connected();
        }
      }
      await c.connected();
      assert.equal(c.sessionId, session);
      assert.notEqual(c.server?.port, leader.clientPort);
      // The watch set before the failure was re-armed on the new member and fires.
      assert.deepEqual(await changed.event, { type: 'data_changed', path: '/flag' });
      const stat = await c.exists(mine);
      assert.ok(stat, 'ephemeral node survives the failover');
      assert.equal(stat.ephemeralOwner, session);
      assert.equal((await peer.getData(mine)).data.toString(), 'me');
    } finally {
      clearInterval(keepAlive);
      for (const c of clients) await c.close();
      await ensemble.stop();
    }
  });
});
