// Registrar (FT-02) over the in-memory store: recovery, batching, operation
// semantics, failures, GC and metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.js';
import { decodeProto, encodeProto } from '../../src/protocol/codec.js';
import { Registrar, RegistryModel, REGISTRY_TYPE, InMemoryStore, StaleVersionError, createRegistryStore, LocalDiskStore, RegistryFlagsError } from '../../src/master/registry/index.js';
import { GatedStore, MASTER_INFO, agentInfo, settle } from './helpers.js';

function registrar(store = new InMemoryStore(), clock = new ManualClock(), extra: Partial<ConstructorParameters<typeof Registrar>[0]> = {}) {
  return new Registrar({ store, clock, ...extra });
}

async function storedRegistry(store: InMemoryStore) {
  const doc = await store.fetch();
  assert.ok(doc, 'something was stored');
  return { version: doc.version, registry: decodeProto(REGISTRY_TYPE, doc.data) };
}

const ids = (entries: any[] | undefined, key: 'info' | 'id') =>
  (entries ?? []).map((e) => (key === 'info' ? e.info.id.value : e.id.value));

test('recover on an empty store records the master and returns the registry', async () => {
  const store = new InMemoryStore();
  const r = registrar(store);
  const state = await r.recover(MASTER_INFO);
  assert.deepEqual(state.master, { info: MASTER_INFO });
  assert.equal(state.slaves, undefined);
  const { version, registry } = await storedRegistry(store);
  assert.equal(version, 1);
  assert.deepEqual(registry.master, { info: MASTER_INFO });
  assert.equal(r.recover(MASTER_INFO), r.recover({ id: 'other' }), 'recover is idempotent');
});

test('operations before recover are rejected', async () => {
  const r = registrar();
  await assert.rejects(r.admitAgent(agentInfo('a1')), /before recovering/);
});

test('a new registrar recovers the admitted, unreachable and gone agents of the last one', async () => {
  const store = new InMemoryStore();
  const r1 = registrar(store);
  await r1.recover(MASTER_INFO);
  await Promise.all(['a1', 'a2', 'a3', 'a4'].map((id) => r1.admitAgent(agentInfo(id))));
  assert.equal(await r1.markUnreachable('a2', 1_000), true);
  assert.equal(await r1.markGone('a3', 2_000), true);

  const r2 = registrar(store);
  const state = await r2.recover({ ...MASTER_INFO, id: 'master-2' });
  assert.equal(state.master.info.id, 'master-2');
  assert.deepEqual(ids(state.slaves.slaves, 'info'), ['a1', 'a4']);
  assert.deepEqual(state.slaves.slaves[0].info, agentInfo('a1'));
  assert.deepEqual(state.unreachable.slaves, [{ id: { value: 'a2' }, timestamp: { nanoseconds: 1_000_000_000 } }]);
  assert.deepEqual(state.gone.slaves, [{ id: { value: 'a3' }, timestamp: { nanoseconds: 2_000_000_000 } }]);
  // The old leader's view is now stale: its next write must not clobber the new one.
  await assert.rejects(r1.admitAgent(agentInfo('a5')), /version mismatch/);
  await assert.rejects(r1.admitAgent(agentInfo('a6')), /version mismatch/, 'failure is sticky');
  assert.equal(await r2.admitAgent(agentInfo('a5')), true);
});

test('10,000 admissions issued together are written in a few stores', async () => {
  const store = new InMemoryStore();
  const r = registrar(store);
  await r.recover(MASTER_INFO);
  const before = store.stores;
  const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => r.admitAgent(agentInfo(`agent-${i}`))));
  assert.ok(results.every((x) => x === true));
  assert.ok(store.stores - before <= 2, `${store.stores - before} stores`);
  const { registry } = await storedRegistry(store);
  assert.equal(registry.slaves.slaves.length, 10_000);
  assert.equal(registry.slaves.slaves[9_999].info.id.value, 'agent-9999');
});

