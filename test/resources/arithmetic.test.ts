import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../src/resources/index.js';

const P = (t: string) => Resources.parse(t);
const mount = (root: string, mb: number, extra: Record<string, unknown> = {}) => ({
  name: 'disk', type: 'SCALAR', scalar: { value: mb }, disk: { source: { type: 'MOUNT', mount: { root } } }, ...extra,
});
const volume = (id: string, mb: number, shared: boolean) => ({
  name: 'disk', type: 'SCALAR', scalar: { value: mb },
  reservations: [{ type: 'DYNAMIC', role: 'eng', principal: 'p' }],
  disk: { persistence: { id, principal: 'p' }, volume: { container_path: 'data', mode: 'RW' } },
  ...(shared ? { shared: {} } : {}),
});

test('fixed point with three decimals', () => {
  assert.ok(P('cpus:0.1').plus(P('cpus:0.2')).equals(P('cpus:0.3')));
  assert.equal(P('cpus:0.1').plus(P('cpus:0.2')).scalar('cpus'), 0.3);
  assert.equal(P('cpus:1').minus(P('cpus:0.9')).scalar('cpus'), 0.1);
  assert.ok(P('cpus:0.3').contains(P('cpus:0.1').plus(P('cpus:0.2'))));
  assert.ok(P('cpus:1.0004').equals(P('cpus:1')), 'below a thousandth is rounded away');
  assert.equal(P('cpus:0.0004').isEmpty(), true);
});

test('subtraction takes only what is there', () => {
  const a = P('cpus:2;mem:1024;ports:[31000-32000];bugs:{a,b,c}');
  const b = P('cpus:3;ports:[31500-31600,40000-40010];bugs:{b,z}');
  const d = a.minus(b);
  assert.equal(d.scalar('cpus'), 0, 'a scalar that would go negative is removed');
  assert.equal(d.scalar('mem'), 1024);
  assert.deepEqual(d.ranges('ports'), [[31000, 31499], [31601, 32000]]);
  assert.deepEqual(d.set('bugs'), ['a', 'c']);
  assert.ok(!a.contains(b));
  assert.ok(a.contains(P('ports:[31000-31000,32000-32000];bugs:{c}')));
  assert.equal(P('cpus:2').minus(P('cpus:2')).isEmpty(), true);
});

test('different reservations, allocations and revocability never combine', () => {
  const a = P('cpus:1;cpus(eng):2').plus(Resources.fromProto([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 4 }, revocable: {} },
    { name: 'cpus', type: 'SCALAR', scalar: { value: 8 }, allocation_info: { role: 'x' } },
  ]));
  assert.equal(a.size, 4);
  assert.equal(a.scalar('cpus'), 15);
  assert.equal(a.revocable().scalar('cpus'), 4);
  assert.equal(a.nonRevocable().scalar('cpus'), 11);
  assert.ok(!a.contains(P('cpus:2')), 'unreserved 1 does not cover 2 even though eng has more');
  assert.equal(a.minus(P('cpus(eng):1')).reserved('eng').scalar('cpus'), 1);
  // Labels make dynamic reservations different.
  const l1 = Resources.fromProto([{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: 'r', reservation: { labels: { labels: [{ key: 'a' }] } } }]);
  const l2 = Resources.fromProto([{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: 'r', reservation: { labels: { labels: [{ key: 'b' }] } } }]);
  assert.equal(l1.plus(l2).size, 2);
  assert.equal(l1.plus(l1).size, 1);
});

test('MOUNT disks are all-or-nothing', () => {
  const m = Resources.fromProto([mount('/mnt/a', 100)]);
  const twice = m.plus(m);
  assert.equal(twice.size, 2, 'identical MOUNT disks are not merged');
  assert.equal(twice.scalar('disk'), 200);
  assert.ok(twice.minus(m).equals(m));
  const part = Resources.fromProto([mount('/mnt/a', 40)]);
  assert.ok(!m.contains(part), 'a MOUNT disk cannot be split');
  assert.ok(m.minus(part).equals(m), 'a partial MOUNT disk is not subtracted');
  assert.ok(m.minus(m).isEmpty());
  const path = { name: 'disk', type: 'SCALAR', scalar: { value: 100 }, disk: { source: { type: 'PATH', path: { root: '/p' } } } };
  const p = Resources.fromProto([path]);
  assert.equal(p.plus(p).size, 1, 'identical PATH disks merge');
  assert.ok(p.contains(Resources.fromProto([{ ...path, scalar: { value: 5 } }])));
});

