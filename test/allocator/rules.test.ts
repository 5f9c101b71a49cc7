// Unit tests, in virtual time, for ALC rules the other files leave out: agent shuffling, the DRF
// tie-breaks, quota on `*`, stage 1 carrying non-quota kinds, per-role filters of multi-role
// frameworks, filters dropped on deactivation, capability changes through updateAgent, and the
// strict-priority policy's ordering details.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HierarchicalAllocator } from '../../src/master/allocator/hierarchical.js';
import { Harness, r, seeded } from './helpers.js';

test('ALC-01: agents are visited in a random order each cycle (seeded, so reproducible)', async () => {
  const firsts = async (seed: number): Promise<string[]> => {
    const h = new Harness(undefined, { random: seeded(seed) });
    for (let i = 0; i < 5; i++) h.agent(`a${i}`, 'cpus:2;mem:256');
    h.framework('f', 'l');
    // A limit of one agent's cpus: each round offers exactly the first agent visited.
    h.allocator.updateQuota('l', { limits: r('cpus:2;mem:256') });
    const seen: string[] = [];
    for (let round = 0; round < 12; round++) {
      const offers = await h.round();
      assert.equal(offers.length, 1);
      seen.push(offers[0].agentId);
      h.decline(offers[0]);
    }
    h.close();
    return seen;
  };
  const one = await firsts(7);
  assert.ok(new Set(one).size >= 3, `the first agent varies: ${one}`);
  assert.deepEqual(await firsts(7), one, 'same seed, same order');
});

test('ALC-01: DRF ties break by fewer allocations, then by path', async () => {
  // Disk is excluded from fairness, so holding disk leaves a share of 0 but counts as an allocation.
  const run = async (faHoldsDisk: boolean): Promise<string> => {
    const h = new Harness(undefined, { fairnessExcludedResourceNames: ['disk'] });
    h.agent('store', 'disk:100');
    h.agent('a1', 'cpus:1;mem:64');
    const used = faHoldsDisk ? new Map([['store', r('disk:100').allocate('a')]]) : new Map();
    h.allocator.addFramework('fa', { user: 'u', name: 'fa', role: 'a' }, used, true, []);
    h.framework('fb', 'b');
    const offers = (await h.round()).filter((o) => o.agentId === 'a1');
    h.close();
    assert.equal(offers.length, 1);
    return offers[0].frameworkId;
  };
  assert.equal(await run(false), 'fa', "equal shares and counts: 'a' sorts before 'b'");
  assert.equal(await run(true), 'fb', 'equal shares: the role with fewer allocations first');
});

test('ALC-10: quota limits apply to the * role too', async () => {
  const h = new Harness();
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:512');
  h.framework('f', '*');
  h.allocator.updateQuota('*', { limits: r('cpus:3') });
  const offers = await h.round();
  assert.equal(offers.reduce((s, o) => s + o.resources.scalar('cpus'), 0), 3);
  h.close();
});

test('ALC-10: stage 1 offers carry non-quota kinds (ports, disk) so they are usable', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:2;mem:512;disk:100;ports:[1000-1009]');
  // 'z' sorts after 'r': only stage 1 puts it first.
  h.framework('fz', 'z');
  h.framework('fr', 'r');
  h.allocator.updateQuota('z', { guarantees: r('cpus:1') });
  const offers = await h.round();
  const q = offers.find((o) => o.role === 'z');
  assert.ok(q, 'the guaranteed role is served first');
  assert.equal(q.resources.scalar('cpus'), 2);
  assert.equal(q.resources.ranges('ports').length, 1);
  assert.ok(q.resources.scalar('disk') > 0);
  assert.ok(q.resources.scalar('mem') > 0);
  h.close();
});

test('ALC-30: a multi-role framework\'s filter covers only the role it declined in', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:2;mem:256');
  h.framework('f', ['x', 'y']);
  const [first] = await h.round();
  h.decline(first, 3600);
  const [second] = await h.round();
  assert.ok(second, 'offered again, in the other role');
  assert.notEqual(second.role, first.role);
  h.decline(second, 3600);
  assert.deepEqual(await h.round(), [], 'both roles filtered');
  // REVIVE for one role clears that role's filter only.
  h.allocator.reviveOffers('f', [first.role]);
  const again = await h.round();
  assert.deepEqual(again.map((o) => o.role), [first.role]);
  h.close();
});

test('ALC-30: deactivating a framework drops its decline filters', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:2;mem:256');
  h.framework('f', 'r');
  const [o] = await h.round();
  h.decline(o, 3600);
  assert.deepEqual(await h.round(), []);
  h.allocator.deactivateFramework('f');
  assert.deepEqual(await h.round(), [], 'inactive: nothing');
  h.allocator.activateFramework('f');
  assert.equal((await h.round()).length, 1, 'back without the old filter');
  h.close();
});

test('ALC-30: a filter expires on the clock, not on the number of rounds', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:2;mem:256');
  h.framework('f', 'r');
  const [o] = await h.round();
  h.decline(o, 3);
  for (let i = 0; i < 5; i++) assert.deepEqual(await h.round(), []);
  h.clock.advance(2999);
  assert.deepEqual(await h.round(), []);
  h.clock.advance(1);
  assert.equal((await h.round()).length, 1);
  h.close();
});

test('ALC-20: updateAgent capabilities: an agent losing MULTI_ROLE is no longer offered to multi-role frameworks', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:2;mem:256');
  h.framework('multi', ['m']);
  const [o] = await h.round();
  assert.equal(o.frameworkId, 'multi');
  h.decline(o);
  h.allocator.updateAgent('a1', { hostname: 'a1' }, r('cpus:2;mem:256'), ['HIERARCHICAL_ROLE']);
  assert.deepEqual(await h.round(), []);
  h.framework('single', 's');
  assert.deepEqual((await h.round()).map((x) => x.frameworkId), ['single']);
  h.close();
});

test('strict-priority: equal weights fall back to path order; a suppressed top role lets the next one in', async () => {
  const h = new Harness(new HierarchicalAllocator({ policy: 'strict-priority' }), { weights: { top: 5 } });
  for (let i = 0; i < 3; i++) h.agent(`a${i}`, 'cpus:1;mem:128');
  h.framework('fb', 'b');
  h.framework('fa', 'a');
  h.framework('ft', 'top', { suppressed: ['top'] });
  let offers = await h.round();
  assert.deepEqual([...new Set(offers.map((o) => o.role))], ['a'], 'a and b weigh 1: a sorts first and keeps winning');
  for (const o of offers) h.decline(o);
  h.allocator.reviveOffers('ft', ['top']);
  offers = await h.round();
  assert.deepEqual([...new Set(offers.map((o) => o.role))], ['top']);
  assert.equal(offers.length, 3);
  h.close();
});
