// Property tests for the RES-10 arithmetic (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Resources, type Msg } from '../../src/resources/index.js';

const RUNS = { numRuns: 300 };

// Identity variants: which reservation stack / allocation / revocability an atom carries.
const identity = fc.record({
  res: fc.constantFrom<'none' | 'static' | 'dynamic' | 'refined'>('none', 'static', 'dynamic', 'refined'),
  alloc: fc.boolean(),
  revocable: fc.boolean(),
});

function stamp(msg: Msg, id: { res: string; alloc: boolean; revocable: boolean }): Msg {
  if (id.res === 'static') msg.reservations = [{ type: 'STATIC', role: 'a' }];
  if (id.res === 'dynamic') msg.reservations = [{ type: 'DYNAMIC', role: 'a', principal: 'p' }];
  if (id.res === 'refined') msg.reservations = [{ type: 'STATIC', role: 'a' }, { type: 'DYNAMIC', role: 'a/b' }];
  if (id.alloc) msg.allocation_info = { role: 'x' };
  if (id.revocable && (id.res === 'none' || id.res === 'static') && !msg.disk) msg.revocable = {};
  return msg;
}

/** A scalar atom: cpus/mem with up to 3 decimals, or special disks. */
const scalarAtom = fc.tuple(
  fc.constantFrom('cpus', 'mem', 'mount', 'shared', 'volume'), fc.integer({ min: 1, max: 5000 }), identity, fc.constantFrom('/m1', '/m2'),
).map(([kind, milli, id, root]): Msg => {
  if (kind === 'mount') return stamp({ name: 'disk', type: 'SCALAR', scalar: { value: milli }, disk: { source: { type: 'MOUNT', mount: { root } } } }, id);
  if (kind === 'shared' || kind === 'volume') {
    return stamp({
      name: 'disk', type: 'SCALAR', scalar: { value: kind === 'shared' ? 64 : milli },
      disk: { persistence: { id: root }, volume: { container_path: 'd', mode: 'RW' } }, ...(kind === 'shared' ? { shared: {} } : {}),
    }, { ...id, res: id.res === 'none' ? 'dynamic' : id.res });
  }
  return stamp({ name: kind, type: 'SCALAR', scalar: { value: milli / 1000 } }, id);
});

/** Arbitrary (possibly overlapping) atoms. */
const anyAtom = fc.oneof(
  scalarAtom,
  fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 30 }), identity)
    .map(([b, len, id]): Msg => stamp({ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: b, end: b + len }] } }, id)),
  fc.tuple(fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1 }), identity)
    .map(([items, id]): Msg => stamp({ name: 'bugs', type: 'SET', set: { item: items } }, id)),
);

const resources = fc.array(anyAtom, { maxLength: 8 }).map((l) => Resources.fromProto(l));

/** Two resources whose ranges and set items never overlap, so (a + b) - b == a holds exactly. */
const disjointPair = fc.tuple(
  fc.array(fc.tuple(scalarAtom, fc.boolean()), { maxLength: 6 }),
  fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 8 }),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), identity, fc.boolean()), { minLength: 8, maxLength: 8 }),
  fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 6 }),
  fc.array(fc.tuple(identity, fc.boolean()), { minLength: 6, maxLength: 6 }),
).map(([scalars, slots, slotInfo, items, itemInfo]) => {
  const a: Msg[] = [];
  const b: Msg[] = [];
  for (const [atom, left] of scalars) (left ? a : b).push(atom);
  slots.forEach((slot, i) => {
    const [len, id, left] = slotInfo[i]!;
    (left ? a : b).push(stamp({ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: slot * 10, end: slot * 10 + len }] } }, id));
  });
  items.forEach((item, i) => {
    const [id, left] = itemInfo[i]!;
    (left ? a : b).push(stamp({ name: 'bugs', type: 'SET', set: { item: [item] } }, id));
  });
  return [Resources.fromProto(a), Resources.fromProto(b)] as const;
});

test('a + b == b + a', () => {
  fc.assert(fc.property(resources, resources, (a, b) => a.plus(b).equals(b.plus(a))), RUNS);
});

test('a + b contains a and b', () => {
  fc.assert(fc.property(resources, resources, (a, b) => a.plus(b).contains(a) && a.plus(b).contains(b)), RUNS);
});

test('(a + b) - b == a when ranges and sets are disjoint', () => {
  fc.assert(fc.property(disjointPair, ([a, b]) => a.plus(b).minus(b).equals(a)), RUNS);
});

test('a contains a - b, and a - a is empty', () => {
  fc.assert(fc.property(resources, resources, (a, b) => a.contains(a.minus(b)) && a.minus(a).isEmpty()), RUNS);
});

