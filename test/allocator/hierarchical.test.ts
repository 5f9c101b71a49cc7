// The hierarchical DRF allocator: offers, DRF order, reservations, filters, suppress/revive, minimums.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, r, type Offer } from './helpers.js';

function count(offers: Offer[], key: (o: Offer) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of offers) m.set(key(o), (m.get(key(o)) ?? 0) + 1);
  return m;
}

test('one framework is offered the whole agent, stamped with its role', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:4;mem:1024;disk:100;ports:[31000-32000]');
  h.framework('f1', 'web');
  const offers = await h.round();
  assert.equal(offers.length, 1);
  const o = offers[0];
  assert.deepEqual([o.frameworkId, o.role, o.agentId], ['f1', 'web', 'a1']);
  assert.ok(o.resources.equals(r('cpus:4;mem:1024;disk:100;ports:[31000-32000]').allocate('web')));
  for (const m of o.resources.toArray()) assert.equal(m.allocation_info?.role, 'web');
  // Everything is out on offer: nothing more to give.
  assert.deepEqual(await h.round(), []);
  h.close();
});

test('the offer callback receives role -> agent -> resources and triggers coalesce into one round', async () => {
  const h = new Harness();
  const calls: Array<Map<string, Map<string, unknown>>> = [];
  const a = h.allocator;
  // Re-initialize with a callback that records the raw maps.
  a.close();
  const { HierarchicalAllocator } = await import('../../src/master/allocator/hierarchical.js');
  const alloc = new HierarchicalAllocator();
  alloc.initialize({ clock: h.clock, allocationIntervalMs: 1000 }, (_f, m) => calls.push(m));
  alloc.addFramework('f1', { role: '*', name: 'f1' }, new Map(), true, []);
  for (let i = 0; i < 3; i++) alloc.addAgent(`a${i}`, {}, [], r('cpus:1;mem:64'), new Map());
  await alloc.allocate();
  assert.equal(calls.length, 1, 'several triggers produced one round');
  assert.deepEqual([...calls[0].keys()], ['*']);
  assert.deepEqual([...calls[0].get('*')!.keys()].sort(), ['a0', 'a1', 'a2']);
  alloc.close();
});

test('DRF alternates between frameworks of a role and between roles', async () => {
  const h = new Harness();
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:256');
  h.framework('f1', 'r');
  h.framework('f2', 'r');
  const offers = await h.round();
  assert.deepEqual(Object.fromEntries(count(offers, (o) => o.frameworkId)), { f1: 2, f2: 2 });
  h.close();
});

test('weighted DRF: a role with weight 2 gets twice the agents', async () => {
  const h = new Harness(undefined, { weights: { r1: 2 } });
  for (let i = 0; i < 6; i++) h.agent(`a${i}`, 'cpus:2;mem:256');
  h.framework('f1', 'r1');
  h.framework('f2', 'r2');
  const offers = await h.round();
  assert.deepEqual(Object.fromEntries(count(offers, (o) => o.role)), { r1: 4, r2: 2 });
  h.close();
});

test('updateWeights changes the order of later rounds', async () => {
  const h = new Harness();
  h.framework('f1', 'r1');
  h.framework('f2', 'r2');
  h.allocator.updateWeights([{ role: 'r2', weight: 3 }]);
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:256');
  const offers = await h.round();
  assert.deepEqual(Object.fromEntries(count(offers, (o) => o.role)), { r1: 1, r2: 3 });
  h.close();
});

test('used resources count towards DRF shares', async () => {
  const h = new Harness();
  h.framework('f1', 'r');
  h.framework('f2', 'r');
  h.agent('busy', 'cpus:8;mem:1024', { used: new Map([['f1', r('cpus:8;mem:1024').allocate('r')]]) });
  h.agent('a1', 'cpus:1;mem:128');
  const offers = await h.round();
  assert.equal(offers.length, 1);
  assert.equal(offers[0].frameworkId, 'f2');
  h.close();
});

