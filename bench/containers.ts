// `npm run bench -- containers [--containers=200] [--concurrency=1]` (a bare number also sets
// --containers). Containers in real cgroups through the agent's containerizer (the linux launcher
// and --isolation=cgroups/cpu,cgroups/mem,cgroups/pids): launch N `sleep 600` containers, each in
// its own cpu+cpuacct, memory, pids and freezer cgroups, then destroy them all. One JSON line each:
//   containers.launch   launch() until it resolved (sandbox files, cgroups created, supervisor
//                       spawned and joined its cgroups, pid checkpointed), per container and total
//   containers.memory   this process's (the agent's) heap and RSS per live container
//   containers.destroy  destroy() until it resolved (SIGKILL of the group, freezer kill-all,
//                       cgroups removed, run dir removed), per container and total
// Needs root and cgroup v1 controllers; otherwise prints one {"skipped": "..."} line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SystemClock } from '../src/common/clock.js';
import { Cgroups } from '../src/agent/containerizer/cgroups/index.js';
import { createContainerizer } from '../src/agent/containerizer/index.js';
import { numberArg } from './support/args.js';

const bare = process.argv.slice(2).find((a) => /^\d+$/.test(a));
const N = numberArg('containers', bare ? Number(bare) : 200);
const CONCURRENCY = Math.max(1, numberArg('concurrency', 1));
const ISOLATION = 'cgroups/cpu,cgroups/mem,cgroups/pids';
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
function summary(samples: number[]): Record<string, number> {
  const s = [...samples].sort((a, b) => a - b);
  return { p50_ms: round(percentile(s, 50)), p99_ms: round(percentile(s, 99)), max_ms: round(s[s.length - 1] ?? NaN) };
}

/** Runs fn(i) for i < n, at most `limit` at a time; returns each call's duration in ms. */
async function timed(n: number, limit: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const took: number[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const t = performance.now();
      await fn(i);
      took[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return took;
}

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
    emit({ bench: 'containers', skipped: why });
    clearInterval(keepAlive);
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-bench-containers-'));
  const containerizer = createContainerizer({
    clock,
    workDir: root,
    launcher: 'linux',
    isolation: ISOLATION,
    isolationOptions: { cgroups: cg, enableCfs: true },
  });
  const params = { containers: N, concurrency: CONCURRENCY, isolation: ISOLATION, launcher: 'linux', command: 'sleep 600', cpus: 0.1, mem_mb: 32 };
  const resources = [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
  ];
  const ids = Array.from({ length: N }, (_, i) => `bench-${i}`);
  const sandboxes = ids.map((id) => path.join(root, 'sandboxes', id));
  for (const s of sandboxes) fs.mkdirSync(s, { recursive: true });
  try {
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const launchMs = await timed(N, CONCURRENCY, (i) =>
      containerizer.launch({ containerId: ids[i]!, sandbox: sandboxes[i]!, command: { value: 'sleep 600' }, env: {}, resources }),
    );
    const launchS = (performance.now() - t0) / 1000;
    // A container counts only once its supervisor is inside its cgroups. It joins them itself,
    // before it execs (the launch prefix), so the last ones may still be on their way.
    const joined = (id: string) => cg.procs('memory', id).length > 0 && cg.procs('freezer', id).length > 0;
    let inside = 0;
    for (const deadline = performance.now() + 5000; ; await new Promise((r) => setTimeout(r, 10))) {
      inside = ids.filter(joined).length;
      if (inside === N || performance.now() > deadline) break;
    }
    const allInS = (performance.now() - t0) / 1000;
    emit({
      bench: 'containers.launch',
      params,
      ...summary(launchMs),
      seconds: round(launchS, 3),
      per_second: round(N / launchS, 1),
      in_cgroups: inside,
      all_in_cgroups_after_s: round(allInS, 3),
    });

    gc();
    const mem = process.memoryUsage();
    emit({
      bench: 'containers.memory',
      params,
      agent_heap_kb_per_container: round((mem.heapUsed - heap0) / 1024 / N, 1),
      agent_rss_kb_per_container: round((mem.rss - rss0) / 1024 / N, 1),
    });

    const t1 = performance.now();
    const destroyMs = await timed(N, CONCURRENCY, (i) => containerizer.destroy(ids[i]!));
    const destroyS = (performance.now() - t1) / 1000;
    const left = ids.filter((id) => ['cpu', 'memory', 'pids', 'freezer'].some((c) => cg.exists(c, id))).length;
    emit({ bench: 'containers.destroy', params, ...summary(destroyMs), seconds: round(destroyS, 3), per_second: round(N / destroyS, 1), cgroups_left: left });
  } finally {
    await Promise.all(ids.map((id) => containerizer.destroy(id).catch(() => undefined)));
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
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
