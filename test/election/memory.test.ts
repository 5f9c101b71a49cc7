// Election on the in-memory ZooKeeper twin.
import { describe } from 'node:test';
import { InMemoryZk } from '../../src/zookeeper/index.js';
import { defineElectionBehaviour } from './behaviour.js';

describe('election on InMemoryZk', () => {
  const zk = new InMemoryZk();
  defineElectionBehaviour(() => ({
    client: async (opts) => zk.client(opts),
    expire: async (c) => zk.expire(c.sessionId),
  }));
});
