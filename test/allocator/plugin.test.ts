// --allocator: built-in names, the strict-priority policy, and loading a JS module (the example plugin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAllocator, loadAllocator, AllocatorLoadError, HierarchicalAllocator } from '../../src/master/allocator/index.js';
import { Harness } from './helpers.js';

const plugin = fileURLToPath(new URL('../../examples/allocator-plugin/index.js', import.meta.url));

test('built-in names create allocators synchronously; unknown names are rejected', async () => {
  assert.ok(createAllocator('hierarchical') instanceof HierarchicalAllocator);
  assert.ok(createAllocator('HierarchicalDRF') instanceof HierarchicalAllocator);
  assert.ok(createAllocator('strict-priority') instanceof HierarchicalAllocator);
  await assert.rejects(loadAllocator('nonsense'), AllocatorLoadError);
});

test('strict-priority serves the heaviest role first, whatever the shares', async () => {
  const h = new Harness(createAllocator('strict-priority') as HierarchicalAllocator, { weights: { hi: 10, lo: 1 } });
  for (let i = 0; i < 4; i++) h.agent(`a${i}`, 'cpus:2;mem:256');
  h.framework('fl', 'lo');
  h.framework('fh', 'hi');
  let offers = await h.round();
  assert.deepEqual([...new Set(offers.map((o) => o.role))], ['hi']);
  assert.equal(offers.length, 4);
  // When the high role refuses, the low one gets the agents.
  for (const o of offers) h.decline(o, 3600);
  offers = await h.round();
  assert.deepEqual(offers.map((o) => o.role), ['lo', 'lo', 'lo', 'lo']);
  h.close();
  // The same setup under DRF splits the agents.
  const d = new Harness(undefined, { weights: { hi: 10, lo: 1 } });
  for (let i = 0; i < 4; i++) d.agent(`a${i}`, 'cpus:2;mem:256');
  d.framework('fl', 'lo');
  d.framework('fh', 'hi');
  assert.ok((await d.round()).some((o) => o.role === 'lo'));
  d.close();
});

test('a module path loads its default-exported factory (the example plugin)', async () => {
  const allocator = await loadAllocator(plugin);
  assert.ok(!(allocator instanceof HierarchicalAllocator));
  const h = new Harness(allocator);
  h.agent('a1', 'cpus:2;mem:256');
  h.agent('a2', 'cpus:2;mem:256');
  h.framework('f1', 'web');
  h.framework('f2', 'db');
  const offers = await h.round();
  assert.deepEqual(offers.map((o) => o.frameworkId).sort(), ['f1', 'f2']);
  for (const o of offers) {
    assert.equal(o.resources.scalar('cpus'), 2);
    for (const m of o.resources.toArray()) assert.equal(m.allocation_info?.role, o.role);
  }
  // Declined with a filter: not offered again to that framework until it expires.
  const f1 = offers.find((o) => o.frameworkId === 'f1')!;
  h.decline(f1, 10);
  const again = await h.round();
  assert.deepEqual(again.map((o) => o.frameworkId), ['f2']);
  h.close();
});

test('modules without a factory, or that fail to load, are reported clearly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meseta-alloc-'));
  try {
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export const x = 1;\n');
    await assert.rejects(loadAllocator(empty), /exports neither a default factory nor createAllocator/);
    const broken = join(dir, 'broken.mjs');
    writeFileSync(broken, 'this is not javascript\n');
    await assert.rejects(loadAllocator(broken), /Failed to load allocator module/);
    const named = join(dir, 'named.mjs');
    writeFileSync(named, `export async function createAllocator() { return { initialize() {}, addFramework() {}, addAgent() {}, recoverResources() {}, allocate: async () => {} }; }\n`);
    const a = await loadAllocator(named);
    assert.equal(typeof a.allocate, 'function');
    const incomplete = join(dir, 'incomplete.mjs');
    writeFileSync(incomplete, 'export default () => ({ initialize() {} });\n');
    await assert.rejects(loadAllocator(incomplete), /lacks method addFramework/);
    await assert.rejects(loadAllocator(join(dir, 'missing.js')), /Failed to load allocator module/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
