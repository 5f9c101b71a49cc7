// The cgroup v1 library against the in-memory twin (always) and the kernel (when root with
// v1 controllers mounted; otherwise the real-kernel tests skip and say why).
import assert from 'node:assert/strict';
import { describe, it, after } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import {
  Cgroups,
  MemoryCgroupsFs,
  cfsQuotaUs,
  cpuShares,
  cpuStats,
  cpuacctStats,
  destroyCgroups,
  memoryLimitBytes,
  memoryStats,
  parseMountLines,
  processStats,
  watchOom,
} from '../../src/agent/containerizer/cgroups/index.js';
import { MOUNTS, RefClock, eventually, isAlive, cleanupRoot, realCgroupsMissing, sleep, spawnInCgroups, testRoot } from './helpers.js';

describe('cgroups: pure parts', () => {
  it('parses cgroup v1 mounts, keeping co-mounted controllers together and ignoring named and v2 hierarchies', () => {
    const m = parseMountLines(MOUNTS);
    assert.deepEqual(m[0], { dir: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] });
    assert.equal(m.length, 5);
    const cg = new Cgroups({ fs: new MemoryCgroupsFs(MOUNTS) });
    assert.deepEqual(cg.controllers(), ['cpu', 'cpuacct', 'devices', 'freezer', 'memory', 'pids']);
    assert.equal(cg.path('cpuacct', 'c1'), '/sys/fs/cgroup/cpu,cpuacct/mesos/c1');
    assert.throws(() => cg.path('blkio', 'c1'), /cgroup controller 'blkio' is not mounted/);
    assert.throws(() => cg.path('memory', '../x'), /Invalid container id/);
  });

  it('only uses mounts under --cgroups_hierarchy', () => {
    const cg = new Cgroups({ fs: new MemoryCgroupsFs(MOUNTS), hierarchy: '/elsewhere' });
    assert.deepEqual(cg.controllers(), []);
  });

  it('computes Mesos limits: 1024 shares per cpu (min 2), CFS quota per 100 ms (min 1 ms), memory min 32 MB', () => {
    assert.equal(cpuShares(0.5), 512);
    assert.equal(cpuShares(0.001), 2);
    assert.equal(cpuShares(2, true), 20);
    assert.equal(cfsQuotaUs(0.5), 50_000);
    assert.equal(cfsQuotaUs(0.001), 1000);
    assert.equal(memoryLimitBytes(16 * 2 ** 20), 32 * 2 ** 20);
    assert.equal(memoryLimitBytes(128 * 2 ** 20), 128 * 2 ** 20);
  });

  it('reads statistics from the control files', () => {
    const fs = new MemoryCgroupsFs(MOUNTS);
    const cg = new Cgroups({ fs });
    for (const c of ['cpu', 'memory', 'pids']) cg.create(c, 'c1');
    fs.set(cg.path('cpuacct', 'c1') + '/cpuacct.stat', 'user 250\nsystem 50\n');
    fs.set(cg.path('cpu', 'c1') + '/cpu.stat', 'nr_periods 40\nnr_throttled 7\nthrottled_time 1500000000\n');
    fs.set(cg.path('memory', 'c1') + '/memory.stat', 'rss 1\ncache 2\ntotal_rss 4096\ntotal_cache 8192\ntotal_mapped_file 100\ntotal_swap 0\n');
    fs.set(cg.path('memory', 'c1') + '/memory.usage_in_bytes', '12288\n');
    cg.write('memory', 'c1', 'memory.limit_in_bytes', 64 * 2 ** 20);
    assert.deepEqual(cpuacctStats(cg, 'c1'), { cpus_user_time_secs: 2.5, cpus_system_time_secs: 0.5 });
    assert.deepEqual(cpuStats(cg, 'c1'), { cpus_nr_periods: 40, cpus_nr_throttled: 7, cpus_throttled_time_secs: 1.5 });
    const mem = memoryStats(cg, 'c1');
    assert.equal(mem.mem_rss_bytes, 4096);
    assert.equal(mem.mem_cache_bytes, 8192);
    assert.equal(mem.mem_total_bytes, 12288);
    assert.equal(mem.mem_limit_bytes, 64 * 2 ** 20);
    assert.equal(mem.mem_soft_limit_bytes, undefined, 'an unlimited soft limit is left out');
  });

  it('kill-all on the twin: freezes, SIGKILLs every listed pid, thaws, removes the cgroups', async () => {
    const fs = new MemoryCgroupsFs(MOUNTS);
    const cg = new Cgroups({ fs });
    for (const c of ['freezer', 'memory']) cg.create(c, 'c1');
    cg.assign('freezer', 'c1', 101);
    cg.assign('freezer', 'c1', 102);
    cg.assign('memory', 'c1', 101);
    const killed: number[] = [];
    const clock = new ManualClock();
    await destroyCgroups(cg, 'c1', ['freezer', 'memory', 'pids'], {
      clock,
      kill: (pid) => {
        killed.push(pid);
        fs.clearProcs(cg.path('freezer', 'c1'));
        fs.clearProcs(cg.path('memory', 'c1'));
      },
    });
    assert.deepEqual(killed.sort(), [101, 102]);
    const states = fs.writes.filter((w) => w.path.endsWith('freezer.state')).map((w) => w.text);
    assert.deepEqual(states, ['FROZEN', 'THAWED']);
    assert.equal(cg.exists('freezer', 'c1'), false);
    assert.equal(cg.exists('memory', 'c1'), false);
  });

  it('OOM watch resolves when the oom_kill counter moves past its value at the start', async () => {
    const fs = new MemoryCgroupsFs(MOUNTS);
    const cg = new Cgroups({ fs });
    cg.create('memory', 'c1');
    const file = cg.path('memory', 'c1') + '/memory.oom_control';
    fs.set(file, 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    const clock = new ManualClock();
    const w = watchOom(cg, 'c1', clock, 100);
    let fired = false;
    void w.oom.then(() => (fired = true));
    clock.advance(500);
    await Promise.resolve();
    assert.equal(fired, false, 'an old count is not a new OOM');
    fs.set(file, 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
    clock.advance(100);
    await w.oom;
    assert.equal(clock.pending(), 0, 'the poll stops once it fired');
  });
});

const missing = realCgroupsMissing(['cpu', 'cpuacct', 'memory', 'pids', 'freezer']);

describe('cgroups: real kernel', { skip: missing && `real cgroups unavailable: ${missing}` }, () => {
  const cg = new Cgroups({ root: testRoot('cg') });
  const clock = new RefClock();
  after(() => cleanupRoot(cg, clock));

  it('kill-all leaves no process (daemons and grandchildren included) and no cgroup', async () => {
    const id = 'killall';
    const controllers = ['freezer', 'memory', 'pids', 'cpu', 'cpuacct'];
    for (const c of controllers) cg.create(c, id);
    const files = controllers.map((c) => `${cg.path(c, id)}/cgroup.procs`);
    // A task that double-forks daemons (setsid, parent exits) and keeps grandchildren.
    const child = spawnInCgroups(files, '(setsid sh -c "sleep 300 & sleep 300" &) ; (sleep 300 &) ; sleep 300 & wait');
    child.unref();
    const pids = await eventually(() => {
      const p = cg.procs('freezer', id);
      return p.length >= 5 && p;
    }, 'the processes to start');
    assert.equal(processStats(cg, id, 'pids').processes, pids.length);
    await destroyCgroups(cg, id, controllers, { clock });
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} survived`);
    for (const c of controllers) assert.equal(cg.exists(c, id), false, `${c} cgroup left behind`);
  });

  it('a process allocating past memory.limit_in_bytes is OOM-killed and the watch reports it', async () => {
    const id = 'oom';
    cg.create('memory', id);
    cg.create('freezer', id);
    cg.write('memory', id, 'memory.limit_in_bytes', 64 * 2 ** 20);
    const w = watchOom(cg, id, clock, 20);
    const files = ['memory', 'freezer'].map((c) => `${cg.path(c, id)}/cgroup.procs`);
    const child = spawnInCgroups(files, `exec "${process.execPath}" -e "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"`);
    const exit = new Promise<string | null>((r) => child.once('exit', (_c, s) => r(s)));
    await w.oom;
    assert.equal(await exit, 'SIGKILL');
    assert.ok(memoryStats(cg, id).mem_limit_bytes === 64 * 2 ** 20);
    await destroyCgroups(cg, id, ['memory', 'freezer'], { clock });
  });

  it('a busy loop under a 0.5-cpu CFS quota is throttled to about half a core', async (t) => {
    const id = 'cfs';
    for (const c of ['cpu', 'cpuacct', 'freezer']) cg.create(c, id);
    cg.write('cpu', id, 'cpu.cfs_period_us', 100_000);
    cg.write('cpu', id, 'cpu.cfs_quota_us', cfsQuotaUs(0.5));
    const files = ['cpu', 'cpuacct', 'freezer'].map((c) => `${cg.path(c, id)}/cgroup.procs`);
    spawnInCgroups(files, 'while :; do :; done').unref();
    await eventually(() => cg.procs('cpu', id).length > 0, 'the loop to start');
    const usage = () => Number(cg.read('cpuacct', id, 'cpuacct.usage').trim());
    const u0 = usage();
    const t0 = process.hrtime.bigint();
    await sleep(2000);
    const ratio = (usage() - u0) / Number(process.hrtime.bigint() - t0);
    const stat = cpuStats(cg, id);
    await destroyCgroups(cg, id, ['freezer', 'cpu', 'cpuacct'], { clock });
    // The quota caps the loop at 0.5 cpu; the band is wide because the machine is shared.
    t.diagnostic(`busy loop under a 0.5 quota used ${ratio.toFixed(2)} cpu`);
    assert.ok(ratio <= 0.7, `used ${ratio.toFixed(2)} cpu under a 0.5 quota`);
    assert.ok(ratio >= 0.3, `the loop got only ${ratio.toFixed(2)} cpu under a 0.5 quota`);
    assert.ok(stat.cpus_nr_throttled! > 0, 'CFS throttled the loop');
    assert.ok(stat.cpus_nr_periods! >= stat.cpus_nr_throttled!);
  });

  it('a fork bomb is stopped at pids.max', async () => {
    const id = 'forkbomb';
    for (const c of ['pids', 'freezer']) cg.create(c, id);
    cg.write('pids', id, 'pids.max', 16);
    const files = ['pids', 'freezer'].map((c) => `${cg.path(c, id)}/cgroup.procs`);
    // Each shell keeps spawning sleepers until fork fails; the bomb never gets past 16.
    spawnInCgroups(files, 'b() { while :; do sleep 300 & done; }; b & b & b & wait').unref();
    const events = await eventually(() => {
      const e = cg.read('pids', id, 'pids.events');
      return /max [1-9]/.test(e) && e;
    }, 'the kernel to refuse a fork');
    assert.match(events, /max [1-9]/);
    assert.ok(Number(cg.read('pids', id, 'pids.current').trim()) <= 16);
    if (cg.fs.exists(`${cg.path('pids', id)}/pids.peak`)) assert.ok(Number(cg.read('pids', id, 'pids.peak').trim()) <= 16);
    await destroyCgroups(cg, id, ['freezer', 'pids'], { clock });
    assert.equal(cg.exists('pids', id), false);
  });
});
