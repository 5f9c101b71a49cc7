// Election on the in-memory ZooKeeper twin.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { ZooKeeperMasterContender, ZooKeeperMasterDetector, createMasterInfo } from '../../src/master/election/index.js';
import { InMemoryZk, type ZkClient } from '../../src/zookeeper/index.js';
import { defineElectionBehaviour } from './behaviour.js';

describe('election on InMemoryZk', () => {
  const zk = new InMemoryZk();
  defineElectionBehaviour(() => ({
    client: async (opts) => zk.client(opts),
    expire: async (c) => zk.expire(c.sessionId),
  }));
});

describe('election on InMemoryZk with a manual clock', () => {
  it('a partitioned leader loses when its session times out, and the standby is elected', async () => {
    const clock = new ManualClock();
    const zk = new InMemoryZk(clock);
    const a = zk.client({ sessionTimeoutMs: 10_000 });
    const b = zk.client({ sessionTimeoutMs: 10_000 });
    const first = new ZooKeeperMasterContender({ client: a, path: '/mesos', info: createMasterInfo({ id: 'a', ip: '127.0.0.1', port: 5050 }), clock });
    const second = new ZooKeeperMasterContender({ client: b, path: '/mesos', info: createMasterInfo({ id: 'b', ip: '127.0.0.2', port: 5050 }), clock });
    const events: string[] = [];
    first.onEvent((e) => events.push(`a:${e.type}`));
    second.onEvent((e) => events.push(`b:${e.type}`));
    await first.contend();
    await second.contend();
    await settle();
    assert.deepEqual(events, ['a:elected']);
    zk.disconnect(a.sessionId);
    clock.advance(9_999);
    await settle();
    assert.equal(first.state, 'elected'); // a short partition is survivable
    clock.advance(1);
    await settle();
    assert.deepEqual(events, ['a:elected', 'a:lost', 'b:elected']);
  });

  it('a detector that owns its session opens a new one after expiry and keeps detecting', async () => {
    const zk = new InMemoryZk();
    const sessions: ZkClient[] = [];
    const detector = new ZooKeeperMasterDetector({
      path: '/mesos',
      connect: () => {
        const c = zk.client();
        sessions.push(c);
        return c;
      },
    });
    const master = zk.client();
    const contender = new ZooKeeperMasterContender({ client: master, path: '/mesos', info: createMasterInfo({ id: 'm', ip: '127.0.0.1', port: 5050 }) });
    await contender.contend();
    const leader = await detector.detect();
    assert.equal(leader?.id, 'm');
    zk.expire(sessions[0]!.sessionId);
    assert.equal(await detector.detect(leader), undefined);
    assert.equal((await detector.detect(undefined))?.id, 'm');
    assert.equal(sessions.length, 2);
    detector.close();
    assert.equal(sessions[1]!.state, 'closed');
  });
});

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}