test('operations arriving while a store is in flight share the next store and wait for it', async () => {
  const store = new GatedStore();
  const r = registrar(store);
  await r.recover(MASTER_INFO);
  store.held = true;
  const first = r.admitAgent(agentInfo('a0'));
  let firstDone = false;
  void first.then(() => (firstDone = true));
  await settle();
  assert.equal(store.inFlight, 1);
  // Trickle 100 more in, one per tick, while the first store is held.
  const later: Array<Promise<boolean>> = [];
  let laterDone = 0;
  for (let i = 1; i <= 100; i++) {
    const p = r.admitAgent(agentInfo(`a${i}`));
    void p.then(() => laterDone++);
    later.push(p);
    await settle();
  }
  assert.equal(firstDone, false, 'not acknowledged before its store completed');
  assert.equal(r.metrics()['registrar/queued_operations'], 100);
  const callsBefore = store.calls.length;
  store.release();
  assert.equal(await first, true);
  store.held = true; // hold the second store too, to see that the 100 wait for it
  await settle();
  assert.equal(store.calls.length, callsBefore + 1, 'the 100 queued operations went out as one store');
  assert.equal(laterDone, 0);
  store.release();
  assert.deepEqual(await Promise.all(later), later.map(() => true));
  const { registry } = await storedRegistry(store);
  assert.equal(registry.slaves.slaves.length, 101);
  assert.equal(r.metrics()['registrar/queued_operations'], 0);
});

test('operations that do not apply resolve false, like Mesos, without a store when nothing changed', async () => {
  const store = new InMemoryStore();
  const r = registrar(store);
  await r.recover(MASTER_INFO);
  assert.deepEqual(await Promise.all([r.admitAgent(agentInfo('a1')), r.admitAgent(agentInfo('a1'))]), [true, false]);
  assert.equal(await r.admitAgent(agentInfo('a1')), false, 'already admitted');
  assert.equal(await r.admitAgent({ hostname: 'no-id' }), false, 'no id');
  const stores = store.stores;
  assert.equal(await r.markUnreachable('nope', 1), false);
  assert.equal(await r.removeAgent('nope'), false);
  assert.equal(await r.markGone('nope', 1), false);
  assert.equal(await r.updateAgent(agentInfo('nope')), false);
  assert.equal(await r.drainAgent('nope', {}), false);
  assert.equal(await r.markAgentDrained('a1'), false, 'not draining');
  assert.equal(await r.startMaintenance([{ hostname: 'unscheduled' }]), false);
  assert.equal(store.stores, stores, 'no store for a batch without changes');

  assert.equal(await r.markReachable(agentInfo('a1')), true, 'already admitted: nothing to do, but fine');
  assert.equal(await r.markGone('a1', 5), true);
  assert.equal(await r.markGone('a1', 6), false, 'already gone');
  assert.equal(await r.markUnreachable('a1', 7), false, 'gone agents are not admitted');
  // An agent GC'd from unreachable may still come back.
  assert.equal(await r.markReachable(agentInfo('ghost')), true);
  const { registry } = await storedRegistry(store);
  assert.deepEqual(ids(registry.slaves.slaves, 'info'), ['ghost']);
  assert.deepEqual(ids(registry.gone.slaves, 'id'), ['a1']);
});

test('unreachable agents carry their drain state back when they return; update and remove', async () => {
  const store = new InMemoryStore();
  const r = registrar(store);
  await r.recover(MASTER_INFO);
  await r.admitAgent(agentInfo('a1'));
  await r.admitAgent(agentInfo('a2'));
  const config = { max_grace_period: { nanoseconds: 5e9 }, mark_gone: false };
  assert.equal(await r.drainAgent('a1', config), true);
  assert.equal(await r.markUnreachable('a1', 10), true);
  let { registry } = await storedRegistry(store);
  assert.deepEqual(registry.unreachable.slaves[0], {
    id: { value: 'a1' }, timestamp: { nanoseconds: 1e7 }, drain_info: { state: 'DRAINING', config }, deactivated: true,
  });
  assert.equal(await r.markReachable(agentInfo('a1', 'new-host')), true);
  assert.equal(await r.markAgentDrained('a1'), true);
  assert.equal(await r.updateAgent(agentInfo('a2', 'renamed')), true);
  ({ registry } = await storedRegistry(store));
  assert.equal(registry.unreachable, undefined);
  assert.deepEqual(ids(registry.slaves.slaves, 'info'), ['a2', 'a1']);
  assert.equal(registry.slaves.slaves[0].info.hostname, 'renamed');
  assert.deepEqual(registry.slaves.slaves[1], { info: agentInfo('a1', 'new-host'), drain_info: { state: 'DRAINED', config }, deactivated: true });
  assert.equal(await r.reactivateAgent('a1'), true);
  assert.equal(await r.deactivateAgent('a2'), true);
  assert.equal(await r.removeAgent('a2'), true);
  ({ registry } = await storedRegistry(store));
  assert.deepEqual(registry.slaves.slaves, [{ info: agentInfo('a1', 'new-host') }]);
});

