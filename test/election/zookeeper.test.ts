// Election on a real ZooKeeper, and the znode layout as another Mesos component reads it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ZooKeeperMasterContender,
  createDetector,
  createMasterElection,
  createMasterInfo,
  haConfigFromFlags,
  type MasterElection,
} from '../../src/master/election/index.js';
import { WireZkClient, parseServers, type ZkClient } from '../../src/zookeeper/index.js';
import { startZooKeeper, zookeeperMissing, type ZkTestCluster } from '../support/zookeeper-server.js';
import { defineElectionBehaviour } from './behaviour.js';

const missing = zookeeperMissing();
if (missing) console.log(`# ${missing}`);

describe('election on a real ZooKeeper', { skip: missing }, () => {
  let zk: ZkTestCluster;
  const clients: ZkClient[] = [];
  before(async () => {
    zk = await startZooKeeper();
  });
  after(async () => {
    for (const c of clients) await c.close();
    await zk?.stop();
  });
  const open = async (opts: { sessionTimeoutMs?: number } = {}) => {
    const c = new WireZkClient({ servers: parseServers(zk.connectString), sessionTimeoutMs: opts.sessionTimeoutMs ?? 4000 });
    clients.push(c);
    await c.connected();
    return c;
  };

  defineElectionBehaviour(() => ({
    client: open,
    async expire(c) {
      const w = c as WireZkClient;
      const thief = new WireZkClient({ servers: parseServers(zk.connectString), session: { id: w.sessionId, password: w.sessionPassword } });
      await thief.connected();
      await thief.close();
    },
  }));

  it('publishes json.info_<10 digits> with MasterInfo JSON as Mesos writes it (third-party reader)', async () => {
    const master = await open();
    const info = createMasterInfo({ id: 'a5b1c7e2-0000-4000-8000-000000000001', ip: '127.0.0.1', port: 5050, hostname: 'm1', version: '1.11.0' });
    const contender = new ZooKeeperMasterContender({ client: master, path: '/third/party/mesos', info });
    const elected = new Promise((r) => contender.onEvent(r));
    await contender.contend();
    assert.deepEqual(await elected, { type: 'elected' });

    // A reader that knows only ZooKeeper and the layout: list, take the lowest, parse the JSON.
    const reader = await open();
    const { children } = await reader.getChildren('/third/party/mesos');
    assert.deepEqual(children, ['json.info_0000000000']);
    const { data, stat } = await reader.getData('/third/party/mesos/json.info_0000000000');
    assert.equal(stat.ephemeralOwner, master.sessionId);
    const json = JSON.parse(data.toString('utf8'));
    assert.deepEqual(Object.keys(json), ['id', 'ip', 'port', 'pid', 'hostname', 'version', 'address', 'capabilities']);
    assert.equal(json.id, 'a5b1c7e2-0000-4000-8000-000000000001');
    assert.equal(json.ip, 16777343);
    assert.equal(json.port, 5050);
    assert.equal(json.pid, 'master@127.0.0.1:5050');
    assert.equal(json.hostname, 'm1');
    assert.equal(json.version, '1.11.0');
    assert.deepEqual(json.address, { hostname: 'm1', ip: '127.0.0.1', port: 5050 });
    assert.deepEqual(json.capabilities, [{ type: 'AGENT_UPDATE' }, { type: 'AGENT_DRAINING' }, { type: 'QUOTA_V2' }]);

    // An agent-style detector built from a --master=zk://... value finds it on its own session.
    const detector = createDetector(`zk://${zk.connectString}/third/party/mesos`, { sessionTimeoutMs: 4000 });
    try {
      const leader = await detector.detect();
      assert.equal(leader?.pid, 'master@127.0.0.1:5050');
      assert.equal(leader?.id, info.id);
      await contender.withdraw();
      assert.equal(await detector.detect(leader), undefined);
    } finally {
      detector.close();
    }
  });

  it('a new leader reads the registry the old leader wrote (createMasterElection)', async () => {
    const config = haConfigFromFlags({ zk: `zk://${zk.connectString}/ha-test/mesos`, quorum: '1', zk_session_timeout: 4000 })!;
    const elections: MasterElection[] = [];
    try {
      const a = createMasterElection(config, createMasterInfo({ id: 'a', ip: '127.0.0.1', port: 5050 }));
      const b = createMasterElection(config, createMasterInfo({ id: 'b', ip: '127.0.0.2', port: 5050 }));
      elections.push(a, b);
      const aElected = new Promise((r) => a.contender.onEvent(r));
      await a.contender.contend();
      assert.deepEqual(await aElected, { type: 'elected' });
      const bElected = new Promise((r) => b.contender.onEvent(r));
      await b.contender.contend();
      assert.equal((await b.detector.detect())?.id, 'a');
      assert.equal(await a.store.store(Buffer.from('registry v1'), 0), 1);
      // A standby cannot write: it does not lead.
      await assert.rejects(b.store.store(Buffer.from('standby'), 1), /Not the leading master/);

      await a.close();
      assert.deepEqual(await bElected, { type: 'elected' });
      const doc = await b.store.fetch();
      assert.equal(doc?.version, 1);
      assert.equal(doc?.data.toString(), 'registry v1');
      assert.equal(await b.store.store(Buffer.from('registry v2'), doc!.version), 2);
    } finally {
      for (const e of elections) await e.close();
    }
  });
});
