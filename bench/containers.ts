// Containers in real cgroups: launch N `sleep` tasks, each in its own cpu+cpuacct, memory,
// pids (and freezer, via the linux launcher) cgroups, then destroy them all.
// Usage: npm run bench -- containers [containers=200]. Prints JSON lines:
//   {"bench":"containers","phase":"launch",...}   prepare + spawn (joining cgroups) + isolate
//   {"bench":"containers","phase":"destroy",...}  kill-all (freezer) + cgroup removal
//   {"bench":"containers","phase":"memory",...}   agent heap/RSS per live container
// Needs root and cgroup v1 controllers; otherwise prints one {"skipped": "..."} line.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SystemClock } from '../src/common/clock.js';
import { Cgroups } from '../src/agent/containerizer/cgroups/index.js';
import { createIsolation } from '../src/agent/containerizer/isolators/index.js';

const N = Number(process.argv[2] ?? 200);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const print = (o: object) => console.log(JSON.stringify({ bench: 'containers', ...o }));

function unavailable(cg: Cgroups): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root';
  const missing = ['cpu', 'cpuacct', 'memory', 'pids', 'freezer'].filter((c) => !cg.isMounted(c));
  return missing.length ? `cgroup v1 controllers not mounted: ${missing.join(', ')}` : undefined;
}

async function main(): Promise<void> {
  const clock = new SystemClock();
  // SystemClock's timers are unref'ed; keep the process alive while we await them.
  const keepAlive = setInterval(() => undefined, 1000);
  const cg = new Cgroups({ root: `meseta-bench-${process.pid}` });
  const why = unavailable(cg);
  if (why) {
    print({ skipped: why });
    clearInterval(keepAlive);
    return;
  }
  const iso = createIsolation('cgroups/cpu,cgroups/mem,cgroups/pids', { clock, cgroups: cg, launcher: 'linux', enableCfs: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-bench-containers-'));
  const resources = [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
  ];
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;

  const t0 = process.hrtime.bigint();
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const id = `bench-${i}`;
    const sandbox = path.join(root, id);
    fs.mkdirSync(sandbox);
    const { launchPrefix, env } = await iso.prepare({ containerId: id, sandbox, resources });
    const argv = [...launchPrefix, '/bin/sh', '-c', 'exec sleep 600'];
    const child = spawn(argv[0]!, argv.slice(1), { cwd: sandbox, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: 'ignore', detached: true });
    child.unref();
    await iso.isolate(id, child.pid!);
    ids.push(id);
  }
  const launchS = Number(process.hrtime.bigint() - t0) / 1e9;
  // Every task must really be inside its cgroups before we count it as launched.
  let inside = 0;
  for (const id of ids) if (cg.procs('memory', id).length > 0) inside++;
  print({ phase: 'launch', containers: N, in_cgroups: inside, seconds: round(launchS), per_second: round(N / launchS, 1), ms_each: round((launchS * 1000) / N) });

  gc();
  const mem = process.memoryUsage();
  print({
    phase: 'memory',
    containers: N,
    agent_heap_bytes_per_container: Math.round((mem.heapUsed - heap0) / N),
    agent_rss_bytes_per_container: Math.round((mem.rss - rss0) / N),
  });

  const t1 = process.hrtime.bigint();
  for (const id of ids) await iso.destroy(id);
  const destroyS = Number(process.hrtime.bigint() - t1) / 1e9;
  const left = ids.filter((id) => ['cpu', 'memory', 'pids', 'freezer'].some((c) => cg.exists(c, id))).length;
  print({ phase: 'destroy', containers: N, cgroups_left: left, seconds: round(destroyS), per_second: round(N / destroyS, 1), ms_each: round((destroyS * 1000) / N) });

  for (const c of cg.controllers()) {
    try {
      fs.rmdirSync(path.join(cg.mountPoint(c), cg.root));
    } catch {
      // not created in this hierarchy
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
  clearInterval(keepAlive);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