test('gc drops unreachable/gone entries by age, then the oldest beyond the count', async () => {
  const store = new InMemoryStore();
  const r = registrar(store);
  await r.recover(MASTER_INFO);
  const day = 86_400_000;
  for (let i = 0; i < 8; i++) await r.admitAgent(agentInfo(`a${i}`));
  // unreachable at days 1, 2, 3, 4 (a0..a3); gone at days 1, 5, 6, 7 (a4..a7)
  for (let i = 0; i < 4; i++) await r.markUnreachable(`a${i}`, (i + 1) * day);
  await r.markGone('a4', 1 * day);
  for (let i = 5; i < 8; i++) await r.markGone(`a${i}`, i * day);
  const now = 8 * day;
  // Older than 5.5 days: a0, a1 (unreachable), a4 (gone). Then at most 1 per list.
  const pruned = await r.gc(5.5 * day, 1, now);
  assert.deepEqual(pruned, { unreachable: ['a0', 'a1', 'a2'], gone: ['a4', 'a5', 'a6'] });
  const { registry } = await storedRegistry(store);
  assert.deepEqual(ids(registry.unreachable.slaves, 'id'), ['a3']);
  assert.deepEqual(ids(registry.gone.slaves, 'id'), ['a7']);
  const stores = store.stores;
  assert.deepEqual(await r.gc(5.5 * day, 1, now), { unreachable: [], gone: [] });
  assert.equal(store.stores, stores, 'nothing to prune, nothing stored');
});

test('periodic gc runs on the injected clock and reports what it dropped', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 10));
  const store = new InMemoryStore();
  let onPruned: (p: unknown) => void = () => undefined;
  const reported = new Promise((resolve) => (onPruned = resolve));
  const r = registrar(store, clock, { gc: { intervalMs: 15 * 60_000, maxAgentAgeMs: 3_600_000, maxAgentCount: 100, onPruned } });
  await r.recover(MASTER_INFO);
  await r.admitAgent(agentInfo('old'));
  await r.admitAgent(agentInfo('new'));
  await r.markUnreachable('old', clock.now() - 2 * 3_600_000);
  await r.markUnreachable('new', clock.now());
  clock.advance(15 * 60_000);
  assert.deepEqual(await reported, { unreachable: ['old'], gone: [] });
  const { registry } = await storedRegistry(store);
  assert.deepEqual(ids(registry.unreachable.slaves, 'id'), ['new']);
  await r.close();
  assert.equal(clock.pending(), 0, 'close stops the gc timer');
});

test('a failed store rejects its batch and every later operation', async () => {
  const store = new GatedStore();
  const r = registrar(store);
  await r.recover(MASTER_INFO);
  store.failNext = new Error('disk on fire');
  await assert.rejects(r.admitAgent(agentInfo('a1')), /Failed to update 'registry': disk on fire/);
  await assert.rejects(r.admitAgent(agentInfo('a2')), /disk on fire/);
});

test('a store slower than --registry_store_timeout fails the registrar', async () => {
  const clock = new ManualClock();
  const store = new GatedStore();
  const r = registrar(store, clock, { storeTimeoutMs: 20_000 });
  await r.recover(MASTER_INFO);
  store.hang = true;
  const op = r.admitAgent(agentInfo('a1'));
  await settle();
  clock.advance(19_999);
  await settle();
  clock.advance(1);
  await assert.rejects(op, /store timed out after 20000ms/);
});

