import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.js';
import { GarbageCollector } from '../../src/agent/gc.js';

const DAY = 86_400_000;

function setup(usage: { value: number | undefined }) {
  const clock = new ManualClock(0);
  const removed: string[] = [];
  const gc = new GarbageCollector({
    clock,
    gcDelayMs: 7 * DAY,
    diskHeadroom: 0.1,
    diskWatchIntervalMs: 60_000,
    workDir: '/nonexistent',
    diskUsage: () => usage.value,
    remove: (p) => removed.push(p),
  });
  return { clock, removed, gc };
}

test('paths are removed gc_delay after they were scheduled; unschedule keeps them', () => {
  const usage = { value: undefined as number | undefined };
  const { clock, removed, gc } = setup(usage);
  const calls: string[] = [];
  gc.schedule('/a', () => calls.push('a'));
  gc.schedule('/b');
  assert.equal(gc.unschedule('/b'), true);
  clock.advance(7 * DAY - 1);
  assert.deepEqual(removed, []);
  clock.advance(1);
  assert.deepEqual(removed, ['/a']);
  assert.deepEqual(calls, ['a']);
  assert.equal(gc.pending, 0);
  assert.equal(gc.removalsSucceeded, 1);
  gc.stop();
});

test('a fuller disk shortens the allowed age: gc_delay x max(0, 1 - headroom - usage)', () => {
  const usage = { value: 0.4 as number | undefined };
  const { clock, removed, gc } = setup(usage);
  assert.equal(gc.maxAllowedAgeMs(0.4), 7 * DAY * 0.5);
  assert.equal(gc.maxAllowedAgeMs(0.95), 0);
  gc.schedule('/old');
  clock.advance(3 * DAY);
  gc.schedule('/young');
  clock.advance(DAY / 2);
  // /old is 3.5 days old: exactly the allowed age at 40% usage.
  assert.deepEqual(removed, ['/old']);
  usage.value = 0.95;
  clock.advance(60_000);
  assert.deepEqual(removed, ['/old', '/young']);
  gc.stop();
  assert.equal(clock.pending(), 0);
});
