import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAttributes, attributesToLegacyJson, ResourcesError } from '../../src/resources/index.js';

test('attributes: text, scalar and ranges', () => {
  const list = parseAttributes('rack:abc;zone: west ;level:10;weight:0.5;keys:[1000-1500, 2000-2001];os:ubuntu-22.04/x86_64');
  assert.deepEqual(list, [
    { name: 'rack', type: 'TEXT', text: { value: 'abc' } },
    { name: 'zone', type: 'TEXT', text: { value: 'west' } },
    { name: 'level', type: 'SCALAR', scalar: { value: 10 } },
    { name: 'weight', type: 'SCALAR', scalar: { value: 0.5 } },
    { name: 'keys', type: 'RANGES', ranges: { range: [{ begin: 1000, end: 1500 }, { begin: 2000, end: 2001 }] } },
    { name: 'os', type: 'TEXT', text: { value: 'ubuntu-22.04/x86_64' } },
  ]);
  assert.deepEqual(attributesToLegacyJson(list), {
    rack: 'abc', zone: 'west', level: 10, weight: 0.5, keys: '[1000-1500, 2000-2001]', os: 'ubuntu-22.04/x86_64',
  });
  assert.deepEqual(parseAttributes(''), []);
  assert.deepEqual(attributesToLegacyJson(undefined), {});
  assert.deepEqual(attributesToLegacyJson([{ name: 's', type: 'SET', set: { item: ['x', 'y'] } }]), { s: '{x, y}' });
});

test('attribute errors', () => {
  for (const t of ['rack', 'rack:a:b', ':x', 'keys:[5-1]', 'keys:[1-', 's:{a,b}']) {
    assert.throws(() => parseAttributes(t), ResourcesError, t);
  }
});
