// ALC-20 capability rules, per-framework offer_filters and suppressed roles on add/update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../src/resources/index.js';
import type { Msg } from '../../src/master/allocator/allocator.js';
import { Harness } from './helpers.js';

const CAPS = ['MULTI_ROLE', 'HIERARCHICAL_ROLE', 'RESERVATION_REFINEMENT'];
const scalar = (name: string, value: number, extra: Msg = {}): Msg => ({ name, type: 'SCALAR', scalar: { value }, ...extra });

function agent(h: Harness, id: string, resources: Msg[], info: Msg = {}): void {
  h.allocator.addAgent(id, { hostname: id, ...info }, CAPS, Resources.fromProto(resources), new Map());
}

test('revocable resources go only to REVOCABLE_RESOURCES frameworks', async () => {
  const h = new Harness();
  agent(h, 'a1', [scalar('cpus', 1), scalar('mem', 128), scalar('cpus', 4, { revocable: {} })]);
  h.framework('plain', '*');
  let [o] = await h.round();
  assert.equal(o.frameworkId, 'plain');
  assert.equal(o.resources.revocable().size, 0);
  assert.equal(o.resources.scalar('cpus'), 1);
  h.framework('rev', '*', { caps: ['REVOCABLE_RESOURCES'] });
  [o] = await h.round();
  assert.equal(o.frameworkId, 'rev');
  assert.equal(o.resources.revocable().scalar('cpus'), 4);
  h.close();
});

test('shared volumes go only to SHARED_RESOURCES frameworks, once per cycle, even while in use', async () => {
  const volume = scalar('disk', 100, {
    reservations: [{ type: 'DYNAMIC', role: 'r', principal: 'p' }],
    disk: { persistence: { id: 'v1', principal: 'p' }, volume: { container_path: 'data', mode: 'RW' } },
    shared: {},
  });
  const h = new Harness(undefined, { minAllocatableResources: [] });
  agent(h, 'a1', [scalar('cpus', 1), scalar('mem', 128), volume]);
  h.framework('plain', 'r');
  let offers = await h.round();
  assert.equal(offers.length, 1);
  assert.equal(offers[0].resources.shared().size, 0);
  h.framework('s1', 'r', { caps: ['SHARED_RESOURCES'] });
  h.framework('s2', 'r', { caps: ['SHARED_RESOURCES'] });
  offers = await h.round();
  const withVolume = offers.filter((o) => o.resources.shared().size > 0);
  assert.equal(withVolume.length, 1, 'one framework per cycle');
  const first = withVolume[0].frameworkId;
  // Still held by `first`, the volume is offered again next cycle (to one framework).
  offers = await h.round();
  assert.equal(offers.filter((o) => o.resources.shared().size > 0).length, 1);
  assert.ok(['s1', 's2'].includes(first));
  h.close();
});

test('refined reservations go only to RESERVATION_REFINEMENT frameworks', async () => {
  const h = new Harness();
  const refined = { reservations: [{ type: 'DYNAMIC', role: 'eng', principal: 'p' }, { type: 'DYNAMIC', role: 'eng/x', principal: 'p' }] };
  agent(h, 'a1', [scalar('cpus', 2, refined), scalar('mem', 256, refined)]);
  h.framework('old', ['eng/x']);
  assert.deepEqual(await h.round(), []);
  h.framework('new', ['eng/x'], { caps: ['RESERVATION_REFINEMENT'] });
  const offers = await h.round();
  assert.deepEqual(offers.map((o) => o.frameworkId), ['new']);
  assert.equal(offers[0].resources.reserved('eng/x').scalar('cpus'), 2);
  h.close();
});

test('agents in another region go only to REGION_AWARE frameworks', async () => {
  const domain = (region: string) => ({ fault_domain: { region: { name: region }, zone: { name: 'z' } } });
  const h = new Harness(undefined, { domain: domain('us') });
  h.agent('remote', 'cpus:1;mem:128', { info: { domain: domain('eu') } });
  h.agent('local', 'cpus:1;mem:128', { info: { domain: domain('us') } });
  h.framework('plain', '*');
  assert.deepEqual((await h.round()).map((o) => o.agentId), ['local']);
  h.framework('aware', '*', { caps: ['REGION_AWARE'] });
  assert.deepEqual((await h.round()).map((o) => [o.frameworkId, o.agentId]), [['aware', 'remote']]);
  h.close();
});

test('offer_filters.min_allocatable_resources override the global minimum per role', async () => {
  const h = new Harness();
  h.agent('small', 'cpus:2;mem:256');
  const filters = { big: { min_allocatable_resources: { quantities: [{ quantities: { cpus: { value: 4 } } }] } } };
  h.framework('picky', ['big'], { info: { offer_filters: filters } });
  assert.deepEqual(await h.round(), []);
  h.agent('large', 'cpus:8;mem:256');
  assert.deepEqual((await h.round()).map((o) => o.agentId), ['large']);
  // A role with an empty set of minimums takes anything non-empty, below the global minimum too.
  const h2 = new Harness();
  h2.agent('crumb', 'cpus:0.001');
  h2.framework('greedy', ['any'], { info: { offer_filters: { any: { min_allocatable_resources: {} } } } });
  assert.deepEqual((await h2.round()).map((o) => o.agentId), ['crumb']);
  h.close();
  h2.close();
});

test('updateFramework: new suppressed roles stop offers; unsuppressing clears that role\'s filters', async () => {
  const h = new Harness();
  h.agent('a1', 'cpus:1;mem:128');
  h.framework('f', ['x', 'y']);
  const info = { user: 'u', name: 'f', roles: ['x', 'y'], capabilities: [{ type: 'MULTI_ROLE' }] };
  h.allocator.updateFramework('f', info, ['x', 'y']);
  assert.deepEqual(await h.round(), []);
  h.allocator.updateFramework('f', info, ['y']);
  let [o] = await h.round();
  assert.equal(o.role, 'x');
  h.decline(o, 3600);
  assert.deepEqual(await h.round(), []);
  h.allocator.updateFramework('f', info, ['x', 'y']);
  h.allocator.updateFramework('f', info, ['y']);
  [o] = await h.round();
  assert.equal(o?.role, 'x', 'the filter went away when x left the suppressed set');
  // Changing the subscribed roles moves offers to the new role.
  h.decline(o);
  h.allocator.updateFramework('f', { ...info, roles: ['z'] }, []);
  [o] = await h.round();
  assert.equal(o.role, 'z');
  h.close();
});
