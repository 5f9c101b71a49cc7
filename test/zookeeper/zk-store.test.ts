// The registry store in ZooKeeper: big documents round-trip, small changes stay small,
// and only the current leader with the latest version can write.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ZooKeeperMasterContender, createMasterInfo } from '../../src/master/election/index.js';
import { StaleVersionError, ZkRegistryStore, chunkBoundaries, DEFAULT_CHUNKING } from '../../src/master/registry/zk-store.js';
import { InMemoryZk, MAX_DATA_BYTES, WireZkClient, parseServers, type ZkClient } from '../../src/zookeeper/index.js';
import { startZooKeeper, zookeeperMissing, type ZkTestCluster } from '../support/zookeeper-server.js';

const missing = zookeeperMissing();
if (missing) console.log(`# ${missing}`);

/** A registry-sized document: 50,000 agents with their resources, as JSON. */
function bigRegistry(agents = 50_000, tweak?: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < agents; i++) {
    const host = i === tweak ? `changed-${i}` : `agent-${i}.cluster.example`;
    lines.push(JSON.stringify({
      info: {
        hostname: host, port: 5051, id: { value: `4f1d2c3b-aaaa-bbbb-cccc-${String(i).padStart(12, '0')}-S${i}` },
        resources: [
          { name: 'cpus', type: 'SCALAR', scalar: { value: 8 } },
          { name: 'mem', type: 'SCALAR', scalar: { value: 31744 } },
          { name: 'disk', type: 'SCALAR', scalar: { value: 470000 } },
          { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] } },
        ],
        attributes: [{ name: 'rack', type: 'TEXT', text: { value: `r${i % 40}` } }],
      },
    }));
  }
  return Buffer.from(`{"slaves":{"slaves":[${lines.join(',')}]}}`);
}

let counter = 0;
const storePath = () => `/meseta-store-${process.pid}-${++counter}/registry`;

