import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources, ResourcesError } from '../../src/resources/index.js';

test('text form: scalars, ranges, sets, static reservations, spaces stripped', () => {
  const r = Resources.parse(' cpus : 24 ; gpus:2;mem:24576;disk:409600;ports:[21000-24000, 30000-34000];bugs(debug_role):{a,b,c};cpus(ads):8 ');
  assert.equal(r.scalar('cpus'), 32);
  assert.equal(r.scalar('gpus'), 2);
  assert.equal(r.scalar('mem'), 24576);
  assert.deepEqual(r.ranges('ports'), [[21000, 24000], [30000, 34000]]);
  assert.deepEqual(r.set('bugs'), ['a', 'b', 'c']);
  assert.equal(r.reserved('ads').scalar('cpus'), 8);
  assert.equal(r.unreserved().scalar('cpus'), 24);
  const ads = r.reserved('ads').toProto({ refinement: true });
  assert.deepEqual(ads, [{ name: 'cpus', type: 'SCALAR', scalar: { value: 8 }, reservations: [{ type: 'STATIC', role: 'ads' }] }]);
  assert.deepEqual(r.reserved('debug_role').toProto(), [{ name: 'bugs', type: 'SET', set: { item: ['a', 'b', 'c'] }, role: 'debug_role' }]);
});

test('text form errors', () => {
  const bad = [
    'cpus:abc', 'cpus:-1', 'ports:[5-3]', 'ports:[1-10,5-20]', 'bugs:{a,a}', 'cpus:1;cpus:[1-2]',
    'cpus', 'cpus:1:2', 'cpus(ads:1', 'gpus:1.5', 'cpus:inf', 'cpus(/x):1', 'ports:[1-2', '[{"name":',
  ];
  for (const t of bad) assert.throws(() => Resources.parse(t), ResourcesError, t);
});

test('JSON array form, with the default role applied to role-less resources', () => {
  const json = JSON.stringify([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 24 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: '512' }, role: 'web' },
    { name: 'disk', type: 'SCALAR', scalar: { value: 2048 }, disk: { source: { type: 'MOUNT', mount: { root: '/mnt/d1' } } } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 5 }, { begin: 6, end: 9 }] } },
  ]);
  const r = Resources.parse(json, 'eng');
  assert.equal(r.reserved('eng').scalar('cpus'), 24);
  assert.equal(r.reserved('web').scalar('mem'), 512);
  assert.equal(r.unreserved().isEmpty(), true);
  assert.deepEqual(r.ranges('ports'), [[1, 9]], 'adjacent ranges coalesce');
  const disk = r.get('disk').toProto({ refinement: true });
  assert.deepEqual(disk, [{
    name: 'disk', type: 'SCALAR', scalar: { value: 2048 }, reservations: [{ type: 'STATIC', role: 'eng' }],
    disk: { source: { type: 'MOUNT', mount: { root: '/mnt/d1' } } },
  }]);
});

test('text form with a default role; explicit * stays unreserved', () => {
  const r = Resources.parse('cpus:2;mem(*):64;disk(ops):10', 'eng');
  assert.equal(r.reserved('eng').scalar('cpus'), 2);
  assert.equal(r.unreserved().scalar('mem'), 64);
  assert.equal(r.reserved('ops').scalar('disk'), 10);
  assert.throws(() => Resources.parse('cpus:1', 'a//b'), /adjacent slashes/);
});

test('empty values and duplicates of one type', () => {
  assert.equal(Resources.parse('').isEmpty(), true);
  assert.equal(Resources.parse('cpus:0;ports:[];bugs:{}').isEmpty(), true, 'empty entries are dropped');
  assert.equal(Resources.parse('cpus:1;cpus:2.5;;').scalar('cpus'), 3.5);
  assert.deepEqual(Resources.parse('ports:[1-3];ports:[4-6]').ranges('ports'), [[1, 6]]);
});

test('error messages name the problem', () => {
  assert.throws(() => Resources.parse('cpus:abc'), /TEXT/);
  assert.throws(() => Resources.parse('cpus:-1'), /negative/);
  assert.throws(() => Resources.parse('ports:[5-3]'), /begin 5 is greater than end 3/);
  assert.throws(() => Resources.parse('ports:[1-10,5-20]'), /overlaps/);
  assert.throws(() => Resources.parse('bugs:{a,b,a}'), /duplicate item 'a'/);
  assert.throws(() => Resources.parse('cpus:1;cpus:{a}'), /same name \('cpus'\) but different types/);
  assert.throws(() => Resources.parse('gpus:0.5'), /whole number/);
  assert.throws(() => Resources.parse('cpus;mem:1'), /Bad value for resources/);
  assert.throws(() => Resources.parse('[{"name":"cpus","type":"TEXT"}]'), /TEXT/);
  assert.throws(() => Resources.parse('[{"name":"cpus","type":"SCALAR","scalar":{"value":-2}}]'), /index 0.*negative/);
  assert.throws(() => Resources.parse('{"name":"cpus"}'), /array/);
  assert.throws(() => Resources.parse('[1,'), /Invalid resources JSON/);
});
