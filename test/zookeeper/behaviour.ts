// Behaviour every ZkClient must show, run against the real server and the in-memory twin.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isZkError, type WatchEvent, type ZkClient } from '../../src/zookeeper/index.js';

export interface ZkHarness {
  /** A new, connected session. */
  client(opts?: { sessionTimeoutMs?: number }): Promise<ZkClient>;
  /** Makes the ensemble expire this client's session. */
  expire(c: ZkClient): Promise<void>;
}

/** Resolves with the first event a one-shot watcher receives. */
export function watchOnce(): { watcher: (e: WatchEvent) => void; event: Promise<WatchEvent> } {
  let resolve!: (e: WatchEvent) => void;
  const event = new Promise<WatchEvent>((r) => (resolve = r));
  return { watcher: (e) => resolve(e), event };
}

async function rejectsWith(p: Promise<unknown>, name: Parameters<typeof isZkError>[1]): Promise<void> {
  await assert.rejects(p, (e: unknown) => isZkError(e, name));
}

let counter = 0;
const unique = (prefix: string) => `/${prefix}-${process.pid}-${++counter}`;

export function defineClientBehaviour(h: () => ZkHarness): void {
  it('creates, reads, updates and deletes nodes with versions and the usual errors', async () => {
    const c = await h().client();
    try {
      const root = unique('crud');
      assert.equal(await c.create(root, Buffer.from('v0')), root);
      await rejectsWith(c.create(root), 'NODEEXISTS');
      await rejectsWith(c.create(`${root}/missing/child`), 'NONODE');
      const got = await c.getData(root);
      assert.equal(got.data.toString(), 'v0');
      assert.equal(got.stat.version, 0);
      assert.equal(got.stat.dataLength, 2);
      const stat = await c.setData(root, Buffer.from('v1'), 0);
      assert.equal(stat.version, 1);
      await rejectsWith(c.setData(root, Buffer.from('v2'), 0), 'BADVERSION');
      await c.create(`${root}/kid`);
      await rejectsWith(c.delete(root), 'NOTEMPTY');
      await rejectsWith(c.delete(`${root}/kid`, 7), 'BADVERSION');
      await c.delete(`${root}/kid`, 0);
      await c.delete(root);
      assert.equal(await c.exists(root), undefined);
      await rejectsWith(c.getData(root), 'NONODE');
      await c.mkdirp(`${root}/a/b/c`);
      assert.ok(await c.exists(`${root}/a/b/c`));
      await c.mkdirp(`${root}/a/b/c`);
    } finally {
      await c.close();
    }
  });

  it('names sequential nodes with a 10-digit counter of the parent', async () => {
    const c = await h().client();
    try {
      const root = unique('seq');
      await c.create(root);
      const a = await c.create(`${root}/json.info_`, Buffer.from('a'), 'ephemeral_sequential');
      const b = await c.create(`${root}/json.info_`, Buffer.from('b'), 'persistent_sequential');
      assert.equal(a, `${root}/json.info_0000000000`);
      assert.equal(b, `${root}/json.info_0000000001`);
      const { children, stat } = await c.getChildren(root);
      assert.deepEqual(children.sort(), ['json.info_0000000000', 'json.info_0000000001']);
      assert.equal(stat.numChildren, 2);
      assert.equal((await c.exists(a))!.ephemeralOwner, c.sessionId);
      assert.equal((await c.exists(b))!.ephemeralOwner, 0n);
      await rejectsWith(c.create(`${a}/x`), 'NOCHILDRENFOREPHEMERALS');
    } finally {
      await c.close();
    }
  });

  it('fires child, data and exists watches once each', async () => {
    const c = await h().client();
    const other = await h().client();
    try {
      const root = unique('watch');
      await c.create(root);
      const child = watchOnce();
      await c.getChildren(root, child.watcher);
      await other.create(`${root}/x`, Buffer.from('1'));
      assert.deepEqual(await child.event, { type: 'children_changed', path: root });

      const data = watchOnce();
      await c.getData(`${root}/x`, data.watcher);
      await other.setData(`${root}/x`, Buffer.from('2'));
      assert.deepEqual(await data.event, { type: 'data_changed', path: `${root}/x` });

      const gone = watchOnce();
      const kids = watchOnce();
      await c.exists(`${root}/x`, gone.watcher);
      await c.getChildren(root, kids.watcher);
      await other.delete(`${root}/x`);
      assert.deepEqual(await gone.event, { type: 'deleted', path: `${root}/x` });
      assert.deepEqual(await kids.event, { type: 'children_changed', path: root });

      const born = watchOnce();
      assert.equal(await c.exists(`${root}/y`, born.watcher), undefined);
      await other.create(`${root}/y`);
      assert.deepEqual(await born.event, { type: 'created', path: `${root}/y` });

      // One-shot: a second change without re-arming reaches nobody; a re-armed watch sees the next one.
      let late = 0;
      await c.getData(`${root}/y`, () => late++);
      await other.setData(`${root}/y`, Buffer.from('a'));
      await other.setData(`${root}/y`, Buffer.from('b'));
      await c.getData(`${root}/y`);
      assert.equal(late, 1);
    } finally {
      await c.close();
      await other.close();
    }
  });

  it('applies multi all or nothing and reports each op code', async () => {
    const c = await h().client();
    try {
      const root = unique('multi');
      await c.create(root, Buffer.from('m'));
      await assert.rejects(
        c.multi([
          { op: 'create', path: `${root}/a` },
          { op: 'check', path: root, version: 3 },
          { op: 'set', path: root, data: Buffer.from('x') },
        ]),
        (e: unknown) => isZkError(e, 'BADVERSION') && e.path === root && e.opCodes?.length === 3 && e.opCodes[1] === -103,
      );
      assert.equal(await c.exists(`${root}/a`), undefined);
      assert.equal((await c.getData(root)).data.toString(), 'm');

      const results = await c.multi([
        { op: 'check', path: root, version: 0 },
        { op: 'create', path: `${root}/a`, data: Buffer.from('A') },
        { op: 'create', path: `${root}/s_`, mode: 'persistent_sequential' },
        { op: 'set', path: root, data: Buffer.from('n'), version: 0 },
        { op: 'delete', path: `${root}/a` },
      ]);
      assert.deepEqual(results.map((r) => r.op), ['check', 'create', 'create', 'set', 'delete']);
      assert.equal((results[2] as { path: string }).path, `${root}/s_0000000001`);
      assert.equal((results[3] as { stat: { version: number } }).stat.version, 1);
      assert.equal(await c.exists(`${root}/a`), undefined);
      assert.equal((await c.getData(root)).data.toString(), 'n');
    } finally {
      await c.close();
    }
  });

  it('removes ephemeral nodes when their session is closed', async () => {
    const owner = await h().client();
    const observer = await h().client();
    try {
      const root = unique('eph-close');
      await observer.create(root);
      const node = await owner.create(`${root}/n`, Buffer.alloc(0), 'ephemeral');
      const gone = watchOnce();
      assert.ok(await observer.exists(node, gone.watcher));
      await owner.close();
      assert.equal(owner.state, 'closed');
      assert.deepEqual(await gone.event, { type: 'deleted', path: node });
      await rejectsWith(owner.getData(node), 'CLOSED');
    } finally {
      await owner.close();
      await observer.close();
    }
  });

  it('removes ephemeral nodes when their session expires, and the expired client learns it', async () => {
    const owner = await h().client({ sessionTimeoutMs: 2000 });
    const observer = await h().client();
    try {
      const root = unique('eph-expire');
      await observer.create(root);
      const node = await owner.create(`${root}/n`, Buffer.alloc(0), 'ephemeral_sequential');
      const ownerWatch = watchOnce();
      await owner.getChildren(root, ownerWatch.watcher);
      const gone = watchOnce();
      await observer.exists(node, gone.watcher);
      const states: string[] = [];
      const expired = new Promise<void>((resolve) => owner.onState((s) => {
        states.push(s);
        if (s === 'expired') resolve();
      }));
      await h().expire(owner);
      assert.deepEqual(await gone.event, { type: 'deleted', path: node });
      await expired;
      assert.equal(owner.state, 'expired');
      assert.equal(states.at(-1), 'expired');
      assert.deepEqual(await ownerWatch.event, { type: 'session_expired', path: '' });
      await rejectsWith(owner.create(`${root}/again`), 'SESSIONEXPIRED');
      await assert.rejects(owner.connected(), (e: unknown) => isZkError(e, 'SESSIONEXPIRED'));
    } finally {
      await owner.close();
      await observer.close();
    }
  });
}
