// The in-memory twin passes the same behaviour tests as the real server, plus its controls.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { InMemoryZk, isZkError, MAX_DATA_BYTES } from '../../src/zookeeper/index.js';
import { defineClientBehaviour, watchOnce } from './behaviour.js';

describe('InMemoryZk', () => {
  const zk = new InMemoryZk();
  defineClientBehaviour(() => ({
    client: async (opts) => zk.client(opts),
    expire: async (c) => zk.expire(c.sessionId),
  }));

  it('holds requests while disconnected and delivers missed watch events on reconnect', async () => {
    const mem = new InMemoryZk(new ManualClock());
    const a = mem.client();
    const b = mem.client();
    await a.create('/n');
    const w = watchOnce();
    await a.getData('/n', w.watcher);
    mem.disconnect(a.sessionId);
    assert.equal(a.state, 'disconnected');
    await b.setData('/n', Buffer.from('x'));
    let read: string | undefined;
    const pending = a.getData('/n').then((r) => (read = r.data.toString()));
    await Promise.resolve();
    assert.equal(read, undefined);
    mem.reconnect(a.sessionId);
    await pending;
    assert.equal(read, 'x');
    assert.deepEqual(await w.event, { type: 'data_changed', path: '/n' });
  });

  it('expires a session that stays disconnected for its timeout', async () => {
    const clock = new ManualClock();
    const mem = new InMemoryZk(clock);
    const a = mem.client({ sessionTimeoutMs: 5000 });
    const b = mem.client();
    await a.create('/e', Buffer.alloc(0), 'ephemeral');
    mem.disconnect(a.sessionId);
    clock.advance(4999);
    assert.ok(await b.exists('/e'));
    clock.advance(1);
    assert.equal(a.state, 'expired');
    assert.equal(await b.exists('/e'), undefined);
  });

  it('refuses node data above the 1 MB limit', async () => {
    const mem = new InMemoryZk();
    const a = mem.client();
    await assert.rejects(a.create('/big', Buffer.alloc(MAX_DATA_BYTES + 1)), (e: unknown) => isZkError(e, 'MARSHALLINGERROR'));
    await a.create('/ok', Buffer.alloc(MAX_DATA_BYTES));
  });
});
