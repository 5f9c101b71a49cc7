// Agent removal safety (FT-03/FT-04): the rate limit, the recovery safety valve and the
// disconnect timer, in virtual time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.js';
import { AgentRemovals, RemovalFlagError, exceedsRemovalLimit, parseRemovalLimit, parseRemovalRate } from '../../src/master/removals.js';

function counters() {
  const c = { scheduled: 0, completed: 0, canceled: 0 };
  return { c, hooks: { scheduled: () => c.scheduled++, completed: () => c.completed++, canceled: () => c.canceled++ } };
}

test('--agent_removal_rate_limit parses <permits>/<duration> and rejects anything else', () => {
  assert.deepEqual(parseRemovalRate('1/10mins'), { permits: 1, durationMs: 600_000 });
  assert.deepEqual(parseRemovalRate('5/1secs'), { permits: 5, durationMs: 1000 });
  assert.equal(parseRemovalRate(undefined), undefined);
  for (const bad of ['10mins', '0/1secs', 'x/1secs', '1/', '1/forever', '-1/1secs']) {
    assert.throws(() => parseRemovalRate(bad), RemovalFlagError, bad);
  }
});

test('--recovery_agent_removal_limit is a percentage; the valve trips only above it', () => {
  assert.equal(parseRemovalLimit(undefined), 1);
  assert.equal(parseRemovalLimit('50%'), 0.5);
  for (const bad of ['50', '150%', 'abc%', '-1%']) assert.throws(() => parseRemovalLimit(bad), RemovalFlagError, bad);
  assert.equal(exceedsRemovalLimit(5, 10, 0.5), false);
  assert.equal(exceedsRemovalLimit(6, 10, 0.5), true);
  assert.equal(exceedsRemovalLimit(10, 10, 1), false);
  assert.equal(exceedsRemovalLimit(0, 0, 0), false);
});

test('removals are spaced by the rate limit, in order, and a pong calls a pending one off', () => {
  const clock = new ManualClock();
  const { c, hooks } = counters();
  const removals = new AgentRemovals(clock, hooks, { permits: 1, durationMs: 600_000 });
  const removed: string[] = [];
  removals.scheduleUnreachable('a', () => removed.push('a'));
  removals.scheduleUnreachable('b', () => removed.push('b'));
  removals.scheduleUnreachable('c', () => removed.push('c'));
  removals.scheduleUnreachable('c', () => removed.push('c-again'));
  assert.deepEqual(removed, ['a']);
  assert.equal(removals.isPending('b'), true);
  clock.advance(599_999);
  assert.deepEqual(removed, ['a']);
  clock.advance(1);
  assert.deepEqual(removed, ['a', 'b']);
  removals.cancel('c');
  clock.advance(600_000);
  assert.deepEqual(removed, ['a', 'b']);
  assert.deepEqual(c, { scheduled: 3, completed: 2, canceled: 1 });
  removals.close();
});

test('without a rate every removal runs at once', () => {
  const clock = new ManualClock();
  const { c, hooks } = counters();
  const removals = new AgentRemovals(clock, hooks);
  const removed: string[] = [];
  for (const id of ['a', 'b', 'c']) removals.scheduleUnreachable(id, () => removed.push(id));
  assert.deepEqual(removed, ['a', 'b', 'c']);
  assert.equal(removals.isPending('a'), false);
  assert.deepEqual(c, { scheduled: 3, completed: 3, canceled: 0 });
});

test('a disconnected agent expires after the timeout unless it reconnects', () => {
  const clock = new ManualClock();
  const removals = new AgentRemovals(clock, counters().hooks);
  const expired: string[] = [];
  removals.disconnected('a', 1000, () => expired.push('a'));
  removals.disconnected('b', 1000, () => expired.push('b'));
  clock.advance(500);
  removals.reconnected('b');
  clock.advance(500);
  assert.deepEqual(expired, ['a']);
  clock.advance(5000);
  assert.deepEqual(expired, ['a']);
  removals.close();
});
