// GPUs without a GPU: a fake nvidia-smi on PATH, fake /dev/nvidia* nodes (mknod as root, else
// plain files), the gpu/nvidia isolator on the cgroups twin, and, when the devices controller
// is usable, a real devices cgroup telling an allowed fake GPU (ENXIO: no driver) from a
// denied one (EPERM).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { Cgroups, MemoryCgroupsFs } from '../../src/agent/containerizer/cgroups/index.js';
import { createIsolation } from '../../src/agent/containerizer/isolators/index.js';
import {
  GpuAllocator,
  agentGpus,
  deviceNumber,
  discoverGpus,
  gpuDeviceRules,
  gpuEnvironment,
  parseNvidiaGpuDevices,
  parseNvidiaSmi,
} from '../../src/agent/gpu/index.js';
import type { Msg } from '../../src/protocol/codec.js';
import { MOUNTS, RefClock, cleanupRoot, realCgroupsMissing, tempDir, testRoot } from './helpers.js';

const gpus = (n: number): Msg => ({ name: 'gpus', type: 'SCALAR', scalar: { value: n } });

/** A directory with a fake nvidia-smi printing `output` (and recording its arguments). */
function fakeNvidiaSmi(output: string, exitCode = 0): string {
  const dir = tempDir('meseta-nvsmi-');
  fs.writeFileSync(
    path.join(dir, 'nvidia-smi'),
    `#!/bin/sh\necho "$@" > "${dir}/args"\nprintf '%s' '${output}'\n${exitCode ? `echo 'NVIDIA-SMI has failed' >&2; exit ${exitCode}` : ''}\n`,
    { mode: 0o755 },
  );
  return dir;
}

/** Fake device nodes: real character devices when mknod works (root), else plain files. */
function fakeDevices(): { dir: string; real: boolean } {
  const dir = tempDir('meseta-dev-');
  const nodes: Array<[string, number, number]> = [['nvidiactl', 195, 255], ['nvidia-uvm', 237, 0], ['nvidia0', 195, 0], ['nvidia1', 195, 1]];
  let real = true;
  for (const [name, major, minor] of nodes) {
    const r = spawnSync('mknod', [path.join(dir, name), 'c', String(major), String(minor)]);
    if (r.status !== 0) {
      real = false;
      fs.writeFileSync(path.join(dir, name), '');
    }
  }
  return { dir, real };
}