test('static reservations are offered only to their role and its subroles', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus(ads):4;mem(ads):512;cpus:1;mem:128');
  h.framework('other', 'other');
  let offers = await h.round();
  assert.equal(offers.length, 1);
  assert.ok(offers[0].resources.equals(r('cpus:1;mem:128').allocate('other')));
  h.framework('sub', 'ads/team');
  offers = await h.round();
  assert.equal(offers.length, 1);
  assert.equal(offers[0].role, 'ads/team');
  assert.ok(offers[0].resources.equals(r('cpus(ads):4;mem(ads):512').allocate('ads/team')));
  h.close();
});

test('an agent without HIERARCHICAL_ROLE is not offered to nested roles', async () => {
  const h = new Harness();
  h.allocator.addAgent('old', {}, ['MULTI_ROLE'], r('cpus:1;mem:128'), new Map());
  h.framework('f', 'eng/web');
  assert.deepEqual(await h.round(), []);
  h.agent('new', 'cpus:1;mem:128');
  const offers = await h.round();
  assert.deepEqual(offers.map((o) => o.agentId), ['new']);
  h.close();
});

test('decline filters hold for refuse_seconds, at least one allocation interval, and REVIVE clears them', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:2;mem:256');
  h.framework('f1', '*');
  let [o] = await h.round();
  h.decline(o, 10);
  assert.deepEqual(await h.round(), []);
  h.clock.advance(9000);
  assert.deepEqual(await h.round(), []);
  h.clock.advance(1000);
  [o] = await h.round();
  assert.equal(o.agentId, 'a1');
  // A 0.1 s filter lasts the allocation interval (1 s).
  h.decline(o, 0.1);
  h.clock.advance(500);
  assert.deepEqual(await h.round(), []);
  h.clock.advance(500);
  [o] = await h.round();
  assert.equal(o.agentId, 'a1');
  // REVIVE clears a long filter.
  h.decline(o, 1000);
  assert.deepEqual(await h.round(), []);
  h.allocator.reviveOffers('f1', []);
  assert.equal((await h.round()).length, 1);
  h.close();
});

test('a declined offer without a filter or with refuse_seconds 0 comes back next round; invalid means 5 s', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:2;mem:256');
  h.framework('f1', '*');
  let [o] = await h.round();
  h.decline(o);
  [o] = await h.round();
  assert.ok(o);
  h.decline(o, 0);
  [o] = await h.round();
  assert.ok(o);
  h.decline(o, -3);
  h.clock.advance(4900);
  assert.deepEqual(await h.round(), []);
  h.clock.advance(100);
  assert.equal((await h.round()).length, 1);
  h.close();
});

test('a filter only covers what was refused: more resources on the agent lift it', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:2;mem:256');
  h.framework('f1', '*');
  const [o] = await h.round();
  h.decline(o, 100);
  assert.deepEqual(await h.round(), []);
  h.allocator.updateAgent('a1', { hostname: 'a1' }, r('cpus:4;mem:256'), ['MULTI_ROLE', 'HIERARCHICAL_ROLE']);
  const offers = await h.round();
  assert.equal(offers.length, 1);
  assert.equal(offers[0].resources.scalar('cpus'), 4);
  h.close();
});

test('a filter is per framework: another framework still gets the declined agent', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:2;mem:256');
  h.framework('f1', '*');
  const [o] = await h.round();
  h.framework('f2', '*');
  h.decline(o, 100);
  const offers = await h.round();
  assert.deepEqual(offers.map((x) => x.frameworkId), ['f2']);
  h.close();
});