test('a fetch slower than --registry_fetch_timeout fails recovery', async () => {
  const clock = new ManualClock();
  const store = new InMemoryStore();
  store.fetch = () => new Promise(() => undefined);
  const r = registrar(store, clock, { fetchTimeoutMs: 60_000 });
  const recovering = r.recover(MASTER_INFO);
  const queued = r.admitAgent(agentInfo('a1'));
  clock.advance(60_000);
  await assert.rejects(recovering, /Failed to recover registrar: fetch timed out/);
  await assert.rejects(queued, /Failed to recover registrar/);
});

test('weights, quota (with the QUOTA_V2 minimum capability) and maintenance are persisted', async () => {
  const store = new InMemoryStore();
  const r = registrar(store);
  await r.recover(MASTER_INFO);
  await r.updateWeights([{ role: 'a', weight: 2 }, { role: 'b', weight: 3 }]);
  await r.updateWeights([{ role: 'a', weight: 5 }]);
  const dev = { role: 'dev', guarantees: { cpus: { value: 2 } }, limits: { cpus: { value: 4 } } };
  await r.updateQuota([dev, { role: 'ops', limits: { mem: { value: 1024 } } }]);
  let { registry } = await storedRegistry(store);
  assert.deepEqual(registry.weights, [{ info: { role: 'a', weight: 5 } }, { info: { role: 'b', weight: 3 } }]);
  assert.deepEqual(registry.quota_configs.map((c: any) => c.role), ['dev', 'ops']);
  assert.deepEqual(registry.minimum_capabilities, [{ capability: 'QUOTA_V2' }]);
  await r.updateQuota([{ role: 'dev' }, { role: 'ops' }]);
  ({ registry } = await storedRegistry(store));
  assert.equal(registry.quota_configs, undefined);
  assert.equal(registry.minimum_capabilities, undefined);

  const window = (hosts: string[], start: number) => ({
    machine_ids: hosts.map((hostname) => ({ hostname })),
    unavailability: { start: { nanoseconds: start } },
  });
  await r.updateSchedule({ windows: [window(['m1', 'm2'], 100)] });
  assert.equal(await r.startMaintenance([{ hostname: 'm1' }]), true);
  ({ registry } = await storedRegistry(store));
  assert.deepEqual(registry.machines.machines.map((m: any) => [m.info.id.hostname, m.info.mode]), [['m1', 'DOWN'], ['m2', 'DRAINING']]);
  // m2 unscheduled: dropped (it was only draining); m1 is down and stays; m3 is new.
  await r.updateSchedule({ windows: [window(['m1', 'm3'], 200)] });
  ({ registry } = await storedRegistry(store));
  assert.deepEqual(registry.machines.machines.map((m: any) => [m.info.id.hostname, m.info.mode]), [['m1', 'DOWN'], ['m3', 'DRAINING']]);
  assert.equal(await r.stopMaintenance([{ hostname: 'm1' }]), true);
  ({ registry } = await storedRegistry(store));
  assert.deepEqual(registry.machines.machines.map((m: any) => m.info.id.hostname), ['m3']);
  assert.deepEqual(registry.schedules, [{ windows: [window(['m3'], 200)] }]);
});

test('a registry requiring a capability this master lacks is refused', async () => {
  const store = new InMemoryStore();
  await store.store(encodeProto(REGISTRY_TYPE, { minimum_capabilities: [{ capability: 'QUOTA_V2' }, { capability: 'FROM_THE_FUTURE' }] }), 0);
  await assert.rejects(registrar(store).recover(MASTER_INFO), /minimum capabilities FROM_THE_FUTURE/);
});

