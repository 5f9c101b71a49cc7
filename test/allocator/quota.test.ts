// Quota (ALC-10): guarantees, limits, headroom, the two stages, outstanding offers and rescinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, r, type Offer } from './helpers.js';

function cpus(offers: Offer[], role: string): number {
  return offers.filter((o) => o.role === role).reduce((sum, o) => sum + o.resources.scalar('cpus'), 0);
}

test('a role with an unsatisfied guarantee is served first (stage 1)', async () => {
  const h = new Harness();
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:512');
  h.framework('fq', 'q');
  h.framework('fr', 'r');
  h.allocator.updateQuota('q', { guarantees: r('cpus:6') });
  const offers = await h.round();
  assert.equal(cpus(offers, 'q'), 6);
  assert.equal(cpus(offers, 'r'), 2);
  h.close();
});

test('headroom: unguaranteed roles cannot eat resources set aside for a guarantee', async () => {
  const h = new Harness();
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:512');
  // The quota role's only framework has suppressed offers: its guarantee stays unsatisfied.
  h.framework('fq', 'q', { suppressed: ['q'] });
  h.framework('fr', 'r');
  h.allocator.updateQuota('q', { guarantees: r('cpus:6') });
  const offers = await h.round();
  assert.equal(cpus(offers, 'q'), 0);
  assert.equal(cpus(offers, 'r'), 2, '8 cpus - 6 held back for the guarantee');
  h.close();
});

test('limits chop offers and count outstanding offers', async () => {
  const h = new Harness();
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:512');
  h.framework('fl', 'l');
  h.allocator.updateQuota('l', { limits: r('cpus:3') });
  let offers = await h.round();
  assert.equal(cpus(offers, 'l'), 3);
  // Offers are outstanding: nothing more for the role.
  assert.deepEqual((await h.round()).filter((o) => o.resources.scalar('cpus') > 0), []);
  for (const o of offers) h.decline(o);
  offers = await h.round();
  assert.equal(cpus(offers, 'l'), 3);
  h.close();
});

test('limits of a parent role apply to its subroles', async () => {
  const h = new Harness();
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:512');
  h.framework('f1', 'eng/a');
  h.framework('f2', 'eng/b');
  h.allocator.updateQuota('eng', { limits: r('cpus:4') });
  const offers = await h.round();
  assert.equal(cpus(offers, 'eng/a') + cpus(offers, 'eng/b'), 4);
  h.close();
});

test('reservations count towards a guarantee', async () => {
  const h = new Harness();
  h.agent('res', 'cpus(q):4;mem(q):512');
  for (let i = 0; i < 2; i++) h.agent(`a${i}`, 'cpus:2;mem:512');
  h.framework('fq', 'q');
  h.framework('fr', 'r');
  h.allocator.updateQuota('q', { guarantees: r('cpus:4') });
  const offers = await h.round();
  // q's guarantee is met by its reservation, so stage 1 does not hand it the unreserved agents.
  assert.ok(offers.some((o) => o.role === 'q' && o.agentId === 'res'));
  assert.ok(cpus(offers, 'r') >= 2, 'r got at least one unreserved agent');
  h.close();
  // Without the reservation the guarantee takes both unreserved agents first.
  const h2 = new Harness();
  for (let i = 0; i < 2; i++) h2.agent(`a${i}`, 'cpus:2;mem:512');
  h2.framework('fq', 'q');
  h2.framework('fr', 'r');
  h2.allocator.updateQuota('q', { guarantees: r('cpus:4') });
  const offers2 = await h2.round();
  assert.equal(cpus(offers2, 'q'), 4);
  assert.equal(cpus(offers2, 'r'), 0);
  h2.close();
  h.close();
});

test('lowering a limit asks the master to rescind outstanding offers until the role fits', async () => {
  const h = new Harness();
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:512');
  h.framework('fl', 'l');
  const offers = await h.round();
  assert.equal(cpus(offers, 'l'), 8);
  // The master rescinds them: the resources come back at once.
  h.onRescind = (f, a) => h.allocator.recoverResources(f, a, offers.find((o) => o.agentId === a)!.resources);
  h.allocator.updateQuota('l', { limits: r('cpus:5') });
  assert.equal(h.rescinds.length, 2, 'two 2-cpu offers must go to get from 8 to at most 5');
  for (const [f] of h.rescinds) assert.equal(f, 'fl');
  // The limit keeps the returned resources away from the role.
  const again = await h.round();
  assert.equal(cpus(again, 'l'), 1, 'the role holds 4 cpus; 1 more fits under 5');
  h.close();
});

test('a rescind the master ignores (the offer was already accepted) does not count: the next offer goes', async () => {
  const h = new Harness();
  for (let i = 0; i < 3; i++) h.agent(`a${i}`, 'cpus:2;mem:512');
  h.framework('fl', 'l');
  const offers = await h.round();
  assert.equal(offers.length, 3);
  // The first offer was accepted whole (its resources are in use); the others are outstanding.
  const outstanding = new Set(offers.slice(1).map((o) => o.agentId));
  h.onRescind = (f, a) => {
    if (!outstanding.delete(a)) return;
    h.allocator.recoverResources(f, a, offers.find((o) => o.agentId === a)!.resources);
  };
  h.allocator.updateQuota('l', { limits: r('cpus:4') });
  assert.equal(h.rescinds[0][1], offers[0].agentId, 'the accepted one was asked for first');
  assert.equal(outstanding.size, 1, 'one outstanding offer was rescinded: 2 in use + 2 outstanding = 4');
  assert.equal(h.rescinds.length, 2);
  h.close();
});
