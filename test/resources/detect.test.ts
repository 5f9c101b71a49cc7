import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectAgentResources, ResourcesError } from '../../src/resources/index.js';

const GB = 1024 ** 3;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-res-'));
test.after(() => fs.rmSync(workDir, { recursive: true, force: true }));

test('autodetects every predefined name from injected machine numbers', () => {
  const r = detectAgentResources({ workDir, cpuCount: 8, memTotalBytes: 16 * GB, diskTotalBytes: 100 * GB });
  assert.equal(r.scalar('cpus'), 8);
  assert.equal(r.scalar('mem'), 15 * 1024, 'total - 1GB');
  assert.equal(r.scalar('disk'), 95 * 1024, 'total - 5GB');
  assert.deepEqual(r.ranges('ports'), [[31000, 32000]]);
  assert.equal(r.unreserved().size, 4);
});

test('small machines get half of memory and disk', () => {
  const r = detectAgentResources({ workDir, cpuCount: 1, memTotalBytes: 1.5 * GB, diskTotalBytes: 8 * GB });
  assert.equal(r.scalar('mem'), 768);
  assert.equal(r.scalar('disk'), 4096);
});

test('explicit flag values win, per name, in any role; the default role applies to the rest', () => {
  const r = detectAgentResources({
    resources: 'cpus(ads):2;mem:512;gpus:1', workDir, defaultRole: 'eng', cpuCount: 8, memTotalBytes: 16 * GB, diskTotalBytes: 100 * GB,
  });
  assert.equal(r.scalar('cpus'), 2);
  assert.equal(r.reserved('ads').scalar('cpus'), 2);
  assert.equal(r.reserved('eng').scalar('mem'), 512);
  assert.equal(r.reserved('eng').scalar('disk'), 95 * 1024);
  assert.equal(r.scalar('gpus'), 1);
  assert.equal(r.unreserved().isEmpty(), true);
});

test('JSON flag, also from file://', () => {
  const json = JSON.stringify([{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1000, end: 2000 }] } }]);
  const file = path.join(workDir, 'resources.json');
  fs.writeFileSync(file, json);
  for (const flag of [json, `file://${file}`]) {
    const r = detectAgentResources({ resources: flag, workDir, cpuCount: 2, memTotalBytes: 4 * GB, diskTotalBytes: 20 * GB });
    assert.deepEqual(r.ranges('ports'), [[1000, 2000]]);
    assert.equal(r.scalar('cpus'), 2);
  }
  assert.throws(() => detectAgentResources({ resources: `file://${workDir}/missing`, workDir }), /Failed to read/);
});

test('the real machine: statfs of the work dir and the CPU count', () => {
  const r = detectAgentResources({ workDir });
  const st = fs.statfsSync(workDir);
  const total = st.blocks * st.bsize;
  const expect = Math.floor((total >= 10 * GB ? total - 5 * GB : total / 2) / (1024 * 1024));
  assert.equal(r.scalar('disk'), expect);
  assert.equal(r.scalar('cpus'), os.cpus().length);
  assert.ok(r.scalar('mem') > 0);
  const notYet = detectAgentResources({ workDir: path.join(workDir, 'not', 'created') });
  assert.equal(notYet.scalar('disk'), expect, 'measured at the nearest existing parent');
});

test('command-line resources may not hold volumes, revocable or dynamic reservations', () => {
  const bad = [
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, revocable: {} }],
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: 'a', reservation: { principal: 'p' } }],
    [{ name: 'disk', type: 'SCALAR', scalar: { value: 1 }, role: 'a', disk: { persistence: { id: 'x' }, volume: { container_path: 'v', mode: 'RW' } } }],
  ];
  for (const list of bad) {
    assert.throws(() => detectAgentResources({ resources: JSON.stringify(list), workDir, cpuCount: 1 }), ResourcesError);
  }
  assert.throws(() => detectAgentResources({ resources: 'cpus:x', workDir }), ResourcesError);
});
