// LocalDiskStore: round trips, version checks, and falling back to the previous
// good snapshot when the newest one is damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/common/clock.js';
import { Flags, parseFlags } from '../../src/common/flags.js';
import { MASTER_FLAGS } from '../../src/master/flags.js';
import { LocalDiskStore, CorruptRegistryError, StaleVersionError, Registrar, registrarFromFlags, type PrunedAgents } from '../../src/master/registry/index.js';
import { HEADER_BYTES } from '../../src/master/registry/disk-store.js';
import { MASTER_INFO, agentInfo } from './helpers.js';

function workDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-registry-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(cond(), 'condition never became true');
}

const quiet = { warn: () => undefined };
const slot = (dir: string, version: number) => path.join(dir, 'registry', `snapshot.${version % 2}`);

test('an empty work dir has no document; stores survive a new instance', async (t) => {
  const dir = workDir(t);
  const a = new LocalDiskStore(dir);
  assert.equal(await a.fetch(), undefined);
  assert.equal(await a.store(Buffer.from('one'), 0), 1);
  assert.equal(await a.store(Buffer.from('two'), 1), 2);
  assert.equal(await a.store(Buffer.from('three'), 2), 3);
  const b = new LocalDiskStore(dir);
  assert.deepEqual(await b.fetch(), { version: 3, data: Buffer.from('three') });
  assert.equal(await b.store(Buffer.from('four'), 3), 4);
  assert.deepEqual(await new LocalDiskStore(dir).fetch(), { version: 4, data: Buffer.from('four') });
  assert.deepEqual(fs.readdirSync(path.join(dir, 'registry')).sort(), ['snapshot.0', 'snapshot.1']);
});

test('a store against the wrong version is refused, also when another instance wrote', async (t) => {
  const dir = workDir(t);
  const a = new LocalDiskStore(dir);
  await a.fetch();
  await a.store(Buffer.from('x'), 0);
  await assert.rejects(a.store(Buffer.from('y'), 0), StaleVersionError);
  const b = new LocalDiskStore(dir);
  await b.fetch();
  await b.store(Buffer.from('from b'), 1);
  await assert.rejects(a.store(Buffer.from('from a'), 1), StaleVersionError);
  assert.deepEqual(await new LocalDiskStore(dir).fetch(), { version: 2, data: Buffer.from('from b') });
});

for (const [name, damage] of [
  ['a flipped payload byte', (f: string) => { const b = fs.readFileSync(f); b[b.length - 1]! ^= 0x40; fs.writeFileSync(f, b); }],
  ['a truncated payload', (f: string) => fs.truncateSync(f, fs.statSync(f).size - 3)],
  ['a torn header', (f: string) => fs.truncateSync(f, HEADER_BYTES - 5)],
  ['a damaged header', (f: string) => { const b = fs.readFileSync(f); b[10]! ^= 0x01; fs.writeFileSync(f, b); }],
  ['an empty file', (f: string) => fs.writeFileSync(f, '')],
] as const) {
  test(`${name} in the newest snapshot falls back to the previous one, and storing continues`, async (t) => {
    const dir = workDir(t);
    const s = new LocalDiskStore(dir);
    await s.store(Buffer.from('version one'), 0);
    await s.store(Buffer.from('version two, a bit longer'), 1);
    damage(slot(dir, 2));
    const warnings: string[] = [];
    const r = new LocalDiskStore(dir, { warn: (m) => warnings.push(m) });
    assert.deepEqual(await r.fetch(), { version: 1, data: Buffer.from('version one') });
    assert.match(warnings.join('\n'), /damaged registry snapshot.*snapshot\.0.*using version 1/);
    assert.equal(await r.store(Buffer.from('repaired'), 1), 2);
    assert.deepEqual(await new LocalDiskStore(dir, quiet).fetch(), { version: 2, data: Buffer.from('repaired') });
  });
}

