// The wiring docs/containers.md proposes, checked against the posix containerizer's real
// supervisor script: launch prefix (cgroup join, unshare) + /bin/sh supervisor, SIGTERM to
// the process group, the supervisor's status file, then Isolation.destroy.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Cgroups } from '../../src/agent/containerizer/cgroups/index.js';
import { createIsolation } from '../../src/agent/containerizer/isolators/index.js';
import { programFor, supervisorArgv } from '../../src/agent/containerizer/supervisor.js';
import { RefClock, cleanupRoot, eventually, isAlive, realCgroupsMissing, tempDir, testRoot } from './helpers.js';

const missing = realCgroupsMissing(['cpu', 'cpuacct', 'memory', 'pids', 'freezer']);

describe('wiring: supervisor under the launch prefix', { skip: missing && `real cgroups unavailable: ${missing}` }, () => {
  const clock = new RefClock();
  const cg = new Cgroups({ root: testRoot('wiring') });
  after(() => cleanupRoot(cg, clock));

  for (const isolation of ['cgroups/cpu,cgroups/mem', 'cgroups/cpu,cgroups/mem,namespaces/pid']) {
    it(`${isolation}: the task starts inside its cgroups, a graceful kill records its status, destroy cleans up`, async () => {
      const iso = createIsolation(isolation, { clock, cgroups: cg, launcher: 'linux' });
      const id = isolation.includes('namespaces') ? 'w-ns' : 'w-plain';
      const sandbox = tempDir('meseta-wiring-');
      const runDir = path.join(sandbox, 'run');
      fs.mkdirSync(runDir);
      const prepared = await iso.prepare({ containerId: id, sandbox, resources: [{ name: 'mem', type: 'SCALAR', scalar: { value: 64 } }] });
      const argv = [...prepared.launchPrefix, '/bin/sh', ...supervisorArgv(runDir, programFor({ value: 'sleep 300 & wait' }))];
      const child = spawn(argv[0]!, argv.slice(1), { cwd: sandbox, detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...prepared.env } });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      await iso.isolate(id, child.pid!);
      // The supervisor, the task shell and sleep (plus unshare) are all in every cgroup.
      const members = await eventually(() => {
        const p = cg.procs('freezer', id);
        return p.length >= 3 && p;
      }, 'the task to start');
      assert.ok(members.includes(child.pid!), 'the spawned pid itself joined');
      assert.deepEqual(cg.procs('memory', id).sort(), [...members].sort());
      assert.ok(fs.existsSync(path.join(runDir, 'forked.pid')));

      process.kill(-child.pid!, 'SIGTERM');
      const code = await exited;
      assert.equal(fs.readFileSync(path.join(runDir, 'status'), 'utf8').trim(), '143', 'the supervisor outlived SIGTERM and recorded the task status');
      assert.equal(code, 143);
      await iso.destroy(id);
      for (const pid of members) assert.equal(isAlive(pid), false);
      for (const c of ['freezer', 'cpu', 'memory']) assert.equal(cg.exists(c, id), false);
      fs.rmSync(sandbox, { recursive: true, force: true });
    });
  }
});