test('SUPPRESS stops offers for the given roles; REVIVE restarts them', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:1;mem:128');
  h.agent('a2', 'cpus:1;mem:128');
  h.framework('f1', ['x', 'y']);
  h.allocator.suppressOffers('f1', ['x']);
  let offers = await h.round();
  assert.deepEqual([...new Set(offers.map((o) => o.role))], ['y']);
  for (const o of offers) h.decline(o);
  h.allocator.suppressOffers('f1', []);
  assert.deepEqual(await h.round(), []);
  h.allocator.reviveOffers('f1', ['x']);
  offers = await h.round();
  assert.deepEqual([...new Set(offers.map((o) => o.role))], ['x']);
  h.close();
});

test('frameworks subscribed with suppressed roles get nothing until revived', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:1;mem:128');
  h.framework('f1', ['x'], { suppressed: ['x'] });
  assert.deepEqual(await h.round(), []);
  h.allocator.reviveOffers('f1', ['x']);
  assert.equal((await h.round()).length, 1);
  h.close();
});

test('each offer carries exactly one role for multi-role frameworks', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus(x):1;mem(x):128;cpus:1;mem:128');
  h.framework('f1', ['x', 'y']);
  const offers = await h.round();
  assert.ok(offers.length >= 1);
  for (const o of offers) {
    const roles = new Set(o.resources.toArray().map((m) => m.allocation_info?.role));
    assert.deepEqual([...roles], [o.role]);
  }
  const reserved = offers.find((o) => o.resources.reserved('x').size > 0);
  assert.equal(reserved?.role, 'x');
  h.close();
});

test('multi-role frameworks are not offered agents without the MULTI_ROLE capability', async () => {
  const h = new Harness();
  h.allocator.addAgent('old', {}, [], r('cpus:1;mem:128'), new Map());
  h.framework('multi', ['x']);
  assert.deepEqual(await h.round(), []);
  h.framework('single', 'x');
  const offers = await h.round();
  assert.deepEqual(offers.map((o) => o.frameworkId), ['single']);
  h.close();
});

test('min_allocatable_resources: tiny agents are not offered; agents without cpus and mem never', async () => {
  const h = new Harness();
  h.agent('tiny', 'cpus:0.005;mem:16');
  h.agent('disk', 'disk:1000');
  h.framework('f1', '*');
  assert.deepEqual(await h.round(), []);
  h.agent('ok', 'cpus:0.01');
  const offers = await h.round();
  assert.deepEqual(offers.map((o) => o.agentId), ['ok']);
  h.close();

  const h2 = new Harness(undefined, { minAllocatableResources: [{ cpus: 1, mem: 100 }] });
  h2.agent('a', 'cpus:1;mem:64');
  h2.framework('f1', '*');
  assert.deepEqual(await h2.round(), []);
  h2.allocator.updateAgent('a', {}, r('cpus:1;mem:100'), ['MULTI_ROLE', 'HIERARCHICAL_ROLE']);
  assert.equal((await h2.round()).length, 1);
  h2.close();

  const h3 = new Harness(undefined, { minAllocatableResources: [] });
  h3.agent('disk', 'disk:1000');
  h3.agent('small', 'mem:1');
  h3.framework('f1', '*');
  assert.deepEqual((await h3.round()).map((o) => o.agentId), ['small']);
  h3.close();
});

test('inactive frameworks and deactivated agents are skipped', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:1;mem:128');
  h.framework('f1', '*', { active: false });
  assert.deepEqual(await h.round(), []);
  h.allocator.activateFramework('f1');
  let [o] = await h.round();
  assert.equal(o.frameworkId, 'f1');
  h.decline(o);
  h.allocator.deactivateAgent('a1');
  assert.deepEqual(await h.round(), []);
  h.allocator.activateAgent('a1');
  [o] = await h.round();
  assert.equal(o.agentId, 'a1');
  h.decline(o);
  h.allocator.deactivateFramework('f1');
  assert.deepEqual(await h.round(), []);
  h.close();
});

