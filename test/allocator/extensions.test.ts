// Optional allocator extensions: operations on held/available resources, failover recovery,
// the agent whitelist, offer constraints and the allocator/mesos/* metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OfferConstraintsError, type HierarchicalAllocator } from '../../src/master/allocator/index.js';
import type { Msg } from '../../src/master/allocator/allocator.js';
import { Harness, r } from './helpers.js';

const alloc = (h: Harness) => h.allocator as HierarchicalAllocator;

test('updateAllocation: a RESERVE inside an accepted offer converts the held resources and the total', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:4;mem:512');
  h.framework('f', ['web']);
  const [o] = await h.round();
  const from = r('cpus:1').allocate('web');
  const to = r('cpus(web):1').allocate('web');
  assert.equal(alloc(h).updateAllocation('f', 'a1', from, to), true);
  assert.equal(alloc(h).updateAllocation('f', 'a1', r('cpus:100').allocate('web'), to), false, 'not held');
  // Give back what the framework still holds: the reservation stays on the agent and comes back to the role.
  h.allocator.recoverResources('f', 'a1', o.resources.minus(from).plus(to));
  const [again] = await h.round();
  assert.equal(again.resources.reserved('web').scalar('cpus'), 1);
  assert.equal(again.resources.unreserved().scalar('cpus'), 3);
  h.close();
});

test('updateAvailable converts free resources only', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:4;mem:512');
  assert.equal(alloc(h).updateAvailable('a1', r('cpus:2'), r('cpus(ops):2')), true);
  assert.equal(alloc(h).updateAvailable('a1', r('cpus:5'), r('cpus(ops):5')), false);
  h.framework('other', 'dev');
  const [o] = await h.round();
  assert.equal(o.resources.scalar('cpus'), 2, 'the reserved half is not offered to another role');
  h.close();
});

test('recover() with quotas pauses allocation until enough agents re-register', async () => {
  const h = new Harness();
  h.framework('f', 'q');
  alloc(h).recover(5, new Map([['q', { guarantees: r('cpus:1') }]]));
  for (let i = 0; i < 3; i++) h.agent(`a${i}`, 'cpus:1;mem:64');
  assert.deepEqual(await h.round(), [], '3 of 5 agents (< 80%) is not enough');
  h.agent('a3', 'cpus:1;mem:64');
  assert.equal((await h.round()).length, 4);
  h.close();
});

test('recover() resumes after the recovery timeout', async () => {
  const h = new Harness(undefined, { recoveryTimeoutMs: 60_000 });
  h.framework('f', 'q');
  alloc(h).recover(10, new Map([['q', { guarantees: r('cpus:1') }]]));
  h.agent('a0', 'cpus:1;mem:64');
  assert.deepEqual(await h.round(), []);
  h.clock.advance(60_000);
  // The timer resumed allocation: the agent goes out.
  assert.deepEqual((await h.round()).map((o) => o.agentId), ['a0']);
  h.close();
});

test('the whitelist limits offers to listed hostnames', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:1;mem:64');
  h.agent('a2', 'cpus:1;mem:64');
  alloc(h).updateWhitelist(['a2']);
  h.framework('f', '*');
  assert.deepEqual((await h.round()).map((o) => o.agentId), ['a2']);
  alloc(h).updateWhitelist(undefined);
  assert.deepEqual((await h.round()).map((o) => o.agentId), ['a1']);
  h.close();
});

test('offer constraints filter agents per role by attributes and pseudoattributes', async () => {
  const h = new Harness();
  const attrs = (rack: string): Msg => ({ attributes: [{ name: 'rack', type: 'TEXT', text: { value: rack } }, { name: 'level', type: 'SCALAR', scalar: { value: 3 } }] });
  h.agent('r1', 'cpus:1;mem:64', { info: attrs('r1') });
  h.agent('r2', 'cpus:1;mem:64', { info: attrs('r2') });
  h.agent('bare', 'cpus:1;mem:64');
  h.framework('f', ['x', 'y']);
  h.allocator.suppressOffers('f', ['y']);
  const eq = (v: string) => ({ selector: { attribute_name: 'rack' }, predicate: { text_equals: { value: v } } });
  alloc(h).updateOfferConstraints('f', { role_constraints: { x: { groups: [{ attribute_constraints: [eq('r2')] }, { attribute_constraints: [{ selector: { pseudoattribute_type: 'HOSTNAME' }, predicate: { text_matches: { regex: 'ba.e' } } }] }] } } });
  let offers = await h.round();
  assert.deepEqual(offers.map((o) => o.agentId).sort(), ['bare', 'r2']);
  for (const o of offers) h.decline(o);
  // Non-TEXT attributes match text predicates; not_exists excludes agents having the attribute.
  alloc(h).updateOfferConstraints('f', { role_constraints: { x: { groups: [{ attribute_constraints: [{ selector: { attribute_name: 'level' }, predicate: { text_equals: { value: 'anything' } } }] }] } } });
  offers = await h.round();
  assert.deepEqual(offers.map((o) => o.agentId).sort(), ['r1', 'r2']);
  for (const o of offers) h.decline(o);
  alloc(h).updateOfferConstraints('f', { role_constraints: { x: { groups: [{ attribute_constraints: [{ selector: { attribute_name: 'rack' }, predicate: { not_exists: {} } }] }] } } });
  assert.deepEqual((await h.round()).map((o) => o.agentId), ['bare']);
  assert.throws(() => alloc(h).updateOfferConstraints('f', { role_constraints: { x: { groups: [] } } }), OfferConstraintsError);
  assert.throws(() => alloc(h).updateOfferConstraints('f', { role_constraints: { x: { groups: [{ attribute_constraints: [{ selector: { attribute_name: 'a' }, predicate: { text_matches: { regex: '(' } } }] }] } } }), OfferConstraintsError);
  h.close();
});

