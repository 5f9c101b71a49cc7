import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.js';

test('manual clock fires timers in due order only when advanced', () => {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 200);
  clock.setTimeout(() => fired.push('a'), 100);
  const c = clock.setTimeout(() => fired.push('c'), 150);
  clock.clearTimeout(c);
  clock.advance(99);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, ['a']);
  assert.equal(clock.now(), 1100);
  clock.advance(500);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(clock.pending(), 0);
});

test('intervals repeat and timers scheduled while firing run in the same advance', () => {
  const clock = new ManualClock(0);
  const times: number[] = [];
  const h = clock.setInterval(() => times.push(clock.now()), 10);
  clock.setTimeout(() => clock.setTimeout(() => times.push(-clock.now()), 5), 12);
  clock.advance(35);
  assert.deepEqual(times, [10, -17, 20, 30]);
  clock.clearInterval(h);
  clock.advance(100);
  assert.equal(times.length, 4);
});