test('GPU agents go only to GPU_RESOURCES frameworks unless filtering is off', async () => {
  const h = new Harness();
  h.agent('gpu', 'cpus:1;mem:128;gpus:1');
  h.framework('plain', '*');
  assert.deepEqual(await h.round(), []);
  h.framework('gpu-fw', '*', { caps: ['GPU_RESOURCES'] });
  const offers = await h.round();
  assert.deepEqual(offers.map((o) => o.frameworkId), ['gpu-fw']);
  assert.equal(offers[0].resources.scalar('gpus'), 1);
  h.close();

  const h2 = new Harness(undefined, { filterGpuResources: false });
  h2.agent('gpu', 'cpus:1;mem:128;gpus:1');
  h2.framework('plain', '*');
  assert.equal((await h2.round()).length, 1);
  h2.close();
});

test('allocation runs every allocation interval on the injected clock', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:1;mem:128');
  h.framework('f1', '*');
  const [o] = await h.round();
  h.decline(o);
  assert.equal(h.offers.length, 0);
  h.clock.advance(1000);
  for (let i = 0; i < 100 && h.offers.length === 0; i++) await new Promise((res) => setImmediate(res));
  assert.equal(h.offers.length, 1);
  h.close();
  assert.equal(h.clock.pending(), 0, 'close() stops the interval timer');
});

test('removing a framework frees its resources; removing an agent drops it', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:1;mem:128');
  h.framework('f1', '*');
  assert.equal((await h.round()).length, 1);
  h.framework('f2', '*');
  assert.deepEqual(await h.round(), []);
  h.allocator.removeFramework('f1');
  const offers = await h.round();
  assert.deepEqual(offers.map((o) => o.frameworkId), ['f2']);
  h.allocator.removeAgent('a1');
  h.allocator.recoverResources('f2', 'a1', offers[0].resources);
  assert.deepEqual(await h.round(), []);
  h.close();
});

test('recovered resources return to the pool exactly once', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:4;mem:512');
  h.framework('f1', '*');
  const [o] = await h.round();
  h.decline(o);
  h.decline(o); // a duplicate recover must not create resources
  const [o2] = await h.round();
  assert.ok(o2.resources.equals(r('cpus:4;mem:512').allocate('*')));
  h.close();
});

test('bad input from the caller is tolerated, never thrown', async () => {
  const h = new Harness();
  const a = h.allocator as unknown as Record<string, (...args: unknown[]) => unknown>;
  assert.doesNotThrow(() => {
    a.addFramework('weird', undefined, undefined, true, undefined);
    a.updateFramework('weird', null, null);
    a.addAgent('bare', undefined, undefined, undefined, undefined);
    a.updateAgent('bare', undefined, undefined, undefined);
    a.recoverResources('weird', 'bare', undefined, 5);
    a.recoverResources('nobody', 'nowhere', r('cpus:1'), 5);
    a.updateWeights([null, { role: 5 }, { role: 'ok', weight: 'x' }]);
    a.updateWeights(undefined);
    a.suppressOffers('nobody', ['x']);
    a.reviveOffers('weird', undefined);
    a.updateQuota('a//b', { guarantees: r('cpus:1') });
    a.updateQuota('q', {});
    a.updateQuota('q', undefined);
    a.removeAgent('never');
    a.removeFramework('never');
  });
  h.agent('a1', 'cpus:1;mem:128');
  // 'weird' subscribed to '*' by default and still gets offers.
  assert.deepEqual((await h.round()).map((o) => o.frameworkId), ['weird']);
  h.close();
});

test('refuse_seconds is capped at 365 days', async () => {
  const h = new Harness(undefined, { allocationIntervalMs: 0 });
  h.agent('a1', 'cpus:1;mem:128');
  h.framework('f1', '*');
  const [o] = await h.round();
  h.decline(o, 1e12);
  h.clock.advance(364 * 24 * 3600 * 1000);
  assert.deepEqual(await h.round(), []);
  h.clock.advance(1 * 24 * 3600 * 1000);
  assert.equal((await h.round()).length, 1);
  h.close();
});
