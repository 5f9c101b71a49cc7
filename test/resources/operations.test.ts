import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources, ResourcesError } from '../../src/resources/index.js';

const total = Resources.parse('cpus:8;mem:1024;disk:1000');
const dyn = (name: string, value: number, role = 'eng') => ({
  name, type: 'SCALAR', scalar: { value }, reservations: [{ type: 'DYNAMIC', role, principal: 'p' }],
});
const vol = (id: string, value: number, shared = false) => ({
  ...dyn('disk', value), disk: { persistence: { id, principal: 'p' }, volume: { container_path: 'data', mode: 'RW' } }, ...(shared ? { shared: {} } : {}),
});

test('RESERVE moves unreserved resources into a dynamic reservation; UNRESERVE gives them back', () => {
  const reserved = total.apply({ type: 'RESERVE', reserve: { resources: [dyn('cpus', 2), dyn('disk', 100)] } });
  assert.equal(reserved.unreserved().scalar('cpus'), 6);
  assert.equal(reserved.reserved('eng').scalar('cpus'), 2);
  assert.equal(reserved.reserved('eng').scalar('disk'), 100);
  assert.equal(reserved.scalar('cpus'), 8);
  // Pre-refinement form of the same reservation.
  const pre = total.apply({ type: 'RESERVE', reserve: { resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, role: 'eng', reservation: { principal: 'p' } }] } });
  assert.ok(pre.reserved('eng').equals(Resources.fromProto([dyn('cpus', 2)])));
  const back = reserved.apply({ type: 'UNRESERVE', unreserve: { resources: [dyn('cpus', 2), dyn('disk', 100)] } });
  assert.ok(back.equals(total));
  assert.throws(() => total.apply({ type: 'RESERVE', reserve: { resources: [dyn('cpus', 9)] } }), /does not contain/);
  assert.throws(() => total.apply({ type: 'RESERVE', reserve: { resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] } }), /not reserved/);
  assert.throws(() => total.apply({ type: 'UNRESERVE', unreserve: { resources: [dyn('cpus', 1)] } }), /does not contain/);
  assert.throws(() => reserved.apply({ type: 'UNRESERVE', unreserve: { resources: [dyn('cpus', 1, 'other')] } }), ResourcesError);
});

test('refinement: RESERVE pushes a child role, UNRESERVE pops back to the parent', () => {
  const base = total.apply({ type: 'RESERVE', reserve: { resources: [dyn('cpus', 4)] } });
  const refined = {
    name: 'cpus', type: 'SCALAR', scalar: { value: 1 },
    reservations: [{ type: 'DYNAMIC', role: 'eng', principal: 'p' }, { type: 'DYNAMIC', role: 'eng/web', principal: 'p' }],
  };
  const r = base.apply({ type: 'RESERVE', reserve: { resources: [refined] } });
  assert.equal(r.reserved('eng/web').scalar('cpus'), 1);
  assert.equal(r.reserved('eng').scalar('cpus'), 3);
  assert.ok(r.apply({ type: 'UNRESERVE', unreserve: { resources: [refined] } }).equals(base));
});

test('CREATE and DESTROY persistent volumes on reserved disk', () => {
  const reserved = total.apply({ type: 'RESERVE', reserve: { resources: [dyn('disk', 100)] } });
  const created = reserved.apply({ type: 'CREATE', create: { volumes: [vol('v1', 60)] } });
  assert.equal(created.persistentVolumes().scalar('disk'), 60);
  assert.equal(created.reserved('eng').scalar('disk'), 100);
  assert.equal(created.reserved('eng').persistentVolumes().size, 1);
  assert.throws(() => created.apply({ type: 'CREATE', create: { volumes: [vol('v2', 60)] } }), /insufficient disk/);
  assert.throws(() => total.apply({ type: 'CREATE', create: { volumes: [vol('v1', 10)] } }), /insufficient disk/, 'needs reserved disk');
  const destroyed = created.apply({ type: 'DESTROY', destroy: { volumes: [vol('v1', 60)] } });
  assert.ok(destroyed.equals(reserved));
  assert.throws(() => reserved.apply({ type: 'DESTROY', destroy: { volumes: [vol('v1', 60)] } }), /does not exist/);
  assert.throws(() => reserved.apply({ type: 'CREATE', create: { volumes: [dyn('disk', 1)] } }), /persistence/);
  const shared = reserved.apply({ type: 'CREATE', create: { volumes: [vol('s', 50, true)] } });
  assert.equal(shared.shared().size, 1);
});

test('GROW_VOLUME and SHRINK_VOLUME', () => {
  const created = total
    .apply({ type: 'RESERVE', reserve: { resources: [dyn('disk', 100)] } })
    .apply({ type: 'CREATE', create: { volumes: [vol('v1', 60)] } });
  const grown = created.apply({ type: 'GROW_VOLUME', grow_volume: { volume: vol('v1', 60), addition: dyn('disk', 30) } });
  assert.equal(grown.persistentVolumes().scalar('disk'), 90);
  assert.equal(grown.reserved('eng').scalar('disk'), 100);
  const shrunk = grown.apply({ type: 'SHRINK_VOLUME', shrink_volume: { volume: vol('v1', 90), subtract: { value: 50 } } });
  assert.equal(shrunk.persistentVolumes().scalar('disk'), 40);
  assert.equal(shrunk.reserved('eng').scalar('disk'), 100);
  assert.throws(() => created.apply({ type: 'GROW_VOLUME', grow_volume: { volume: vol('v1', 60), addition: dyn('disk', 50) } }), /does not contain/);
  assert.throws(() => created.apply({ type: 'SHRINK_VOLUME', shrink_volume: { volume: vol('v1', 60), subtract: { value: 60 } } }), /smaller/);
});

test('LAUNCH leaves the total alone; unknown operations are rejected', () => {
  assert.equal(total.apply({ type: 'LAUNCH', launch: { task_infos: [] } }), total);
  assert.throws(() => total.apply({ type: 'CREATE_DISK' }), /Unsupported/);
  assert.throws(() => total.apply({}), /Unsupported/);
});
