import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources, ResourcesError, reservationRole, isReserved } from '../../src/resources/index.js';

const dynamicPre = {
  name: 'cpus', type: 'SCALAR', scalar: { value: 4 }, role: 'eng',
  reservation: { principal: 'alice', labels: { labels: [{ key: 'k', value: 'v' }] } },
};
const dynamicPost = {
  name: 'cpus', type: 'SCALAR', scalar: { value: 4 },
  reservations: [{ type: 'DYNAMIC', role: 'eng', principal: 'alice', labels: { labels: [{ key: 'k', value: 'v' }] } }],
};

test('pre-refinement input is normalised to the reservation stack', () => {
  const r = Resources.fromProto([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*' },
    { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
    { name: 'disk', type: 'SCALAR', scalar: { value: 10 }, role: 'eng' },
    dynamicPre,
  ]);
  assert.deepEqual(r.toProto({ refinement: true }), [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
    { name: 'disk', type: 'SCALAR', scalar: { value: 10 }, reservations: [{ type: 'STATIC', role: 'eng' }] },
    dynamicPost,
  ]);
  assert.ok(r.equals(Resources.fromProto([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
    { name: 'disk', type: 'SCALAR', scalar: { value: 10 }, reservations: [{ type: 'STATIC', role: 'eng' }] },
    dynamicPost,
  ])));
});

test('pre-refinement output: role always set, dynamic reservations as `reservation`', () => {
  const r = Resources.fromProto([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role: 'eng' } },
    { name: 'disk', type: 'SCALAR', scalar: { value: 10 }, reservations: [{ type: 'STATIC', role: 'eng' }] },
    dynamicPost,
  ]);
  assert.deepEqual(r.toProto(), [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*', allocation_info: { role: 'eng' } },
    { name: 'disk', type: 'SCALAR', scalar: { value: 10 }, role: 'eng' },
    dynamicPre,
  ]);
  // The endpoint format carries both, and is accepted back.
  const endpoint = r.toProto({ endpoint: true });
  assert.deepEqual(endpoint[2], { ...dynamicPre, reservations: dynamicPost.reservations });
  assert.ok(Resources.fromProto(endpoint).equals(r));
});

test('refined reservations keep their stack in every format', () => {
  const refined = {
    name: 'cpus', type: 'SCALAR', scalar: { value: 2 },
    reservations: [{ type: 'STATIC', role: 'eng' }, { type: 'DYNAMIC', role: 'eng/web', principal: 'p' }],
  };
  const r = Resources.fromProto([refined]);
  assert.deepEqual(r.toProto(), [refined]);
  assert.deepEqual(r.toProto({ refinement: true }), [refined]);
  assert.equal(r.reserved('eng/web').scalar('cpus'), 2);
  assert.equal(r.reserved('eng').scalar('cpus'), 0);
  assert.equal(r.reservedToRoleSubtree('eng').scalar('cpus'), 2);
  assert.equal(reservationRole(refined), 'eng/web');
  assert.equal(r.popReservation().reserved('eng').scalar('cpus'), 2);
  assert.equal(r.popReservation().popReservation().unreserved().scalar('cpus'), 2);
});

