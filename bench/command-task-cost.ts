// What one running command task costs beyond the task itself: the /bin/sh supervisor's memory
// (RSS, PSS, private) and CPU, the agent's CPU and heap per launch, and launch/destroy rates.
// Usage: npm run bench -- command-task-cost [--tasks=200] (a bare number also sets --tasks).
// Prints one JSON line: {"bench":"command_task_cost","params":{...},"p50_ms":...,...} where p50/p99
// are the containerizer's launch() latency for the long-running tasks, launched one at a time.
// Memory is read from /proc/<supervisor>/smaps_rollup: PSS shares dash's pages among the N
// supervisors, private is what each one alone costs; RSS counts the shared libraries in full.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SystemClock } from '../src/common/clock.js';
import { createContainerizer } from '../src/agent/containerizer/index.js';
import { numberArg } from './support/args.js';

const bare = process.argv.slice(2).find((a) => /^\d+$/.test(a));
const N = numberArg('tasks', Number(bare ?? 200));
const TICKS = 100; // USER_HZ on Linux
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function statFields(pid: number | 'self'): string[] {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}
/** utime+stime (own) and cutime+cstime (reaped children), in ms. */
function cpuMs(pid: number | 'self'): { own: number; children: number } {
  const f = statFields(pid);
  return { own: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS, children: ((Number(f[13]) + Number(f[14])) * 1000) / TICKS };
}
function memKb(pid: number): { rss: number; pss: number; priv: number } {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
  return { rss: field('Rss'), pss: field('Pss'), priv: field('Private_Clean') + field('Private_Dirty') };
}
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-bench-cmd-'));
  const containerizer = createContainerizer({ clock: new SystemClock(), workDir: root });
  const sandboxes: string[] = [];
  for (let i = 0; i < N; i++) {
    const s = path.join(root, 'sandboxes', `t${i}`);
    fs.mkdirSync(s, { recursive: true });
    sandboxes.push(s);
  }

  // Phase 1: N long-running tasks, launched one after another.
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const pids: number[] = [];
  const took: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const { pid } = await containerizer.launch({
      containerId: `long-${i}`,
      sandbox: sandboxes[i]!,
      command: { value: 'sleep 30' },
      env: {},
    });
    pids.push(pid);
    took.push(performance.now() - t);
  }
  took.sort((a, b) => a - b);
  const pct = (p: number) => took[Math.min(N - 1, Math.max(0, Math.ceil((p / 100) * N) - 1))]!;
  const launchMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpuBefore);
  gc();
  const heapPerContainer = (process.memoryUsage().heapUsed - heapBefore) / N;
  // Let every supervisor reach its steady state (forked the task and waiting).
  await new Promise((r) => setTimeout(r, 300));
  const mem = pids.map(memKb);
  const supervisorCpu = pids.map((p) => cpuMs(p).own);

  const d0 = performance.now();
  await Promise.all(pids.map((_, i) => containerizer.destroy(`long-${i}`, 1000)));
  const destroyMs = performance.now() - d0;

  // Phase 2: N short tasks (`true`) run to completion: everything the supervisors and their
  // children cost, including recording the status, lands in this process's children times.
  const childrenBefore = cpuMs('self').children;
  const agentBefore = process.cpuUsage();
  const s0 = performance.now();
  await Promise.all(
    sandboxes.map(async (sandbox, i) => {
      await containerizer.launch({ containerId: `short-${i}`, sandbox, command: { value: 'true' }, env: {} });
      await containerizer.wait(`short-${i}`);
      await containerizer.destroy(`short-${i}`);
    }),
  );
  const shortMs = performance.now() - s0;
  const agentShort = process.cpuUsage(agentBefore);
  const childrenShort = cpuMs('self').children - childrenBefore;

  fs.rmSync(root, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      bench: 'command_task_cost',
      params: { tasks: N, command: 'sleep 30 (memory, launch), true (short tasks)', isolation: 'posix/cpu,posix/mem' },
      p50_ms: round(pct(50), 2),
      p99_ms: round(pct(99), 2),
      supervisor_rss_kb: round(avg(mem.map((m) => m.rss)), 1),
      supervisor_pss_kb: round(avg(mem.map((m) => m.pss)), 1),
      supervisor_private_kb: round(avg(mem.map((m) => m.priv)), 1),
      supervisor_cpu_ms_while_running: round(avg(supervisorCpu), 2),
      agent_heap_bytes_per_container: Math.round(heapPerContainer),
      agent_cpu_ms_per_launch: round((cpu.user + cpu.system) / 1000 / N, 3),
      launches_per_sec_sequential: round((N / launchMs) * 1000, 1),
      destroy_all_ms: round(destroyMs, 1),
      short_task_total_ms: round(shortMs, 1),
      short_task_agent_cpu_ms_per_task: round((agentShort.user + agentShort.system) / 1000 / N, 3),
      short_task_children_cpu_ms_per_task: round(childrenShort / N, 3),
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
