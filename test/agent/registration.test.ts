import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.js';
import { RegistrationLoop, resolveMasterPid, MasterFlagError } from '../../src/agent/registration.js';

test('registration waits a random share of the backoff factor, then doubles the bound up to 1 minute', () => {
  const clock = new ManualClock(0);
  const attempts: number[] = [];
  // random() = 1 makes every wait exactly its bound.
  const loop = new RegistrationLoop({ clock, backoffFactorMs: 1000, attempt: () => attempts.push(clock.now()), onPingTimeout: () => {}, random: () => 1 });
  loop.start();
  clock.advance(300_000);
  const gaps = attempts.map((t, i) => t - (i === 0 ? 0 : attempts[i - 1]!));
  assert.deepEqual(gaps.slice(0, 8), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  loop.registered(75_000);
  const n = attempts.length;
  clock.advance(600_000);
  assert.equal(attempts.length, n);
});

test('random() = 0 retries at once but never spins without time passing', () => {
  const clock = new ManualClock(0);
  let attempts = 0;
  const loop = new RegistrationLoop({ clock, backoffFactorMs: 1000, attempt: () => attempts++, onPingTimeout: () => {}, random: () => 0 });
  loop.start();
  clock.advance(0);
  assert.equal(attempts, 1);
  clock.advance(10);
  assert.equal(attempts, 11);
  loop.stop();
  assert.equal(clock.pending(), 0);
});

test('no ping within the total ping timeout reports the master lost; pings push it back', () => {
  const clock = new ManualClock(0);
  let lost = 0;
  const loop = new RegistrationLoop({ clock, backoffFactorMs: 1000, attempt: () => {}, onPingTimeout: () => lost++, random: () => 0.5 });
  loop.registered(75_000);
  clock.advance(70_000);
  loop.pinged();
  clock.advance(70_000);
  assert.equal(lost, 0);
  clock.advance(5_000);
  assert.equal(lost, 1);
});

test('--master accepts host:port and master@host:port; zk:// and garbage are refused', async () => {
  assert.equal(await resolveMasterPid('127.0.0.1:5050'), 'master@127.0.0.1:5050');
  assert.equal(await resolveMasterPid('master@10.0.0.1:5050'), 'master@10.0.0.1:5050');
  assert.equal(await resolveMasterPid('localhost:5050'), 'master@127.0.0.1:5050');
  await assert.rejects(resolveMasterPid('zk://10.0.0.1:2181/mesos'), MasterFlagError);
  await assert.rejects(resolveMasterPid('10.0.0.1'), MasterFlagError);
  await assert.rejects(resolveMasterPid('10.0.0.1:99999'), MasterFlagError);
});