test('persistent volumes: non-shared never merge, shared count', () => {
  const v = Resources.fromProto([volume('v1', 64, false)]);
  assert.equal(v.plus(v).size, 2);
  assert.ok(v.plus(v).contains(v.plus(v)), 'volumes are consumed as they are matched');
  assert.ok(!v.contains(v.plus(v)));
  const s = Resources.fromProto([volume('s1', 64, true)]);
  const s2 = s.plus(s);
  assert.equal(s2.size, 1, 'identical shared volumes merge into one entry with two shares');
  assert.equal(s2.scalar('disk'), 64, 'shares do not multiply the quantity');
  assert.ok(s2.contains(s2) && s2.contains(s) && !s.contains(s2));
  assert.ok(s2.minus(s).equals(s));
  assert.ok(s2.minus(s).minus(s).isEmpty());
  assert.equal(s2.shared().size, 1);
  assert.equal(s2.nonShared().size, 0);
  assert.equal(s2.persistentVolumes().size, 1);
});

test('filters and role trees', () => {
  const r = P('cpus:1;cpus(a):2;cpus(a/b):4;cpus(a/b/c):8;cpus(x):16');
  assert.equal(r.unreserved().scalar('cpus'), 1);
  assert.equal(r.reserved().scalar('cpus'), 30);
  assert.equal(r.reserved('a').scalar('cpus'), 2);
  assert.equal(r.reservedToRoleSubtree('a').scalar('cpus'), 14);
  assert.equal(r.reservedToRoleSubtree('a/b').scalar('cpus'), 12);
  assert.equal(r.allocatableTo('a/b').scalar('cpus'), 7, 'unreserved + a + a/b');
  assert.equal(r.allocatableTo('ab').scalar('cpus'), 1, 'a is not an ancestor of ab');
  assert.equal(r.filter((x) => x.scalar.value > 3).scalar('cpus'), 28);
  assert.deepEqual([...r.reservations().keys()], ['a', 'a/b', 'a/b/c', 'x']);
  assert.equal(P('cpus:1;ports:[1-2]').scalarsOnly().names().join(), 'cpus');
  assert.equal(r.toUnreserved().size, 1);
  assert.equal(r.toUnreserved().scalar('cpus'), 31);
});

test('allocate, unallocate, allocations', () => {
  const r = P('cpus:2;mem:10;cpus(a):1');
  const x = r.allocate('a');
  assert.ok(x.toArray().every((e) => e.allocation_info.role === 'a'));
  assert.ok(!x.equals(r));
  assert.ok(x.unallocate().equals(r));
  const both = x.plus(P('cpus:3').allocate('b'));
  const by = both.allocations();
  assert.deepEqual([...by.keys()], ['a', 'b']);
  assert.equal(by.get('a')!.scalar('cpus'), 3);
  assert.equal(by.get('b')!.scalar('cpus'), 3);
  // Re-allocating everything to one role merges what became identical.
  assert.equal(both.allocate('c').unreserved().size, 2);
  assert.equal(both.allocate('c').scalar('cpus'), 6);
});

test('quantities count scalars, range elements and set items', () => {
  const r = P('cpus:1.5;cpus(a):0.25;ports:[1-10,21-25];bugs:{a,b,c}');
  assert.deepEqual([...r.quantities()], [['cpus', 1.75], ['ports', 15], ['bugs', 3]]);
  assert.ok(r.containsQuantities({ cpus: 1.75, ports: 15 }));
  assert.ok(!r.containsQuantities(new Map([['cpus', 1.751]])));
  assert.ok(!r.containsQuantities({ gpus: 1 }));
  assert.deepEqual(r.names(), ['cpus', 'ports', 'bugs']);
});

test('cached quantities and legacy JSON are handed out as copies: editing them never changes the value (views() are shared, read-only)', () => {
  const r = P('cpus:2;ports:[1-4]');
  r.quantities().set('cpus', 100);
  assert.equal(r.quantities().get('cpus'), 2);
  assert.equal(r.quantity('cpus'), 2);
  assert.equal(r.quantity('ports'), 4);
  assert.equal(r.quantity('gpus'), 0);
  r.toLegacyJson().cpus = 100;
  assert.equal(r.toLegacyJson().cpus, 2);
});

test('sum of many values', () => {
  const parts = [P('cpus:1;ports:[1-2]'), P('cpus:2;ports:[3-4]'), Resources.empty(), P('cpus(a):4')];
  const total = Resources.sum(parts);
  assert.ok(total.equals(parts.reduce((x, y) => x.plus(y), Resources.empty())));
  assert.deepEqual(total.ranges('ports'), [[1, 4]]);
  assert.ok(Resources.sum([]).isEmpty());
  assert.equal(Resources.reservationRole({ name: 'x', role: 'a' }), 'a');
  assert.equal(Resources.isReserved({ name: 'x' }), false);
});