test('no valid snapshot at all is an error, never an empty registry', async (t) => {
  const dir = workDir(t);
  const s = new LocalDiskStore(dir);
  await s.store(Buffer.from('a'), 0);
  await s.store(Buffer.from('b'), 1);
  fs.writeFileSync(slot(dir, 1), 'garbage');
  fs.truncateSync(slot(dir, 2), 40);
  await assert.rejects(new LocalDiskStore(dir).fetch(), CorruptRegistryError);
  // A single damaged snapshot with nothing to fall back to is refused too.
  const lone = workDir(t);
  await new LocalDiskStore(lone).store(Buffer.from('only'), 0);
  fs.truncateSync(slot(lone, 1), 35);
  await assert.rejects(new LocalDiskStore(lone).fetch(), /no valid registry snapshot/);
});

test('a half-written temp file left by a crash is ignored and replaced', async (t) => {
  const dir = workDir(t);
  const s = new LocalDiskStore(dir);
  await s.store(Buffer.from('good'), 0);
  fs.writeFileSync(path.join(dir, 'registry', 'snapshot.tmp'), Buffer.from('MSTREG01 partial'));
  const r = new LocalDiskStore(dir);
  assert.deepEqual(await r.fetch(), { version: 1, data: Buffer.from('good') });
  assert.equal(await r.store(Buffer.from('next'), 1), 2);
  assert.equal(fs.existsSync(path.join(dir, 'registry', 'snapshot.tmp')), false);
});

test('the registrar recovers its agents from disk, falling back a version when the newest is damaged', async (t) => {
  const dir = workDir(t);
  const r1 = new Registrar({ store: new LocalDiskStore(dir), clock: new ManualClock() });
  await r1.recover(MASTER_INFO);
  await Promise.all(['a1', 'a2'].map((id) => r1.admitAgent(agentInfo(id))));
  await r1.admitAgent(agentInfo('a3'));
  await r1.close();
  const r2 = new Registrar({ store: new LocalDiskStore(dir), clock: new ManualClock() });
  const state = await r2.recover(MASTER_INFO);
  assert.deepEqual(state.slaves.slaves.map((s: any) => s.info.id.value), ['a1', 'a2', 'a3']);
  await r2.close();
  // r2's recovery wrote version 4 (master info); damage it: version 3 still has all three.
  fs.truncateSync(slot(dir, 4), 100);
  const r3 = new Registrar({ store: new LocalDiskStore(dir, quiet), clock: new ManualClock() });
  const again = await r3.recover(MASTER_INFO);
  assert.deepEqual(again.slaves.slaves.map((s: any) => s.info.id.value), ['a1', 'a2', 'a3']);
  await r3.close();
});

test('registrarFromFlags: --registry=replicated_log keeps agents in --work_dir; GC flags drive the clock', async (t) => {
  const dir = workDir(t);
  const argv = [`--work_dir=${dir}`, '--registry_gc_interval=1mins', '--registry_max_agent_age=1hrs', '--registry_max_agent_count=10'];
  const flags = new Flags(parseFlags(MASTER_FLAGS, argv, {}));
  const clock = new ManualClock();
  let onPruned: (p: PrunedAgents) => void = () => undefined;
  const pruned = new Promise<PrunedAgents>((resolve) => (onPruned = resolve));
  const r = registrarFromFlags(flags, clock, { onPruned });
  await r.recover(MASTER_INFO);
  await r.admitAgent(agentInfo('a1'));
  await r.markUnreachable('a1', clock.now());
  // A GC pass is async (it goes through the store); the next is scheduled when it finishes.
  const nextGcScheduled = () => until(() => clock.pending() === 1);
  clock.advance(60_000); // first GC: a1 is too young
  await nextGcScheduled();
  clock.advance(3_600_000); // one GC, at +2 minutes: still too young
  await nextGcScheduled();
  clock.advance(60_000); // the next one, past an hour
  assert.deepEqual(await pruned, { unreachable: ['a1'], gone: [] });
  await r.close();
  assert.ok(fs.existsSync(path.join(dir, 'registry', 'snapshot.0')));
  assert.throws(() => registrarFromFlags(new Flags(parseFlags(MASTER_FLAGS, [], {})), clock), /--work_dir needed/);
});
