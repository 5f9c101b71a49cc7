import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.js';
import { uuidBytes } from '../../src/common/ids.js';
import { TaskStatusUpdateManager } from '../../src/agent/status-updates/manager.js';
import type { Msg } from '../../src/agent/types.js';

function update(task: string, state: string, fw = 'fw-1'): Msg {
  const uuid = uuidBytes();
  return {
    framework_id: { value: fw },
    executor_id: { value: task },
    slave_id: { value: 'agent-1' },
    status: { task_id: { value: task }, state, source: 'SOURCE_EXECUTOR', uuid },
    timestamp: 1,
    uuid,
  };
}

function setup() {
  const clock = new ManualClock(0);
  const sent: Msg[] = [];
  const mgr = new TaskStatusUpdateManager({ clock, forward: (u) => sent.push(u) });
  return { clock, sent, mgr };
}

test('only the head of a task stream is in flight; acks release the next update in order', () => {
  const { sent, mgr } = setup();
  const a = update('t1', 'TASK_STARTING');
  const b = update('t1', 'TASK_RUNNING');
  const c = update('t1', 'TASK_FINISHED');
  assert.equal(mgr.update(a).kind, 'accepted');
  assert.equal(mgr.update(b).kind, 'accepted');
  assert.equal(mgr.update(c).kind, 'accepted');
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.status.state, 'TASK_STARTING');
  assert.equal(sent[0]!.latest_state, 'TASK_STARTING');

  // An ack for a non-head update is refused and changes nothing.
  const wrong = mgr.acknowledge('fw-1', 't1', b.uuid);
  assert.equal(wrong.ok, false);
  assert.equal(sent.length, 1);

  const ackA = mgr.acknowledge('fw-1', 't1', a.uuid);
  assert.equal(ackA.ok, true);
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.status.state, 'TASK_RUNNING');
  assert.deepEqual(sent[1]!.uuid, b.uuid);
  // The forwarded head tells the master the newest state the agent knows.
  assert.equal(sent[1]!.latest_state, 'TASK_FINISHED');

  mgr.acknowledge('fw-1', 't1', b.uuid);
  assert.equal(sent[2]!.status.state, 'TASK_FINISHED');
  const ackC = mgr.acknowledge('fw-1', 't1', c.uuid);
  assert.ok(ackC.ok && ackC.terminal);
  assert.equal(mgr.pendingCount(), 0);
  assert.equal(sent.length, 3);
});

test('streams of different tasks are independent', () => {
  const { sent, mgr } = setup();
  mgr.update(update('t1', 'TASK_RUNNING'));
  mgr.update(update('t2', 'TASK_RUNNING'));
  assert.deepEqual(
    sent.map((u) => u.status.task_id.value),
    ['t1', 't2'],
  );
});

test('duplicates (same uuid) are recognised and not forwarded again', () => {
  const { sent, mgr } = setup();
  const a = update('t1', 'TASK_RUNNING');
  assert.equal(mgr.update(a).kind, 'accepted');
  assert.equal(mgr.update({ ...a }).kind, 'duplicate');
  assert.equal(mgr.pendingCount(), 1);
  mgr.acknowledge('fw-1', 't1', a.uuid);
  // Still a duplicate after it was acknowledged.
  assert.equal(mgr.update({ ...a }).kind, 'duplicate');
  assert.equal(sent.length, 1);
  assert.equal(mgr.acknowledge('fw-1', 't1', a.uuid).ok, false);
});

test('unacknowledged head is retried with backoff from 10s doubling up to 10min', () => {
  const { clock, sent, mgr } = setup();
  const a = update('t1', 'TASK_RUNNING');
  mgr.update(a);
  const times: number[] = [];
  const record = () => {
    while (times.length < sent.length) times.push(clock.now());
  };
  record();
  for (let i = 0; i < 2000 && times.length < 9; i++) {
    clock.advance(1000);
    record();
  }
  const gaps = times.slice(1).map((t, i) => (t - times[i]!) / 1000);
  assert.deepEqual(gaps, [10, 20, 40, 80, 160, 320, 600, 600]);
  // Every retry is the same update.
  for (const u of sent) assert.deepEqual(u.uuid, a.uuid);
  // Acknowledging stops the retries.
  mgr.acknowledge('fw-1', 't1', a.uuid);
  const n = sent.length;
  clock.advance(3_600_000);
  assert.equal(sent.length, n);
  assert.equal(clock.pending(), 0);
});

test('a new head restarts the backoff at the minimum', () => {
  const { clock, sent, mgr } = setup();
  const a = update('t1', 'TASK_RUNNING');
  const b = update('t1', 'TASK_FINISHED');
  mgr.update(a);
  mgr.update(b);
  clock.advance(10_000);
  clock.advance(20_000);
  assert.equal(sent.length, 3);
  mgr.acknowledge('fw-1', 't1', a.uuid);
  assert.equal(sent.length, 4);
  clock.advance(9_999);
  assert.equal(sent.length, 4);
  clock.advance(1);
  assert.equal(sent.length, 5);
  assert.deepEqual(sent[4]!.uuid, b.uuid);
});

test('no update is accepted after the terminal update was acknowledged', () => {
  const { mgr } = setup();
  const a = update('t1', 'TASK_FAILED');
  mgr.update(a);
  mgr.acknowledge('fw-1', 't1', a.uuid);
  // The stream is gone once the terminal update is acknowledged; a later one starts fresh, which
  // is how Mesos behaves for a task id reused after completion.
  assert.equal(mgr.hasPending('fw-1', 't1'), false);
});

test('paused managers send nothing; resume resends every unacknowledged head', () => {
  const { clock, sent, mgr } = setup();
  const a = update('t1', 'TASK_RUNNING');
  const b = update('t2', 'TASK_RUNNING');
  mgr.update(a);
  mgr.pause();
  mgr.update(b);
  clock.advance(60_000);
  assert.equal(sent.length, 1);
  mgr.resume();
  assert.deepEqual(
    sent.slice(1).map((u) => u.status.task_id.value),
    ['t1', 't2'],
  );
});

test('latest_state follows the newest pending update on retries', () => {
  const { clock, sent, mgr } = setup();
  mgr.update(update('t1', 'TASK_RUNNING'));
  assert.equal(sent[0]!.latest_state, 'TASK_RUNNING');
  mgr.update(update('t1', 'TASK_KILLED'));
  clock.advance(10_000);
  assert.equal(sent[1]!.status.state, 'TASK_RUNNING');
  assert.equal(sent[1]!.latest_state, 'TASK_KILLED');
});

test('cleanupFramework drops its streams and their timers', () => {
  const { clock, mgr } = setup();
  mgr.update(update('t1', 'TASK_RUNNING', 'fw-a'));
  mgr.update(update('t2', 'TASK_RUNNING', 'fw-b'));
  mgr.cleanupFramework('fw-a');
  assert.equal(mgr.hasPending('fw-a', 't1'), false);
  assert.equal(mgr.hasPending('fw-b', 't2'), true);
  assert.equal(clock.pending(), 1);
});

test('updates without uuid are rejected', () => {
  const { mgr } = setup();
  const a = update('t1', 'TASK_RUNNING');
  delete a.uuid;
  assert.equal(mgr.update(a).kind, 'rejected');
});