test('the spliced encoding equals a plain encoding of the same registry', () => {
  const m = new RegistryModel();
  m.setMaster(MASTER_INFO);
  m.admitAgent(agentInfo('a1'));
  m.admitAgent(agentInfo('a2'));
  m.markUnreachable('a1', 123);
  m.admitAgent(agentInfo('a3'));
  m.markGone('a3', 456);
  m.updateWeights([{ role: 'r', weight: 2 }]);
  const spliced = decodeProto(REGISTRY_TYPE, m.encode());
  const plain = {
    master: { info: MASTER_INFO },
    slaves: { slaves: [{ info: agentInfo('a2') }] },
    unreachable: { slaves: [{ id: { value: 'a1' }, timestamp: { nanoseconds: 123e6 } }] },
    gone: { slaves: [{ id: { value: 'a3' }, timestamp: { nanoseconds: 456e6 } }] },
    weights: [{ info: { role: 'r', weight: 2 } }],
  };
  assert.deepEqual(spliced, decodeProto(REGISTRY_TYPE, encodeProto(REGISTRY_TYPE, plain)));
  assert.deepEqual(spliced, plain);
  // Decoding a registry encoded the ordinary way (as Mesos would write it) splits it the same.
  const back = RegistryModel.decode(encodeProto(REGISTRY_TYPE, plain));
  assert.deepEqual(back.view(), plain);
  assert.deepEqual([...back.admitted.keys()], ['a2']);
  assert.deepEqual(decodeProto(REGISTRY_TYPE, back.encode()), plain);
});

test('metrics report queue, size and timings', async () => {
  const r = registrar();
  assert.deepEqual(r.metrics(), { 'registrar/queued_operations': 0, 'registrar/registry_size_bytes': 0 });
  await r.recover(MASTER_INFO);
  await r.admitAgent(agentInfo('a1'));
  const m = r.metrics();
  assert.equal(m['registrar/registry_size_bytes'], r.registry() && encodeProto(REGISTRY_TYPE, r.registry()!).length);
  assert.equal(typeof m['registrar/state_fetch_ms'], 'number');
  assert.equal(m['registrar/state_store_ms/count'], 2);
  assert.ok(m['registrar/state_store_ms/max']! >= m['registrar/state_store_ms/min']!);
});

test('--registry and --work_dir choose the store', () => {
  assert.ok(createRegistryStore({ registry: 'in_memory' }) instanceof InMemoryStore);
  assert.ok(createRegistryStore({ registry: 'replicated_log', work_dir: '/tmp/x' }) instanceof LocalDiskStore);
  assert.throws(() => createRegistryStore({ registry: 'replicated_log' }), RegistryFlagsError);
  assert.throws(() => createRegistryStore({ registry: 'zookeeper', work_dir: '/tmp/x' }), /not a supported option/);
  assert.ok(new StaleVersionError() instanceof Error);
});

test('agents are stored with pre-refinement resources, like Mesos', async () => {
  const store = new InMemoryStore();
  const r = registrar(store);
  await r.recover(MASTER_INFO);
  const info = {
    ...agentInfo('a1'),
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, reservations: [{ type: 'STATIC', role: 'web' }] },
      { name: 'mem', type: 'SCALAR', scalar: { value: 512 } },
    ],
  };
  assert.equal(await r.admitAgent(info), true);
  const { registry } = await storedRegistry(store);
  assert.deepEqual(registry.slaves.slaves[0].info.resources, [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, role: 'web' },
    { name: 'mem', type: 'SCALAR', scalar: { value: 512 }, role: '*' },
  ]);
});

test('a message that cannot be encoded is refused and does not poison later stores', async () => {
  const store = new InMemoryStore();
  const r = registrar(store);
  await r.recover(MASTER_INFO);
  const noHostname = { id: { value: 'bad' }, port: 5051 }; // AgentInfo.hostname is required
  assert.equal(await r.admitAgent(noHostname), false);
  assert.equal(await r.updateWeights([{ role: 'no-weight' }]), false); // WeightInfo.weight is required
  assert.equal(await r.admitAgent(agentInfo('good')), true);
  assert.equal(await r.drainAgent('good', { mark_gone: 'not a bool', max_grace_period: { nanoseconds: 'x' } }), false);
  assert.equal(await r.markUnreachable('good', Number.NaN), false);
  assert.equal(await r.admitAgent(agentInfo('good2')), true);
  const { registry } = await storedRegistry(store);
  assert.deepEqual(ids(registry.slaves.slaves, 'info'), ['good', 'good2']);
  assert.equal(registry.weights, undefined);
});
