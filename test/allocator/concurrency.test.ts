// Rounds yield to the event loop between agent batches: events that arrive mid-round must leave
// the allocator consistent and never produce offers for removed agents or frameworks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from './helpers.js';

test('removals and deactivations during a yielding round are honoured', async () => {
  const h = new Harness(undefined, { yieldAfterMs: 0 });
  const N = 1000;
  for (let i = 0; i < N; i++) h.agent(`a${i}`, 'cpus:1;mem:64');
  for (const f of ['f1', 'f2', 'f3', 'f4']) h.framework(f, f === 'f4' ? 'other' : 'r');
  let yields = 0;
  const round = h.allocator.allocate();
  // Act at the first yields of the round (the round checks the clock every 64 agents).
  await new Promise<void>((resolve) => setImmediate(() => {
    yields++;
    h.allocator.removeFramework('f1');
    h.allocator.deactivateFramework('f2');
    h.allocator.suppressOffers('f4', []);
    for (let i = 0; i < N; i += 2) h.allocator.removeAgent(`a${i}`);
    resolve();
  }));
  await round;
  assert.equal(yields, 1);
  const offers = h.take();
  assert.ok(offers.length > 0);
  for (const o of offers) {
    assert.equal(o.frameworkId, 'f3', `offer to ${o.frameworkId}`);
    assert.equal(Number(o.agentId.slice(1)) % 2, 1, `offer on removed agent ${o.agentId}`);
  }
  // Whatever f2 and f4 were about to get went back: the next round can offer it to f3.
  const total = offers.length + (await h.round()).length;
  assert.equal(total, N / 2, 'every remaining agent went to f3 exactly once');
  h.close();
});

test('allocate() called during a round resolves after a later round that saw the change', async () => {
  const h = new Harness(undefined, { yieldAfterMs: 0 });
  for (let i = 0; i < 500; i++) h.agent(`a${i}`, 'cpus:1;mem:64');
  const first = h.allocator.allocate();
  await new Promise<void>((resolve) => setImmediate(resolve));
  h.framework('late', '*');
  await h.allocator.allocate();
  await first;
  assert.equal(h.take().length, 500, 'the framework added mid-round got every agent from the next round');
  h.close();
});