describe('gpu: discovery and flags', () => {
  it('parses nvidia-smi CSV output', () => {
    assert.deepEqual(parseNvidiaSmi('1, 3\n0, 2\n'), [
      { index: 0, minor: 2 },
      { index: 1, minor: 3 },
    ]);
    assert.deepEqual(parseNvidiaSmi(''), []);
    assert.throws(() => parseNvidiaSmi('No devices were found'), /Unexpected nvidia-smi output line/);
  });

  it('runs nvidia-smi from PATH with the query arguments; no nvidia-smi means no GPUs', async () => {
    const dir = fakeNvidiaSmi('0, 0\n1, 1\n');
    const env = { PATH: `${dir}:${process.env.PATH}` };
    assert.deepEqual(await discoverGpus({ env }), [
      { index: 0, minor: 0 },
      { index: 1, minor: 1 },
    ]);
    assert.equal(fs.readFileSync(path.join(dir, 'args'), 'utf8').trim(), '--query-gpu=index,minor_number --format=csv,noheader');
    assert.equal(await discoverGpus({ env: { PATH: tempDir('meseta-empty-') } }), undefined);
    const broken = fakeNvidiaSmi('', 9);
    await assert.rejects(discoverGpus({ env: { PATH: `${broken}:${process.env.PATH}` } }), /Failed to run nvidia-smi: NVIDIA-SMI has failed/);
  });

  it('applies the --resources gpus / --nvidia_gpu_devices / gpu/nvidia rules', () => {
    const found = [
      { index: 0, minor: 0 },
      { index: 1, minor: 1 },
      { index: 2, minor: 4 },
    ];
    assert.deepEqual(agentGpus({ gpuIsolation: true }, found), found, 'autodetected when neither flag is given');
    assert.deepEqual(agentGpus({ gpuIsolation: true }, undefined), [], 'no nvidia-smi: no GPUs');
    assert.deepEqual(agentGpus({ gpuIsolation: true, resourcesGpus: 2, nvidiaGpuDevices: '2,0' }, found), [found[2], found[0]]);
    assert.deepEqual(agentGpus({ gpuIsolation: false }, found), [], 'without gpu/nvidia the agent manages no GPUs');
    assert.throws(() => agentGpus({ gpuIsolation: false, nvidiaGpuDevices: '0' }, found), /'--nvidia_gpu_devices' can only be specified if the '--isolation' flag contains 'gpu\/nvidia'/);
    assert.throws(() => agentGpus({ gpuIsolation: true, resourcesGpus: 1 }, found), /you must also specify a list of GPUs via the '--nvidia_gpu_devices' flag/);
    assert.throws(() => agentGpus({ gpuIsolation: true, nvidiaGpuDevices: '0' }, found), /you must also specify a number of GPUs via the 'gpus' resource/);
    assert.throws(() => agentGpus({ gpuIsolation: true, resourcesGpus: 1.5, nvidiaGpuDevices: '0' }, found), /The 'gpus' resource must be an unsigned integer/);
    assert.throws(() => agentGpus({ gpuIsolation: true, resourcesGpus: 1, nvidiaGpuDevices: '0,1' }, found), /must match the number of GPUs specified in the 'gpus' resource/);
    assert.throws(() => agentGpus({ gpuIsolation: true, resourcesGpus: 1, nvidiaGpuDevices: '7' }, found), /GPU 7 in '--nvidia_gpu_devices' was not found/);
    assert.throws(() => parseNvidiaGpuDevices('0,0'), /contains duplicates/);
    assert.throws(() => parseNvidiaGpuDevices('0,x'), /invalid GPU index 'x'/);
  });

  it('allocates whole GPUs, refuses more than are free and takes them back', () => {
    const a = new GpuAllocator([
      { index: 1, minor: 1 },
      { index: 0, minor: 0 },
    ]);
    assert.deepEqual(a.allocate('c1', 1), [{ index: 0, minor: 0 }]);
    assert.throws(() => a.allocate('c2', 2), /^Error: Requested 2 gpus but only 1 are available$/);
    assert.deepEqual(a.allocate('c2', 1), [{ index: 1, minor: 1 }]);
    a.release('c1');
    assert.deepEqual(a.available(), [{ index: 0, minor: 0 }]);
    assert.equal(a.total, 2);
  });

  it('builds device rules from the device nodes and tells the task its GPUs', () => {
    const { dir, real } = fakeDevices();
    const rules = gpuDeviceRules([{ index: 1, minor: 1 }], dir);
    if (real) {
      assert.deepEqual(deviceNumber(path.join(dir, 'nvidia-uvm')), { major: 237, minor: 0 });
      assert.deepEqual(rules, ['c 195:255 rwm', 'c 237:0 rwm', 'c 195:1 rwm']);
    } else {
      assert.deepEqual(rules, ['c 195:1 rwm'], 'plain files are not devices: only the GPU rule, from its minor number');
    }
    assert.deepEqual(gpuEnvironment([{ index: 0, minor: 0 }, { index: 3, minor: 3 }]), { NVIDIA_VISIBLE_DEVICES: '0,3', CUDA_VISIBLE_DEVICES: '0,3' });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('gpu: gpu/nvidia isolator on the twin', () => {
  it('allows only the allocated GPUs through the devices cgroup and sets the visible-devices env', async () => {
    const tfs = new MemoryCgroupsFs(MOUNTS);
    const cg = new Cgroups({ fs: tfs });
    const { dir } = fakeDevices();
    const allocator = new GpuAllocator([
      { index: 0, minor: 0 },
      { index: 1, minor: 1 },
    ]);
    const iso = createIsolation('cgroups/devices,gpu/nvidia', { clock: new ManualClock(), cgroups: cg, gpuAllocator: allocator, devRoot: dir });
    const p1 = await iso.prepare({ containerId: 'c1', sandbox: dir, resources: [gpus(1)] });
    assert.deepEqual(p1.env, { NVIDIA_VISIBLE_DEVICES: '0', CUDA_VISIBLE_DEVICES: '0' });
    const writes = tfs.writes.filter((w) => w.path.startsWith(cg.path('devices', 'c1')));
    assert.deepEqual(writes[0], { path: `${cg.path('devices', 'c1')}/devices.deny`, text: 'a' });
    const allowed = writes.filter((w) => w.path.endsWith('devices.allow')).map((w) => w.text);
    assert.ok(allowed.includes('c 195:0 rwm'));
    assert.ok(!allowed.includes('c 195:1 rwm'), 'the other GPU stays denied');
    assert.ok(allowed.includes('c 1:3 rwm'), '/dev/null is in the default whitelist');

    const p0 = await iso.prepare({ containerId: 'c0', sandbox: dir, resources: [] });
    assert.deepEqual(p0.env, { NVIDIA_VISIBLE_DEVICES: 'void', CUDA_VISIBLE_DEVICES: '' }, 'no gpus: no GPU visible');
    await iso.prepare({ containerId: 'c2', sandbox: dir, resources: [gpus(1)] });
    await assert.rejects(
      iso.prepare({ containerId: 'c3', sandbox: dir, resources: [gpus(1)] }),
      /^Error: Failed to prepare isolator 'gpu\/nvidia': Requested 1 gpus but only 0 are available$/,
    );
    assert.equal(cg.exists('devices', 'c3'), false, 'the failed container left no cgroup');
    await iso.destroy('c1');
    assert.deepEqual(allocator.available(), [{ index: 0, minor: 0 }], 'destroy gives the GPU back');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

const missing = realCgroupsMissing(['devices', 'freezer']);

describe('gpu: real devices cgroup with fake GPUs', { skip: missing && `real cgroups unavailable: ${missing}` }, () => {
  const clock = new RefClock();
  const cg = new Cgroups({ root: testRoot('gpu') });
  after(() => cleanupRoot(cg, clock));

  it('the task can open its GPU node (no driver: ENXIO) but not the other one (EPERM)', async (t) => {
    const { dir, real } = fakeDevices();
    if (!real) return t.skip('mknod is not permitted here, so there are no fake device nodes to open');
    const allocator = new GpuAllocator([
      { index: 0, minor: 0 },
      { index: 1, minor: 1 },
    ]);
    const iso = createIsolation('cgroups/devices,gpu/nvidia', { clock, cgroups: cg, gpuAllocator: allocator, devRoot: dir, launcher: 'linux' });
    const prepared = await iso.prepare({ containerId: 'g1', sandbox: dir, resources: [gpus(1)] });
    const script = `cat ${dir}/nvidia0 2>&1; cat ${dir}/nvidia1 2>&1; cat /dev/null && echo null-ok; true`;
    const out = execFileSync(prepared.launchPrefix[0]!, [...prepared.launchPrefix.slice(1), '/bin/sh', '-c', script], {
      env: { ...process.env, ...prepared.env, LC_ALL: 'C' },
    }).toString();
    assert.match(out, /nvidia0: No such device or address/);
    assert.match(out, /nvidia1: Operation not permitted/);
    assert.match(out, /null-ok/);
    await iso.destroy('g1');
    assert.equal(cg.exists('devices', 'g1'), false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
