// Isolators against the cgroups twin (always) and the kernel (root with v1 controllers).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { Cgroups, MemoryCgroupsFs } from '../../src/agent/containerizer/cgroups/index.js';
import {
  CgroupsMemIsolator,
  DiskDuIsolator,
  Isolation,
  createIsolation,
  createIsolators,
  parseIsolation,
  type Isolator,
  type Limitation,
} from '../../src/agent/containerizer/isolators/index.js';
import type { Msg } from '../../src/protocol/codec.js';
import { MOUNTS, RefClock, cleanupRoot, eventually, isAlive, realCgroupsMissing, tempDir, testRoot } from './helpers.js';

const res = (name: string, value: number): Msg => ({ name, type: 'SCALAR', scalar: { value } });
const twin = (mounts = MOUNTS) => {
  const fs = new MemoryCgroupsFs(mounts);
  return { fs, cg: new Cgroups({ fs }) };
};
const config = (id: string, resources: Msg[], sandbox = '/tmp') => ({ containerId: id, sandbox, resources });

describe('isolators: --isolation parsing and creation', () => {
  it('defaults to posix/cpu,posix/mem and always adds filesystem/posix', () => {
    assert.deepEqual(parseIsolation(undefined), ['filesystem/posix', 'posix/cpu', 'posix/mem']);
    assert.deepEqual(parseIsolation(' cgroups/mem, posix/disk ,,cgroups/cpu'), ['filesystem/posix', 'cgroups/cpu', 'cgroups/mem', 'disk/du']);
  });

  it('rejects unknown names the way Mesos does', () => {
    assert.throws(() => parseIsolation('posix/cpu,cgroups/bogus'), /^Error: Unknown or unsupported isolator 'cgroups\/bogus'$/);
    assert.throws(() => parseIsolation('network/cni'), /Unknown or unsupported isolator 'network\/cni'/);
  });

  it('cgroups/all expands to the cgroups isolators whose controllers are mounted', () => {
    const { cg } = twin(MOUNTS.split('\n').filter((l) => !l.includes('/pids ')).join('\n'));
    assert.deepEqual(parseIsolation('cgroups/all', cg), ['filesystem/posix', 'cgroups/cpu', 'cgroups/mem', 'cgroups/devices']);
  });

  it('fails clearly when a needed controller is not mounted, while the default still works', () => {
    const { cg } = twin(MOUNTS.split('\n').filter((l) => !l.includes('/memory ')).join('\n'));
    const clock = new ManualClock();
    assert.throws(
      () => createIsolators('cgroups/cpu,cgroups/mem', { clock, cgroups: cg }),
      /^Error: Failed to create isolator 'cgroups\/mem': cgroup controller 'memory' is not mounted$/,
    );
    const { cg: none } = twin('');
    assert.deepEqual(
      createIsolators(undefined, { clock, cgroups: none }).map((i) => i.name),
      ['filesystem/posix', 'posix/cpu', 'posix/mem'],
    );
    assert.throws(() => createIsolation('posix/cpu', { clock, cgroups: none, launcher: 'linux' }), /'freezer' is not mounted/);
    assert.throws(() => createIsolation('posix/cpu', { clock, launcher: 'windows' }), /Unknown or unsupported launcher: 'windows'/);
  });

  it('gpu/nvidia needs cgroups/devices', () => {
    const { cg } = twin();
    assert.throws(
      () => createIsolators('gpu/nvidia', { clock: new ManualClock(), cgroups: cg }),
      /The 'cgroups\/devices' isolator must be enabled in order to use the 'gpu\/nvidia' isolator/,
    );
  });
});

