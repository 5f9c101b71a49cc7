// The containerizer with its isolators and fetcher wired in: usage from the default posix
// isolators everywhere; with real cgroups (root, cgroup v1), OOM limitations, kill-all on
// destroy, cgroup removal, fetch-before-run, user switching inside cgroups.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { createContainerizer, type LaunchSpec } from '../../src/agent/containerizer/index.js';
import { Cgroups } from '../../src/agent/containerizer/cgroups/index.js';
import { lookupUser } from '../../src/agent/containerizer/users.js';
import { RefClock, cleanupRoot, realCgroupsMissing, testRoot } from '../isolation/helpers.js';
import { eventually, isAlive, tempDir } from './helpers.js';

const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value } });
let n = 0;

function spec(root: string, command: LaunchSpec['command'], resources = [res('cpus', 0.5), res('mem', 64)]): LaunchSpec {
  const id = `iso-${process.pid}-${++n}`;
  const sandbox = path.join(root, 'sandboxes', id);
  fs.mkdirSync(sandbox, { recursive: true });
  return { containerId: id, sandbox, command, env: {}, resources };
}

describe('containerizer: default isolation (posix/cpu,posix/mem)', () => {
  const root = tempDir('meseta-iso-default-');
  const containerizer = createContainerizer({ clock: new ManualClock(), workDir: root });
  after(async () => {
    await Promise.all(containerizer.containers().map((id) => containerizer.destroy(id)));
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('usage() reports limits from the resources and the process tree from /proc', async () => {
    const s = spec(root, { value: 'sleep 30 & touch ready; wait' });
    await containerizer.launch(s);
    await eventually(() => fs.existsSync(path.join(s.sandbox, 'ready')), 'the task to start');
    const u = await containerizer.usage(s.containerId);
    assert.equal(u.cpus_limit, 0.5);
    assert.equal(u.mem_limit_bytes, 64 * 2 ** 20);
    assert.ok(u.processes >= 3, `supervisor, task shell and sleep: ${u.processes}`);
    assert.ok(u.mem_rss_bytes > 0);
    assert.equal(typeof u.timestamp, 'number');
    await containerizer.destroy(s.containerId);
    await assert.rejects(containerizer.usage(s.containerId), /Unknown container/);
  });

  it('fetches CommandInfo.uris before the task runs; a failed fetch rejects launch with Mesos text', async () => {
    const src = tempDir('meseta-iso-src-');
    fs.mkdirSync(path.join(src, 'app'));
    fs.writeFileSync(path.join(src, 'app', 'run.sh'), '#!/bin/sh\necho fetched-and-ran\n', { mode: 0o755 });
    execFileSync('tar', ['-czf', path.join(src, 'app.tar.gz'), '-C', src, 'app']);
    const s = spec(root, { value: './app/run.sh', uris: [{ value: `file://${src}/app.tar.gz` }] });
    await containerizer.launch(s);
    const t = await containerizer.wait(s.containerId);
    assert.equal(t.status, 0);
    assert.equal(fs.readFileSync(path.join(s.sandbox, 'stdout'), 'utf8'), 'fetched-and-ran\n');
    assert.ok(fs.existsSync(path.join(s.sandbox, 'app.tar.gz')), 'the archive stays in the sandbox');
    await containerizer.destroy(s.containerId);

    const bad = spec(root, { value: 'true', uris: [{ value: `${src}/missing.tar.gz` }] });
    await assert.rejects(
      containerizer.launch(bad),
      (e: Error) => e.message.startsWith(`Failed to fetch all URIs for container '${bad.containerId}': Failed to fetch '${src}/missing.tar.gz': `),
    );
    assert.deepEqual(containerizer.containers(), []);
    fs.rmSync(src, { recursive: true, force: true });
  });

  it('destroy() while fetching: launch gives up before anything runs', async () => {
    let release!: () => void;
    let requested!: () => void;
    const gotRequest = new Promise<void>((r) => (requested = r));
    const server = http.createServer((_req, res) => {
      requested();
      release = () => res.writeHead(200).end('#!/bin/sh\ntouch ran\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/run.sh`;
      const s = spec(root, { value: './run.sh', uris: [{ value: url, executable: true }] });
      const launched = containerizer.launch(s);
      await gotRequest;
      assert.deepEqual(containerizer.containers(), [s.containerId], 'a launching container is listed');
      const destroyed = containerizer.destroy(s.containerId);
      release();
      await assert.rejects(launched, /^Error: Container destroyed while fetching$/);
      await destroyed;
      assert.deepEqual(containerizer.containers(), []);
      assert.equal(fs.existsSync(path.join(s.sandbox, 'ran')), false);
    } finally {
      server.close();
    }
  });

  it('refuses an unknown isolator or launcher with a clear message', () => {
    assert.throws(() => createContainerizer({ clock: new ManualClock(), workDir: root, isolation: 'cgroups/bogus' }), /Unknown or unsupported isolator 'cgroups\/bogus'/);
    assert.throws(() => createContainerizer({ clock: new ManualClock(), workDir: root, launcher: 'windows' }), /Unknown or unsupported launcher: 'windows'/);
  });
});

const missing = realCgroupsMissing(['cpu', 'cpuacct', 'memory', 'pids', 'freezer']);
if (missing) console.log(`# SKIP real-cgroup containerizer tests: ${missing}`);

describe('containerizer: real cgroups, linux launcher', { skip: missing && `real cgroups unavailable: ${missing}` }, () => {
  const clock = new RefClock();
  const cgroupsRoot = testRoot('containerizer');
  const cg = new Cgroups({ root: cgroupsRoot });
  const root = tempDir('meseta-iso-cg-');
  // Other users must reach the sandboxes (user switching below).
  fs.chmodSync(root, 0o755);
  const containerizer = createContainerizer({
    clock,
    workDir: root,
    launcher: 'linux',
    isolation: 'cgroups/cpu,cgroups/mem,cgroups/pids',
    isolationOptions: { cgroups: cg, enableCfs: true, oomPollMs: 20, kernelClock: clock },
  });
  after(async () => {
    await Promise.all(containerizer.containers().map((id) => containerizer.destroy(id)));
    await cleanupRoot(cg, clock);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('the task runs in its cgroups with Mesos limits; usage comes from cgroups', async () => {
    const s = spec(root, { value: 'touch ready; exec sleep 30' });
    const { pid } = await containerizer.launch(s);
    await eventually(() => fs.existsSync(path.join(s.sandbox, 'ready')), 'the task to start');
    for (const c of ['freezer', 'cpu', 'memory', 'pids']) assert.ok(cg.procs(c, s.containerId).includes(pid), `supervisor in ${c}`);
    assert.equal(cg.read('cpu', s.containerId, 'cpu.shares').trim(), '512');
    assert.equal(cg.read('cpu', s.containerId, 'cpu.cfs_quota_us').trim(), '50000');
    assert.equal(cg.read('memory', s.containerId, 'memory.limit_in_bytes').trim(), String(64 * 2 ** 20));
    const u = await containerizer.usage(s.containerId);
    assert.equal(u.cpus_limit, 0.5);
    assert.equal(u.mem_limit_bytes, 64 * 2 ** 20);
    assert.ok(u.mem_total_bytes > 0, 'memory.usage_in_bytes');
    assert.equal(u.processes, 2, 'supervisor and sleep, from cgroup.procs');
    assert.equal(typeof u.cpus_nr_periods, 'number', 'CFS statistics');
    await containerizer.destroy(s.containerId);
    for (const c of ['freezer', 'cpu', 'memory', 'pids']) assert.equal(cg.exists(c, s.containerId), false, `${c} cgroup removed`);
  });

  it('helperPrefix() runs a helper inside the container\'s cgroups and, with namespaces/pid, its pid namespace', async () => {
    const withNs = createContainerizer({
      clock,
      workDir: root,
      launcher: 'linux',
      isolation: 'cgroups/mem,namespaces/pid',
      isolationOptions: { cgroups: cg, kernelClock: clock },
    });
    for (const c of [containerizer, withNs]) {
      const s = spec(root, { value: 'touch ready; exec sleep 30' });
      const { pid } = await c.launch(s);
      await eventually(() => fs.existsSync(path.join(s.sandbox, 'ready')), 'the task to start');
      const prefix = c.helperPrefix(s.containerId);
      const out = execFileSync(prefix[0]!, [...prefix.slice(1), '/bin/sh', '-c', 'readlink /proc/self/ns/pid; grep -E ":(freezer|memory):" /proc/self/cgroup'], { encoding: 'utf8' });
      const [ns, ...cgroups] = out.trim().split('\n');
      assert.ok(cgroups.every((l) => l.endsWith(`/${cgroupsRoot}/${s.containerId}`)), out);
      assert.equal(cgroups.length, 2, out);
      const taskPid = cg.procs('freezer', s.containerId).find((p) => p !== pid)!;
      const taskNs = fs.readlinkSync(`/proc/${taskPid}/ns/pid`);
      assert.equal(ns, taskNs, 'the helper shares the task\'s pid namespace');
      assert.equal(ns !== fs.readlinkSync('/proc/self/ns/pid'), c === withNs, 'only namespaces/pid gives the task its own');
      await c.destroy(s.containerId);
      assert.deepEqual(c.helperPrefix(s.containerId), []);
    }
  });

  it('an OOM kill ends the container with REASON_CONTAINER_LIMITATION_MEMORY', async () => {
    const hog = `exec "${process.execPath}" -e "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"`;
    const s = spec(root, { value: hog }, [res('cpus', 1), res('mem', 48)]);
    await containerizer.launch(s);
    const t = await containerizer.wait(s.containerId);
    assert.equal(t.limitation?.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
    assert.match(t.limitation!.message, /^Memory limit exceeded: Requested: 48MB Maximum Used: /);
    assert.deepEqual(t.limitation!.resources, [res('mem', 48)]);
    await containerizer.destroy(s.containerId);
    assert.equal(cg.exists('memory', s.containerId), false);
  });

  it('destroy kills every process, setsid daemons included, and removes every cgroup', async () => {
    const s = spec(root, { value: 'setsid sh -c "sleep 300" & sleep 300 & echo $! > pids; touch ready; wait' });
    await containerizer.launch(s);
    await eventually(() => fs.existsSync(path.join(s.sandbox, 'ready')), 'the task to start');
    const members = await eventually(() => {
      const p = cg.procs('freezer', s.containerId);
      return p.length >= 5 && p;
    }, 'the daemon to start');
    await containerizer.destroy(s.containerId);
    for (const pid of members) assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
    for (const c of ['freezer', 'cpu', 'cpuacct', 'memory', 'pids']) assert.equal(cg.exists(c, s.containerId), false, `${c} cgroup removed`);
    const t = await containerizer.wait(s.containerId);
    assert.equal(t.signal, 'SIGKILL');
  });

  it('a launch that fails after prepare leaves no cgroup behind', async () => {
    const s = spec(root, { value: 'true', uris: [{ value: 'ftp://example.invalid/x' }] });
    await assert.rejects(containerizer.launch(s), /Unsupported URI scheme 'ftp'/);
    for (const c of ['freezer', 'cpu', 'memory', 'pids']) assert.equal(cg.exists(c, s.containerId), false);
  });

  it('switches to the task user after joining the cgroups; the sandbox is the user\'s', { skip: !lookupUser('nobody') && 'no user nobody' }, async () => {
    const nobody = lookupUser('nobody')!;
    const s = spec(root, { value: 'id -u > uid; echo hi > mine' });
    s.user = 'nobody';
    await containerizer.launch(s);
    const t = await containerizer.wait(s.containerId);
    assert.equal(t.status, 0, fs.readFileSync(path.join(s.sandbox, 'stderr'), 'utf8'));
    assert.equal(fs.readFileSync(path.join(s.sandbox, 'uid'), 'utf8').trim(), String(nobody.uid));
    assert.equal(fs.statSync(s.sandbox).uid, nobody.uid);
    assert.equal(fs.statSync(path.join(s.sandbox, 'mine')).uid, nobody.uid);
    await containerizer.destroy(s.containerId);

    const unknown = spec(root, { value: 'true' });
    unknown.user = 'no-such-user-meseta';
    await assert.rejects(containerizer.launch(unknown), /Failed to get user information for 'no-such-user-meseta'/);
  });
});