test('metrics report runs, totals, offered resources, filters, shares and quota', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:4;mem:512;disk:100');
  h.framework('f', 'q');
  h.allocator.updateQuota('q', { guarantees: r('cpus:2'), limits: r('cpus:3') });
  const [o] = await h.round();
  h.decline(o, 60);
  await h.round();
  const m = alloc(h).metrics();
  assert.equal(m['allocator/mesos/allocation_runs'], 2);
  assert.equal(m['allocator/mesos/allocation_run_ms/count'], 2);
  assert.equal(typeof m['allocator/mesos/allocation_run_ms/p99'], 'number');
  assert.equal(m['allocator/mesos/resources/cpus/total'], 4);
  assert.equal(m['allocator/mesos/resources/mem/total'], 512);
  assert.equal(m['allocator/mesos/resources/cpus/offered_or_allocated'], 0);
  assert.equal(m['allocator/mesos/offer_filters/roles/q/active'], 1);
  assert.equal(m['allocator/mesos/quota/roles/q/resources/cpus/guarantee'], 2);
  assert.equal(m['allocator/mesos/quota/roles/q/resources/cpus/limit'], 3);
  assert.equal(m['allocator/mesos/roles/q/shares/dominant'], 0);
  h.close();
});

test('maintenance: frameworks holding resources on an agent get one inverse offer until they answer', async () => {
  const { ManualClock } = await import('../../src/common/clock.js');
  const { HierarchicalAllocator } = await import('../../src/master/allocator/hierarchical.js');
  const clock = new ManualClock();
  const a = new HierarchicalAllocator();
  const inverse: Array<[string, string[]]> = [];
  a.initialize({ clock, allocationIntervalMs: 1000 }, () => {}, (f, agents) => inverse.push([f, agents]));
  a.addFramework('f1', { role: '*' }, new Map(), true, []);
  a.addFramework('idle', { role: '*' }, new Map(), false, []);
  a.addAgent('a1', {}, [], r('cpus:2;mem:256'), new Map([['f1', r('cpus:1;mem:128').allocate('*')]]));
  a.addAgent('a2', {}, [], r('cpus:2;mem:256'), new Map());
  await a.allocate();
  assert.deepEqual(inverse, []);
  a.updateUnavailability('a1', { start: { nanoseconds: 0 } });
  await a.allocate();
  assert.deepEqual(inverse, [['f1', ['a1']]]);
  await a.allocate();
  assert.equal(inverse.length, 1, 'outstanding: not sent again');
  a.updateInverseOffer('a1', 'f1', { status: 'DECLINE', framework_id: { value: 'f1' }, timestamp: 0 }, 10);
  await a.allocate();
  assert.equal(inverse.length, 1, 'filtered for 10 s');
  assert.equal(a.getInverseOfferStatuses().get('a1')?.get('f1')?.status, 'DECLINE');
  clock.advance(10_000);
  await a.allocate();
  assert.deepEqual(inverse.at(-1), ['f1', ['a1']]);
  a.updateUnavailability('a1', undefined);
  a.updateInverseOffer('a1', 'f1');
  const before = inverse.length;
  await a.allocate();
  assert.equal(inverse.length, before, 'maintenance cancelled');
  a.close();
});

test('addResourceProvider adds a provider\'s resources (minus what is in use) to the agent', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:1;mem:128');
  h.framework('f', '*');
  const [o] = await h.round();
  h.decline(o);
  const disk = (v: number) => r(JSON.stringify([{ name: 'disk', type: 'SCALAR', scalar: { value: v }, provider_id: { value: 'p1' }, disk: { source: { type: 'RAW' } } }]));
  alloc(h).addResourceProvider('a1', disk(100), new Map([['f', disk(40).allocate('*')]]));
  const [again] = await h.round();
  assert.equal(again.resources.scalar('disk'), 60);
  assert.equal(again.resources.scalar('cpus'), 1);
  h.close();
});
