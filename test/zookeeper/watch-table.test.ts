// The one-shot watch table shared by the wire client and the in-memory twin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Watcher } from '../../src/zookeeper/index.js';
import { WatchTable } from '../../src/zookeeper/util.js';

test('WatchTable: each event takes the kinds ZooKeeper triggers, once', () => {
  const t = new WatchTable();
  const data: Watcher = () => undefined;
  const exist: Watcher = () => undefined;
  const child: Watcher = () => undefined;
  t.add('data', '/a', data);
  t.add('exist', '/a', exist);
  t.add('child', '/a', child);
  assert.deepEqual(t.paths('child'), ['/a']);
  assert.deepEqual([...t.trigger('children_changed', '/a')], [child]);
  assert.deepEqual([...t.trigger('children_changed', '/a')], [], 'one-shot');
  assert.deepEqual([...t.trigger('data_changed', '/b')], [], 'other path');
  assert.deepEqual(new Set(t.trigger('data_changed', '/a')), new Set([data, exist]));
  t.add('data', '/a', data);
  t.add('child', '/a', child);
  t.add('exist', '/c', exist);
  assert.deepEqual(new Set(t.trigger('deleted', '/a')), new Set([data, child]));
  assert.deepEqual([...t.trigger('session_expired', '/c')], []);
  assert.deepEqual([...t.clear()], [exist]);
  assert.deepEqual(t.paths('exist'), []);
});
