// MasterInfo helpers, group naming, standalone detection and contention.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  StandaloneMasterContender,
  StandaloneMasterDetector,
  ZooKeeperMasterDetector,
  createDetector,
  createMasterInfo,
  decodeMasterInfo,
  haConfigFromFlags,
  ipToNetworkOrder,
  leaderOf,
  masterAddress,
  networkOrderToIp,
  parseMembership,
} from '../../src/master/election/index.js';

describe('MasterInfo', () => {
  it('encodes the legacy ip in network byte order', () => {
    assert.equal(ipToNetworkOrder('127.0.0.1'), 16777343);
    assert.equal(ipToNetworkOrder('10.0.0.2'), 0x0200000a);
    assert.equal(ipToNetworkOrder('255.255.255.255'), 0xffffffff);
    assert.equal(ipToNetworkOrder('not-an-ip'), 0);
    assert.equal(networkOrderToIp(16777343), '127.0.0.1');
    assert.equal(networkOrderToIp(ipToNetworkOrder('192.168.7.9')), '192.168.7.9');
  });

  it('fills in pid and address, and names the address for redirects', () => {
    const info = createMasterInfo({ id: 'x', ip: '10.0.0.5', port: 5050, hostname: 'master.example' });
    assert.equal(info.pid, 'master@10.0.0.5:5050');
    assert.deepEqual(info.address, { hostname: 'master.example', ip: '10.0.0.5', port: 5050 });
    assert.deepEqual(masterAddress(info), { host: 'master.example', port: 5050 });
  });

  it('parses plain UPID data and rejects garbage JSON with a clear message', () => {
    const plain = decodeMasterInfo(undefined, Buffer.from('master@127.0.0.1:5050\n'), 3);
    assert.equal(plain.pid, 'master@127.0.0.1:5050');
    assert.equal(plain.ip, 16777343);
    assert.throws(() => decodeMasterInfo('json.info', Buffer.from('{nope'), 1), /Failed to parse the data of the leading master/);
    assert.throws(() => decodeMasterInfo('json.info', Buffer.from('{"ip":1}'), 1), /Missing required/);
  });
});

describe('group membership names', () => {
  it('parses labels and sequences like Mesos and ignores non-members', () => {
    assert.deepEqual(parseMembership('json.info_0000000012'), { name: 'json.info_0000000012', sequence: 12, label: 'json.info' });
    assert.deepEqual(parseMembership('info_0000000003'), { name: 'info_0000000003', sequence: 3, label: 'info' });
    assert.deepEqual(parseMembership('0000000004'), { name: '0000000004', sequence: 4 });
    assert.equal(parseMembership('log_replicas'), undefined);
    assert.equal(parseMembership('registry'), undefined);
    assert.equal(parseMembership('json.info_99999999999'), undefined);
    assert.equal(leaderOf(['json.info_0000000010', 'info_0000000002', 'log_replicas', '0000000005'])?.name, 'info_0000000002');
    assert.equal(leaderOf(['log_replicas']), undefined);
  });
});

describe('createDetector', () => {
  it('takes host:port, master@host:port and file:// values as a fixed master', async () => {
    assert.equal((await createDetector('127.0.0.1:5050').detect())?.pid, 'master@127.0.0.1:5050');
    assert.equal((await createDetector('master@10.0.0.1:6060').detect())?.port, 6060);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-detector-'));
    try {
      fs.writeFileSync(path.join(dir, 'master'), 'master@10.0.0.9:5050\n');
      assert.equal((await createDetector(`file://${path.join(dir, 'master')}`).detect())?.pid, 'master@10.0.0.9:5050');
      assert.throws(() => createDetector(`file://${path.join(dir, 'missing')}`), /Failed to read/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => createDetector('not a master'), /expecting 'host:port'/);
    assert.throws(() => createDetector('zk://127.0.0.1:2181'), /Expecting a path/);
  });

  it('builds a ZooKeeper detector for zk:// values', () => {
    const d = createDetector('zk://127.0.0.1:1/mesos', { sessionTimeoutMs: 1000 });
    assert.ok(d instanceof ZooKeeperMasterDetector);
    d.close();
  });

  it('standalone detection waits for a change of leader', async () => {
    const a = createMasterInfo({ id: 'a', ip: '127.0.0.1', port: 5050 });
    const b = createMasterInfo({ id: 'b', ip: '127.0.0.2', port: 5050 });
    const d = new StandaloneMasterDetector(a);
    assert.equal((await d.detect())?.id, 'a');
    const next = d.detect(a);
    const seen: unknown[] = [];
    d.onChange((l) => seen.push(l?.id));
    d.appoint(b);
    assert.equal((await next)?.id, 'b');
    d.appoint(undefined);
    assert.deepEqual(seen, ['b', undefined]);
    d.close();
    await assert.rejects(d.detect(), /closed/);
  });

  it('a standalone contender is elected at once', async () => {
    const c = new StandaloneMasterContender();
    const elected = new Promise((r) => c.onEvent(r));
    await c.contend();
    assert.deepEqual(await elected, { type: 'elected' });
    assert.equal(c.state, 'elected');
    await c.withdraw();
    assert.equal(c.state, 'withdrawn');
  });
});

describe('haConfigFromFlags', () => {
  it('accepts --zk with --quorum, and explains what is missing', () => {
    assert.equal(haConfigFromFlags({}), undefined);
    const c = haConfigFromFlags({ zk: 'zk://h1:2181,h2:2181/mesos', quorum: '2', zk_session_timeout: 15_000 });
    assert.equal(c?.url.path, '/mesos');
    assert.equal(c?.quorum, 2);
    assert.equal(c?.sessionTimeoutMs, 15_000);
    assert.equal(haConfigFromFlags({ zk: 'zk://h1:2181/mesos', quorum: '1' })?.sessionTimeoutMs, 10_000);
    assert.throws(() => haConfigFromFlags({ zk: 'zk://h1:2181/mesos' }), /Need to specify --quorum/);
    assert.equal(haConfigFromFlags({ zk: 'zk://h1:2181/mesos', registry: 'in_memory' })?.quorum, undefined);
    assert.throws(() => haConfigFromFlags({ zk: 'zk://h1:2181/mesos', quorum: 'two' }), /Invalid --quorum/);
    assert.throws(() => haConfigFromFlags({ zk: 'h1:2181/mesos', quorum: '1' }), /Error parsing ZooKeeper URL/);
  });
});