describe('isolators: cgroups on the twin', () => {
  it('cgroups/cpu writes Mesos shares and the CFS quota, updates them, reports usage and removes its cgroups', async () => {
    const { fs: tfs, cg } = twin();
    const clock = new ManualClock();
    const [, cpu] = createIsolators('cgroups/cpu', { clock, cgroups: cg, enableCfs: true });
    const info = await cpu!.prepare(config('c1', [res('cpus', 0.5), res('mem', 64)]));
    assert.deepEqual(info?.joinCgroups, ['/sys/fs/cgroup/cpu,cpuacct/mesos/c1/cgroup.procs'], 'co-mounted cpu,cpuacct: one cgroup');
    assert.equal(cg.read('cpu', 'c1', 'cpu.shares'), '512\n');
    assert.equal(cg.read('cpu', 'c1', 'cpu.cfs_quota_us'), '50000\n');
    await cpu!.update('c1', [res('cpus', 2)]);
    assert.equal(cg.read('cpu', 'c1', 'cpu.shares'), '2048\n');
    assert.equal(cg.read('cpu', 'c1', 'cpu.cfs_quota_us'), '200000\n');
    tfs.set(cg.path('cpuacct', 'c1') + '/cpuacct.stat', 'user 100\nsystem 20\n');
    const usage = await cpu!.usage('c1');
    assert.equal(usage.cpus_limit, 2);
    assert.equal(usage.cpus_user_time_secs, 1);
    assert.equal(usage.cpus_system_time_secs, 0.2);
    assert.equal(usage.cpus_nr_periods, 0);
    await cpu!.isolate('c1', 4242);
    assert.equal(cg.procs('cpu', 'c1')[0], 4242);
    tfs.clearProcs(cg.path('cpu', 'c1'));
    await cpu!.cleanup('c1');
    assert.equal(cg.exists('cpu', 'c1'), false);
  });

  it('cgroups/mem sets the limit (at least 32 MB), memsw with --cgroups_limit_swap, and turns an OOM into a limitation', async () => {
    const { fs: tfs, cg } = twin();
    const clock = new ManualClock();
    const mem = new CgroupsMemIsolator({ cgroups: cg, clock, limitSwap: true, oomPollMs: 50 });
    await mem.prepare(config('small', [res('mem', 8)]));
    assert.equal(cg.read('memory', 'small', 'memory.limit_in_bytes'), `${32 * 2 ** 20}\n`);
    await mem.prepare(config('c1', [res('cpus', 1), res('mem', 64)]));
    assert.equal(cg.read('memory', 'c1', 'memory.limit_in_bytes'), `${64 * 2 ** 20}\n`);
    assert.equal(cg.read('memory', 'c1', 'memory.memsw.limit_in_bytes'), `${64 * 2 ** 20}\n`);
    // Lowering: memsw is written before the limit so memsw >= limit holds at every step.
    const before = tfs.writes.length;
    await mem.update('c1', [res('mem', 48)]);
    const order = tfs.writes.slice(before).map((w) => path.basename(w.path));
    assert.deepEqual(order, ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes', 'memory.soft_limit_in_bytes']);

    let limitation: Limitation | undefined;
    void mem.watch('c1').then((l) => (limitation = l));
    clock.advance(200);
    await Promise.resolve();
    assert.equal(limitation, undefined);
    tfs.set(cg.path('memory', 'c1') + '/memory.max_usage_in_bytes', `${48 * 2 ** 20}\n`);
    tfs.set(cg.path('memory', 'c1') + '/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    clock.advance(50);
    const l = await mem.watch('c1');
    assert.equal(l.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
    assert.match(l.message, /^Memory limit exceeded: Requested: 48MB Maximum Used: 48MB\n\nMEMORY STATISTICS: \n/);
    assert.deepEqual(l.resources, [res('mem', 48)]);
    await mem.cleanup('c1');
    await mem.cleanup('small');
    assert.equal(clock.pending(), 0, 'no OOM poll left running');
  });

  it('Isolation.prepare joins every cgroup before the other prefixes, and a failed prepare cleans up and names the isolator', async () => {
    const { cg } = twin();
    const clock = new ManualClock();
    const iso = createIsolation('cgroups/cpu,cgroups/mem,cgroups/pids', { clock, cgroups: cg, launcher: 'linux' });
    const prepared = await iso.prepare(config('c1', [res('cpus', 1), res('mem', 64)]));
    assert.equal(prepared.launchPrefix[0], '/bin/sh');
    assert.equal(prepared.launchPrefix[3], 'meseta-cgroups-join');
    assert.deepEqual(prepared.launchPrefix.slice(4), [
      '4',
      '/sys/fs/cgroup/freezer/mesos/c1/cgroup.procs',
      '/sys/fs/cgroup/cpu,cpuacct/mesos/c1/cgroup.procs',
      '/sys/fs/cgroup/memory/mesos/c1/cgroup.procs',
      '/sys/fs/cgroup/pids/mesos/c1/cgroup.procs',
    ]);
    await iso.destroy('c1');
    for (const c of ['freezer', 'cpu', 'memory', 'pids']) assert.equal(cg.exists(c, 'c1'), false);

    const failing: Isolator = {
      name: 'test/fail',
      prepare: async () => {
        throw new Error('boom');
      },
      isolate: async () => {},
      watch: () => new Promise(() => {}),
      update: async () => {},
      usage: async () => ({}),
      cleanup: async () => {},
    };
    const mem = new CgroupsMemIsolator({ cgroups: cg, clock });
    const broken = new Isolation([mem, failing], clock);
    await assert.rejects(broken.prepare(config('c2', [res('mem', 64)])), /^Error: Failed to prepare isolator 'test\/fail': boom$/);
    assert.equal(cg.exists('memory', 'c2'), false, 'the memory cgroup made before the failure is gone');
  });
});

describe('isolators: disk/du', () => {
  it('measures the sandbox on the Clock and, when enforcing, reports going over the disk quota', async () => {
    const clock = new ManualClock();
    let used = 512 * 1024;
    const disk = new DiskDuIsolator({ clock, enforceQuota: true, watchIntervalMs: 15_000, measure: async () => used });
    await disk.prepare(config('c1', [res('disk', 1)]));
    let limitation: Limitation | undefined;
    void disk.watch('c1').then((l) => (limitation = l));
    clock.advance(15_000);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(await disk.usage('c1'), { disk_limit_bytes: 2 ** 20, disk_used_bytes: 512 * 1024 });
    assert.equal(limitation, undefined);
    used = 2 * 2 ** 20;
    clock.advance(15_000);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(limitation, {
      reason: 'REASON_CONTAINER_LIMITATION_DISK',
      message: 'Disk usage (2MB) exceeds quota (1MB)',
      resources: [res('disk', 1)],
    });
    await disk.cleanup('c1');
    assert.equal(clock.pending(), 0);
  });

  it('without --enforce_container_disk_quota it only reports, using the real du', async () => {
    const dir = tempDir('meseta-du-');
    fs.writeFileSync(path.join(dir, 'blob'), Buffer.alloc(3 * 2 ** 20, 7));
    const clock = new ManualClock();
    const disk = new DiskDuIsolator({ clock });
    await disk.prepare(config('c1', [res('disk', 1)], dir));
    await disk.check('c1');
    const usage = await disk.usage('c1');
    assert.ok(usage.disk_used_bytes >= 3 * 2 ** 20, `du saw ${usage.disk_used_bytes} bytes`);
    let fired = false;
    void disk.watch('c1').then(() => (fired = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(fired, false);
    await disk.cleanup('c1');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('isolators: posix accounting (real /proc)', () => {
  it('posix/cpu and posix/mem account for the whole process tree of the container', async () => {
    const clock = new ManualClock();
    const iso = createIsolation(undefined, { clock });
    const dir = tempDir('meseta-posix-');
    await iso.prepare(config('p1', [res('cpus', 0.5), res('mem', 32)], dir));
    const child = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30 & wait'], { detached: true, stdio: 'ignore' });
    await iso.isolate('p1', child.pid!);
    let u: Msg = {};
    for (let i = 0; i < 500 && !(u.processes >= 3); i++) {
      u = await iso.usage('p1');
      if (u.processes < 3) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(u.processes >= 3, `processes ${u.processes}`);
    assert.equal(u.cpus_limit, 0.5);
    assert.equal(u.mem_limit_bytes, 32 * 2 ** 20);
    assert.ok(u.mem_rss_bytes > 0);
    assert.ok(u.threads >= 3);
    assert.equal(typeof u.timestamp, 'number');
    process.kill(-child.pid!, 'SIGKILL');
    await iso.destroy('p1');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

const missing = realCgroupsMissing(['cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'devices']);

describe('isolators: real cgroups, linux launcher, pid namespace', { skip: missing && `real cgroups unavailable: ${missing}` }, () => {
  const clock = new RefClock();
  const cg = new Cgroups({ root: testRoot('iso') });
  after(() => cleanupRoot(cg, clock));

  it('runs a task inside its cgroups and pid namespace, reports usage, and destroy leaves nothing', async () => {
    const iso = createIsolation('cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid', { clock, cgroups: cg, launcher: 'linux', enableCfs: true });
    const dir = tempDir('meseta-iso-');
    const prepared = await iso.prepare(config('t1', [res('cpus', 0.25), res('mem', 64)], dir));
    const [cmd, ...args] = [...prepared.launchPrefix, '/bin/sh', '-c', 'echo $$ > pid1; ps -e -o pid= | wc -l > nprocs; (setsid sleep 300 &); sleep 300'];
    const child = spawn(cmd!, args, { cwd: dir, detached: true, stdio: 'ignore' });
    await iso.isolate('t1', child.pid!);
    await eventually(() => fs.existsSync(path.join(dir, 'nprocs')) && fs.readFileSync(path.join(dir, 'nprocs'), 'utf8').trim() !== '', 'the task to start');
    assert.equal(fs.readFileSync(path.join(dir, 'pid1'), 'utf8').trim(), '1', 'the task is pid 1 of its own namespace');
    const all = await eventually(() => iso.launcher!.pids('t1').length >= 4 && iso.launcher!.pids('t1'), 'the daemon to start');
    const usage = await iso.usage('t1');
    assert.equal(usage.cpus_limit, 0.25);
    assert.equal(usage.mem_limit_bytes, 64 * 2 ** 20);
    assert.ok(usage.mem_total_bytes > 0);
    assert.ok(usage.processes >= 4, `processes ${usage.processes}`);
    assert.equal(cg.read('cpu', 't1', 'cpu.cfs_quota_us').trim(), '25000');
    await iso.destroy('t1');
    for (const pid of all) assert.equal(isAlive(pid), false, `pid ${pid} survived destroy`);
    for (const c of ['freezer', 'cpu', 'cpuacct', 'memory', 'pids']) assert.equal(cg.exists(c, 't1'), false, `${c} cgroup left`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a task over its memory limit is OOM-killed and watch() reports REASON_CONTAINER_LIMITATION_MEMORY', async () => {
    const iso = createIsolation('cgroups/mem', { clock, cgroups: cg, launcher: 'linux', oomPollMs: 20 });
    const dir = tempDir('meseta-oom-');
    const prepared = await iso.prepare(config('t2', [res('mem', 48)], dir));
    const limitation = iso.watch('t2');
    const hog = `exec "${process.execPath}" -e "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"`;
    const child = spawn(prepared.launchPrefix[0]!, [...prepared.launchPrefix.slice(1), '/bin/sh', '-c', hog], { cwd: dir, stdio: 'ignore' });
    await iso.isolate('t2', child.pid!);
    const l = await limitation;
    assert.equal(l.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
    assert.match(l.message, /^Memory limit exceeded: Requested: 48MB Maximum Used: /);
    await iso.destroy('t2');
    assert.equal(cg.exists('memory', 't2'), false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