function defineStoreBehaviour(h: () => { client(): Promise<ZkClient> }): void {
  it('round-trips a 50,000-agent registry in pieces far below the node limit; a one-agent change rewrites little', async () => {
    const c = await h().client();
    const path = storePath();
    const store = new ZkRegistryStore({ client: c, path });
    assert.equal(await store.fetch(), undefined);
    const doc = bigRegistry();
    assert.ok(doc.length > 10 * 1024 * 1024, `document is ${doc.length} bytes`);
    assert.equal(await store.store(doc, 0), 1);
    const first = store.lastStoreStats!;
    assert.equal(first.written, first.chunks);

    // Every piece is well below ZooKeeper's 1 MB limit.
    const { children } = await c.getChildren(`${path}/chunks`);
    assert.equal(children.length, first.chunks);
    for (const name of children.slice(0, 20)) {
      const stat = await c.exists(`${path}/chunks/${name}`);
      assert.ok(stat!.dataLength <= DEFAULT_CHUNKING.maxBytes && stat!.dataLength < MAX_DATA_BYTES);
    }

    // A new reader (the next leader) gets the same bytes back.
    const reader = new ZkRegistryStore({ client: await h().client(), path });
    const fetched = await reader.fetch();
    assert.equal(fetched?.version, 1);
    assert.ok(fetched!.data.equals(doc));

    const changed = bigRegistry(50_000, 25_000);
    assert.equal(await reader.store(changed, 1), 2);
    assert.ok(reader.lastStoreStats!.written <= 3, `rewrote ${reader.lastStoreStats!.written} pieces`);
    assert.equal(reader.lastStoreStats!.deleted, reader.lastStoreStats!.written);
    const again = await store.fetch();
    assert.equal(again?.version, 2);
    assert.ok(again!.data.equals(changed));
    assert.equal((await c.getChildren(`${path}/chunks`)).children.length, reader.lastStoreStats!.chunks);
  });

  it('rejects a writer holding an old version, and leaves the document alone', async () => {
    const c = await h().client();
    const path = storePath();
    const a = new ZkRegistryStore({ client: c, path });
    const b = new ZkRegistryStore({ client: await h().client(), path });
    assert.equal(await a.store(Buffer.from('one'), 0), 1);
    await assert.rejects(b.store(Buffer.from('racing create'), 0), StaleVersionError);
    assert.equal(await b.store(Buffer.from('two'), 1), 2);
    await assert.rejects(a.store(Buffer.from('stale'), 1), (e: unknown) => e instanceof StaleVersionError && /version is 2, expected 1/.test(e.message));
    const now = await a.fetch();
    assert.equal(now?.version, 2);
    assert.equal(now?.data.toString(), 'two');
    await assert.rejects(a.store(Buffer.from('bad'), -1), RangeError);
  });

  it('lets only the current leader write: a master whose member node is gone is refused', async () => {
    const path = storePath();
    const group = path.replace(/\/registry$/, '');
    const leaderSession = await h().client();
    const contender = new ZooKeeperMasterContender({
      client: leaderSession, path: group, info: createMasterInfo({ id: 'm1', ip: '127.0.0.1', port: 5050 }),
    });
    const elected = new Promise((r) => contender.onEvent(r));
    await contender.contend();
    await elected;
    const guardPath = contender.nodePath!;
    const store = new ZkRegistryStore({ client: leaderSession, path, guard: () => contender.nodePath });
    assert.equal(await store.store(Buffer.from('leader wrote'), 0), 1);

    // Deposed (its member deleted) but unaware: the guard check in the commit refuses the write.
    const operator = await h().client();
    const stale = new ZkRegistryStore({ client: leaderSession, path, guard: () => guardPath });
    await operator.delete(guardPath);
    await assert.rejects(stale.store(Buffer.from('deposed write'), 1), (e: unknown) => e instanceof StaleVersionError && /Lost leadership/.test(e.message));
    // And once the contender knows, the store refuses before touching ZooKeeper.
    while (contender.state !== 'lost') await new Promise((r) => setImmediate(r));
    await assert.rejects(store.store(Buffer.from('x'), 1), /Not the leading master/);
    assert.equal((await new ZkRegistryStore({ client: operator, path }).fetch())?.data.toString(), 'leader wrote');
  });
}

describe('chunkBoundaries', () => {
  it('cuts within bounds and re-synchronises after an insertion', () => {
    const doc = bigRegistry(5000);
    const ends = chunkBoundaries(doc);
    assert.equal(ends.at(-1), doc.length);
    let start = 0;
    for (const end of ends) {
      assert.ok(end - start <= DEFAULT_CHUNKING.maxBytes);
      if (end !== doc.length) assert.ok(end - start >= DEFAULT_CHUNKING.minBytes);
      start = end;
    }
    const shifted = Buffer.concat([Buffer.from('inserted bytes'), doc]);
    const shiftedEnds = new Set(chunkBoundaries(shifted).map((e) => e - 14));
    const shared = ends.filter((e) => shiftedEnds.has(e)).length;
    assert.ok(shared >= ends.length - 2, `only ${shared} of ${ends.length} cut points survived`);
    assert.deepEqual(chunkBoundaries(Buffer.alloc(0)), []);
  });
});

describe('ZkRegistryStore on InMemoryZk', () => {
  const zk = new InMemoryZk();
  defineStoreBehaviour(() => ({ client: async () => zk.client() }));
});

describe('ZkRegistryStore on a real ZooKeeper', { skip: missing }, () => {
  let zk: ZkTestCluster;
  const clients: ZkClient[] = [];
  before(async () => {
    zk = await startZooKeeper();
  });
  after(async () => {
    for (const c of clients) await c.close();
    await zk?.stop();
  });
  defineStoreBehaviour(() => ({
    async client() {
      const c = new WireZkClient({ servers: parseServers(zk.connectString), sessionTimeoutMs: 10_000 });
      clients.push(c);
      await c.connected();
      return c;
    },
  }));
});