test('fromProto validation', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ type: 'SCALAR', scalar: { value: 1 } }, /name/],
    [{ name: 'x', type: 'TEXT', text: { value: 'a' } }, /TEXT/],
    [{ name: 'x', type: 'BOGUS' }, /invalid type/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: Number.NaN } }, /number/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: Infinity } }, /finite/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: -0.5 } }, /negative/],
    [{ name: 'x', type: 'SCALAR' }, /no scalar value/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: 1 }, set: { item: [] } }, /ranges or set/],
    [{ name: 'p', type: 'RANGES', ranges: { range: [{ begin: 5, end: 1 }] } }, /greater than end/],
    [{ name: 'p', type: 'RANGES', ranges: { range: [{ begin: 1, end: 5 }, { begin: 5, end: 6 }] } }, /overlaps/],
    [{ name: 'p', type: 'RANGES', ranges: { range: [{ begin: -1, end: 5 }] } }, /non-negative/],
    [{ name: 's', type: 'SET', set: { item: ['a', 'a'] } }, /duplicate/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: 1 }, role: 'a//b' }, /adjacent slashes/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: 1 }, role: '*', reservation: {} }, /cannot be dynamically reserved/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: '*' }] }, /'\*'/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ role: 'a' }] }, /STATIC or DYNAMIC/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: 'a' }, { type: 'STATIC', role: 'a/b' }] }, /first reservation/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: 'a' }, { type: 'DYNAMIC', role: 'b' }] }, /descendant/],
    [{ name: 'x', type: 'SCALAR', scalar: { value: 1 }, role: 'b', reservations: [{ type: 'DYNAMIC', role: 'a' }] }, /reserved for 'a'/],
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, disk: {} }, /DiskInfo/],
    [{ name: 'disk', type: 'SCALAR', scalar: { value: 1 }, shared: {} }, /persistent volumes can be shared/],
    [{ name: 'disk', type: 'SCALAR', scalar: { value: 1 }, revocable: {}, disk: { persistence: { id: 'v' }, volume: { container_path: 'd', mode: 'RW' } } }, /revocable/],
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, revocable: {}, role: 'a', reservation: {} }, /revocable/],
  ];
  for (const [msg, re] of bad) {
    assert.throws(() => Resources.fromProto([msg as Record<string, unknown>]), (e: unknown) => e instanceof ResourcesError && re.test(e.message), JSON.stringify(msg));
  }
  assert.throws(() => Resources.fromProto([{ name: 'ok', type: 'SCALAR', scalar: { value: 1 } }, { name: '' }]), /index 1/);
  assert.equal(Resources.fromProto(undefined).isEmpty(), true);
});

test('reservationRole / isReserved on either format', () => {
  assert.equal(reservationRole({ name: 'cpus', role: '*' }), '*');
  assert.equal(reservationRole({ name: 'cpus' }), '*');
  assert.equal(reservationRole({ name: 'cpus', role: 'eng' }), 'eng');
  assert.equal(isReserved({ name: 'cpus', reservations: [] }), false);
  assert.equal(isReserved(dynamicPost), true);
});

test('output objects are fresh: editing them never changes the value', () => {
  const r = Resources.fromProto([dynamicPost, { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] }, allocation_info: { role: 'x' } }]);
  const before = r.toString();
  for (const list of [r.toArray(), r.toProto(), r.toProto({ refinement: true }), r.toProto({ endpoint: true })]) {
    list[0]!.scalar.value = 99;
    if (list[0]!.reservations) list[0]!.reservations[0].role = 'zzz';
    list[0]!.role = 'zzz';
    list[1]!.ranges.range[0].end = 1000;
    list[1]!.allocation_info.role = 'zzz';
  }
  r.filter(() => true);
  assert.equal(r.toString(), before);
  assert.equal(r.toArray().length, r.size);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r.toArray());
  // Input messages are not kept by reference either.
  const input = structuredClone(dynamicPost);
  const s = Resources.fromProto([input]);
  input.reservations[0]!.role = 'other';
  assert.equal(s.reserved('eng').scalar('cpus'), 4);
});

test('pushReservation validates the refined stack', () => {
  const r = Resources.parse('cpus:2;mem(eng):4');
  const pushed = r.reserved('eng').pushReservation({ type: 'DYNAMIC', role: 'eng/web', principal: 'p' });
  assert.deepEqual(pushed.toProto({ refinement: true })[0]!.reservations, [
    { type: 'STATIC', role: 'eng' }, { type: 'DYNAMIC', role: 'eng/web', principal: 'p' },
  ]);
  assert.ok(pushed.popReservation().equals(r.reserved('eng')));
  assert.throws(() => r.reserved('eng').pushReservation({ type: 'DYNAMIC', role: 'ops' }), /descendant/);
  assert.equal(r.unreserved().pushReservation({ type: 'DYNAMIC', role: 'ops' }).reserved('ops').scalar('cpus'), 2);
});
