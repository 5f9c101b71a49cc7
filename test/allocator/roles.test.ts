// Hierarchical roles (RES-05), the drf/random sorters, fairness exclusions and weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRole } from '../../src/resources/index.js';
import { Harness, r, type Offer } from './helpers.js';

function byRole(offers: Offer[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const o of offers) m[o.role] = (m[o.role] ?? 0) + 1;
  return m;
}

test('a parent role competes with its whole subtree', async () => {
  const h = new Harness();
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:256');
  h.framework('fx', 'eng/x');
  h.framework('fy', 'eng/y');
  h.framework('fb', 'ops');
  assert.deepEqual(byRole(await h.round()), { 'eng/x': 1, 'eng/y': 1, ops: 2 });
  h.close();
});

test('a role with frameworks and subroles shares with them as a sibling leaf', async () => {
  const h = new Harness();
  for (let i = 0; i < 8; i++) h.agent(`a${i}`, 'cpus:2;mem:256');
  h.framework('fa', 'eng');
  h.framework('fx', 'eng/x');
  h.framework('fo', 'ops');
  assert.deepEqual(byRole(await h.round()), { eng: 2, 'eng/x': 2, ops: 4 });
  h.close();
});

test('weights apply to nested roles within their parent', async () => {
  const h = new Harness();
  h.allocator.updateWeights([{ role: 'eng/x', weight: 3 }]);
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:256');
  h.framework('fx', 'eng/x');
  h.framework('fy', 'eng/y');
  assert.deepEqual(byRole(await h.round()), { 'eng/x': 3, 'eng/y': 1 });
  h.close();
});

test('reservations for a parent role are offered to its subroles, not to siblings', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus(eng):2;mem(eng):256');
  h.framework('fo', 'ops');
  assert.deepEqual(await h.round(), []);
  h.framework('fx', 'eng/x/deep');
  const offers = await h.round();
  assert.deepEqual(offers.map((o) => o.role), ['eng/x/deep']);
  h.close();
});

test('invalid role names (RES-05) are never offered', async () => {
  for (const bad of ['', '/a', 'a/', 'a//b', 'a/./b', 'a/../b', 'a/*/b', '-a', 'a/-b', 'a b', 'a\tb']) {
    assert.ok(validateRole(bad), `'${bad}' should be invalid`);
  }
  for (const good of ['*', 'a', 'eng/web/db', 'a.b', 'a-b']) assert.equal(validateRole(good), undefined);
  const h = new Harness();
  h.agent('a1', 'cpus:1;mem:128');
  h.framework('bad', 'a//b');
  h.framework('bad2', ['ok', '..']);
  h.allocator.updateWeights([{ role: 'x//y', weight: 2 }]);
  const offers = await h.round();
  assert.deepEqual(offers.map((o) => [o.frameworkId, o.role]), [['bad2', 'ok']]);
  h.close();
});

test('fairness-excluded resources do not count in shares', async () => {
  async function winner(excluded: string[]): Promise<string> {
    const h = new Harness(undefined, { fairnessExcludedResourceNames: excluded, filterGpuResources: false });
    h.framework('gpuheavy', 'r1');
    h.framework('cpuuser', 'r2');
    h.agent('g', 'cpus:1;mem:128;gpus:8', { used: new Map([['gpuheavy', r('gpus:8').allocate('r1')], ['cpuuser', r('cpus:1;mem:128').allocate('r2')]]) });
    h.agent('free', 'cpus:16;mem:4096');
    const offers = await h.round();
    h.close();
    assert.equal(offers.length, 1);
    return offers[0].frameworkId;
  }
  // Counting gpus, gpuheavy's share is 1.0; without them it is 0.
  assert.equal(await winner([]), 'cpuuser');
  assert.equal(await winner(['gpus']), 'gpuheavy');
});

test('drf is deterministic round to round; the random sorter varies the order', async () => {
  async function sequence(sorter: string): Promise<string[]> {
    const h = new Harness(undefined, { roleSorter: sorter, frameworkSorter: sorter });
    h.agent('a1', 'cpus:1;mem:128');
    h.framework('f1', 'r1');
    h.framework('f2', 'r2');
    h.framework('f3', 'r2');
    const seq: string[] = [];
    for (let i = 0; i < 30; i++) {
      const [o] = await h.round();
      seq.push(o.frameworkId);
      h.decline(o);
    }
    h.close();
    return seq;
  }
  const drf = await sequence('drf');
  // DRF with equal (zero) shares breaks ties by allocation count, then name: a fixed cycle.
  assert.deepEqual(drf.slice(0, 6), ['f1', 'f2', 'f1', 'f3', 'f1', 'f2']);
  const random = await sequence('random');
  assert.notDeepEqual(random, drf);
  for (const f of ['f1', 'f2', 'f3']) assert.ok(random.includes(f), `${f} was offered under the random sorter`);
});

test('DRF stays exact with hundreds of frameworks in one role (block-sorted order)', async () => {
  const h = new Harness();
  const F = 300;
  for (let f = 0; f < F; f++) h.framework(`f${String(f).padStart(3, '0')}`, 'r');
  // Uneven starting usage: the first 100 frameworks already hold one agent each.
  for (let i = 0; i < 100; i++) {
    h.agent(`used${i}`, 'cpus:2;mem:256', { used: new Map([[`f${String(i).padStart(3, '0')}`, r('cpus:2;mem:256').allocate('r')]]) });
  }
  for (let i = 0; i < 800; i++) h.agent(`a${i}`, 'cpus:2;mem:256');
  for (let round = 0; round < 3; round++) {
    const offers = await h.round();
    assert.equal(offers.length, 800);
    const per = new Map<string, number>();
    for (const o of offers) per.set(o.frameworkId, (per.get(o.frameworkId) ?? 0) + 1);
    // 900 agents over 300 frameworks: everyone ends with 3, so the first 100 got 2 and the rest 3.
    for (let f = 0; f < F; f++) {
      const id = `f${String(f).padStart(3, '0')}`;
      assert.equal(per.get(id), f < 100 ? 2 : 3, `${id} in round ${round}`);
    }
    for (const o of offers) h.decline(o);
  }
  h.close();
});
