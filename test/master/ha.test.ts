// Leader election (FT-01): with --zk the master contends in the ZooKeeper group (here the in-memory
// twin); others redirect to the leader; the registry lives in ZooKeeper; losing the session stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryZk } from '../../src/zookeeper/index.js';
import { startMaster } from '../../src/master/main.js';
import { FRAMEWORK, FakeAgent, getJson, request, until } from './helpers.js';

const ZK = ['--zk=zk://127.0.0.1:2181/mesos', '--quorum=1'];

test('two masters: one leads, the other redirects; the survivor takes over with the registry', async (t) => {
  const zk = new InMemoryZk();
  const clientA = zk.client();
  const clientB = zk.client();
  const a = await startMaster(['--ip=127.0.0.1', '--port=0', ...ZK], { env: {}, zkClient: clientA });
  await until(() => a.master.leading, 'A leads');
  const b = await startMaster(['--ip=127.0.0.1', '--port=0', ...ZK], { env: {}, zkClient: clientB });
  const agent = await FakeAgent.start(a.pid);
  t.after(async () => {
    await agent.stop();
    await a.stop();
    await b.stop();
  });
  await until(() => b.master.leaderInfo?.pid === a.pid, 'B sees A');
  assert.equal(b.master.leading, false);

  const hostPort = `//${a.master.info.hostname}:${a.port}`;
  let r = await request(b.url, '/master/state?jsonp=x');
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, `${hostPort}/master/state?jsonp=x`);
  r = await request(b.url, '/api/v1/scheduler', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: FRAMEWORK } }),
  });
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, `${hostPort}/api/v1/scheduler`);
  r = await request(b.url, '/master/redirect');
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, hostPort);
  assert.equal((await request(b.url, '/health')).status, 200);
  assert.equal((await getJson(b.url, '/metrics/snapshot'))['master/elected'], 0);
  assert.equal((await getJson(a.url, '/metrics/snapshot'))['master/elected'], 1);
  const stateA = await getJson(a.url, '/master/state');
  assert.equal(stateA.leader, a.pid);
  assert.equal(typeof stateA.elected_time, 'number');

  const agentId = await agent.register();
  // Wait for the admission to reach ZooKeeper before the leader goes away.
  await until(() => a.master.registryMetrics()['registrar/queued_operations'] === 0, 'registry write');
  await new Promise((res) => setTimeout(res, 50));

  await a.stop();
  await clientA.close();
  await until(() => b.master.leading, 'B takes over');
  const stateB = await getJson(b.url, '/master/state');
  assert.equal(stateB.leader, b.pid);
  assert.deepEqual(stateB.recovered_slaves.map((s: { id: string }) => s.id), [agentId]);
});

test('a leader whose ZooKeeper session expires stops by itself', async (t) => {
  const zk = new InMemoryZk();
  const client = zk.client();
  const m = await startMaster(['--ip=127.0.0.1', '--port=0', ...ZK, '--registry=in_memory'], { env: {}, zkClient: client });
  t.after(() => m.stop());
  await until(() => m.master.leading, 'leads');
  zk.expire(client.sessionId);
  await m.stopped;
  assert.equal((await request(m.url, '/health').catch((e: Error) => ({ status: 0, error: e.message }))).status, 0);
});

test('--zk needs --quorum with the replicated_log registry', async () => {
  await assert.rejects(startMaster(['--ip=127.0.0.1', '--port=0', '--zk=zk://127.0.0.1:2181/mesos'], { env: {} }), /--quorum/);
  await assert.rejects(startMaster(['--ip=127.0.0.1', '--port=0', '--zk=bogus', '--quorum=1'], { env: {} }), /ZooKeeper URL/);
});
