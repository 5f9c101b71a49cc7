import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../src/resources/index.js';

test('legacy JSON: cpus/gpus/mem/disk always present, scalars summed over roles', () => {
  assert.deepEqual(Resources.empty().toLegacyJson(), { cpus: 0, gpus: 0, mem: 0, disk: 0 });
  const r = Resources.parse('cpus:1.5;cpus(eng):0.25;mem:1024;ports:[33000-33010,31000-32000];ports(eng):[32001-32005];bugs:{b,a}');
  assert.deepEqual(r.toLegacyJson(), {
    cpus: 1.75, gpus: 0, mem: 1024, disk: 0,
    ports: '[31000-32005, 33000-33010]',
    bugs: '{b, a}',
  });
  assert.deepEqual(JSON.parse(JSON.stringify(r.toLegacyJson())).ports, '[31000-32005, 33000-33010]');
});

test('legacy JSON: revocable resources under <name>_revocable', () => {
  const r = Resources.parse('cpus:2;mem:10').plus(Resources.fromProto([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, revocable: {} },
    { name: 'mem', type: 'SCALAR', scalar: { value: 64 }, revocable: {} },
  ]));
  assert.deepEqual(r.toLegacyJson(), { cpus: 2, gpus: 0, mem: 10, disk: 0, cpus_revocable: 0.5, mem_revocable: 64 });
  assert.deepEqual(r.revocable().toLegacyJson(), { cpus: 0, gpus: 0, mem: 0, disk: 0, cpus_revocable: 0.5, mem_revocable: 64 });
});

test('legacy reserved_resources by role', () => {
  const r = Resources.parse('cpus:8;cpus(a):1;mem(a):2;disk(a/b):3').plus(Resources.fromProto([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 4 }, role: 'a', reservation: { principal: 'p' } },
  ]));
  assert.deepEqual(r.legacyReservedByRole(), {
    a: { cpus: 5, gpus: 0, mem: 2, disk: 0 },
    'a/b': { cpus: 0, gpus: 0, mem: 0, disk: 3 },
  });
  assert.deepEqual(Resources.parse('cpus:1').legacyReservedByRole(), {});
});

test('toString in Mesos text style', () => {
  assert.equal(Resources.parse('cpus:2;mem:1024;ports:[31000-32000]').toString(), 'cpus(*):2; mem(*):1024; ports(*):[31000-32000]');
  assert.equal(Resources.parse('cpus(ads):0.5;bugs:{a,b}').toString(), 'cpus(ads):0.5; bugs(*):{a, b}');
  const r = Resources.fromProto([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: 'eng', reservation: { principal: 'alice' }, allocation_info: { role: 'eng' } },
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, revocable: {} },
  ]);
  assert.equal(r.toString(), 'cpus(allocated: eng)(eng, alice):1; cpus(*){REV}:1');
  assert.equal(Resources.empty().toString(), '');
});