test('subtraction never goes negative and never adds', () => {
  fc.assert(fc.property(resources, resources, (a, b) => {
    const d = a.minus(b);
    for (const r of d.toArray()) {
      if (r.type === 'SCALAR') assert.ok(r.scalar.value > 0, JSON.stringify(r));
    }
    for (const [name, q] of d.quantities()) assert.ok(q <= (a.quantities().get(name) ?? 0), name);
  }), RUNS);
});

test('proto round trips in every format preserve the value', () => {
  fc.assert(fc.property(resources, (all) => {
    // Share counts are bookkeeping, not part of the proto: a shared volume is emitted once.
    const shared = all.shared();
    const rt = Resources.fromProto(shared.toProto());
    assert.ok(shared.contains(rt) && rt.size === shared.size);
    const a = all.nonShared();
    assert.ok(Resources.fromProto(a.toProto()).equals(a));
    assert.ok(Resources.fromProto(a.toProto({ refinement: true })).equals(a));
    assert.ok(Resources.fromProto(a.toProto({ endpoint: true })).equals(a));
    // The allocator reads the cached views in place of toArray(): they must say the same.
    assert.deepEqual(all.views(), all.toArray());
    assert.ok(Resources.fromProto(a.views()).equals(a));
  }), RUNS);
});

test('fixed point: sums of 3-decimal values are exact (0.1 + 0.2 == 0.3)', () => {
  assert.ok(Resources.parse('cpus:0.1').plus(Resources.parse('cpus:0.2')).equals(Resources.parse('cpus:0.3')));
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 20 }), (millis) => {
    let sum = Resources.empty();
    for (const m of millis) sum = sum.plus(Resources.parse(`cpus:${m / 1000}`));
    const total = millis.reduce((x, y) => x + y, 0);
    assert.equal(sum.scalar('cpus'), total / 1000);
    assert.ok(sum.equals(Resources.parse(`cpus:${total / 1000}`)));
    const back = millis.reduce((acc, m) => acc.minus(Resources.parse(`cpus:${m / 1000}`)), sum);
    assert.ok(back.isEmpty());
  }), RUNS);
});

/** Ranges against a brute-force set of points. */
function points(list: Array<[number, number]>): Set<number> {
  const s = new Set<number>();
  for (const [b, e] of list) for (let i = b; i <= e; i++) s.add(i);
  return s;
}

const rangeList = fc.array(fc.tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 15 })), { maxLength: 8 })
  .map((l) => l.map(([b, len]) => [b, b + len] as [number, number]));

function portsOf(list: Array<[number, number]>): Resources {
  return Resources.fromProto(list.map(([begin, end]) => ({ name: 'ports', type: 'RANGES', ranges: { range: [{ begin, end }] } })));
}

test('ranges coalesce and subtract like sets of points', () => {
  fc.assert(fc.property(rangeList, rangeList, (x, y) => {
    const sum = portsOf(x).plus(portsOf(y)).ranges('ports');
    for (let i = 0; i < sum.length; i++) {
      assert.ok(sum[i]![0] <= sum[i]![1]);
      if (i > 0) assert.ok(sum[i]![0] > sum[i - 1]![1] + 1, 'sorted, disjoint and not adjacent');
    }
    assert.deepEqual(points(sum), new Set([...points(x), ...points(y)]));
    const diff = portsOf(x).minus(portsOf(y)).ranges('ports');
    const expect = new Set([...points(x)].filter((p) => !points(y).has(p)));
    assert.deepEqual(points(diff), expect);
    assert.equal(portsOf(x).contains(portsOf(y)), [...points(y)].every((p) => points(x).has(p)));
    assert.equal(portsOf(x).quantities().get('ports') ?? 0, points(x).size);
  }), RUNS);
});

test('filters partition the value; allocate/unallocate round trip', () => {
  fc.assert(fc.property(resources, (r) => {
    assert.ok(r.unreserved().plus(r.reserved()).equals(r));
    assert.ok(r.revocable().plus(r.nonRevocable()).equals(r));
    assert.ok(r.shared().plus(r.nonShared()).equals(r));
    let byRole = Resources.empty();
    for (const part of r.reservations().values()) byRole = byRole.plus(part);
    assert.ok(byRole.equals(r.reserved()));
    assert.ok(r.allocate('y').unallocate().equals(r.unallocate()));
    assert.ok(r.allocate('y').allocations().get('y')?.equals(r.allocate('y')) ?? r.isEmpty());
    assert.ok(r.allocatableTo('a/b').contains(r.unreserved()));
    assert.equal(r.toLegacyJson().cpus, r.nonRevocable().scalar('cpus'));
  }), RUNS);
});
