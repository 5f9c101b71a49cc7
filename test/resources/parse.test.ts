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
