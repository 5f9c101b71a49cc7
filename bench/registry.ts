// `npm run bench -- registry [--agents N] [--window W]`
//
// The registrar over the durable disk store (FT-02), in a temp work dir:
//   registry.admit_burst    N admissions issued at once: wall time, stores, agents/s
//   registry.admit_window   N admissions with W outstanding at a time (agents registering
//                           concurrently): wall time, stores, store latency percentiles
//   registry.recover        a new registrar recovering the N-agent registry: fetch+decode+store
//   registry.gc             marking N/2 agents unreachable, then pruning them all by age
// Prints one JSON line per scenario on stdout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SystemClock } from '../src/common/clock.js';
import { LocalDiskStore, Registrar } from '../src/master/registry/index.js';
import type { Msg } from '../src/protocol/codec.js';
import { numberArg as arg } from './support/args.js';

const AGENTS = arg('agents', 10_000);
const WINDOW = arg('window', 100);
const MASTER: Msg = { id: 'bench-master', ip: 16777343, port: 5050, hostname: 'localhost' };
const r2 = (n: number) => Math.round(n * 100) / 100;

function agentInfo(prefix: string, i: number): Msg {
  return {
    hostname: `agent-${i}.cluster.example.com`,
    port: 5051,
    id: { value: `${prefix}-S${i}` },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 24 }, role: '*' },
      { name: 'mem', type: 'SCALAR', scalar: { value: 65536 }, role: '*' },
      { name: 'disk', type: 'SCALAR', scalar: { value: 409600 }, role: '*' },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] }, role: '*' },
    ],
    attributes: [{ name: 'rack', type: 'TEXT', text: { value: `rack-${i % 40}` } }],
  };
}

async function withRegistrar<T>(dir: string, fn: (r: Registrar) => Promise<T>): Promise<T> {
  const r = new Registrar({ store: new LocalDiskStore(dir), clock: new SystemClock() });
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

function print(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-bench-registry-'));
  try {
    const burstDir = path.join(root, 'burst');
    await withRegistrar(burstDir, async (r) => {
      await r.recover(MASTER);
      const before = r.storeCount;
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: AGENTS }, (_, i) => r.admitAgent(agentInfo('burst', i))));
      const ms = performance.now() - t0;
      loop.disable();
      const m = r.metrics();
      print({
        bench: 'registry.admit_burst', agents: AGENTS, ms: r2(ms), agents_per_sec: Math.round(AGENTS / (ms / 1000)),
        stores: r.storeCount - before, registry_bytes: m['registrar/registry_size_bytes'],
        max_event_loop_delay_ms: r2(loop.max / 1e6),
      });
    });

    const windowDir = path.join(root, 'window');
    await withRegistrar(windowDir, async (r) => {
      await r.recover(MASTER);
      const before = r.storeCount;
      let next = 0;
      const t0 = performance.now();
      const worker = async () => {
        while (next < AGENTS) await r.admitAgent(agentInfo('window', next++));
      };
      await Promise.all(Array.from({ length: WINDOW }, worker));
      const ms = performance.now() - t0;
      const m = r.metrics();
      print({
        bench: 'registry.admit_window', agents: AGENTS, window: WINDOW, ms: r2(ms),
        agents_per_sec: Math.round(AGENTS / (ms / 1000)), stores: r.storeCount - before,
        store_ms_p50: r2(m['registrar/state_store_ms/p50']!), store_ms_p99: r2(m['registrar/state_store_ms/p99']!),
        store_ms_max: r2(m['registrar/state_store_ms/max']!), registry_bytes: m['registrar/registry_size_bytes'],
      });
    });

    await withRegistrar(windowDir, async (r) => {
      const t0 = performance.now();
      const state = await r.recover({ ...MASTER, id: 'bench-master-2' });
      const ms = performance.now() - t0;
      print({
        bench: 'registry.recover', agents: state.slaves?.slaves?.length ?? 0, ms: r2(ms),
        fetch_ms: r2(r.metrics()['registrar/state_fetch_ms']!), registry_bytes: r.metrics()['registrar/registry_size_bytes'],
      });

      const half = Math.floor(AGENTS / 2);
      const now = Date.now();
      const t1 = performance.now();
      await Promise.all(Array.from({ length: half }, (_, i) => r.markUnreachable(`window-S${i}`, now - 86_400_000)));
      const markMs = performance.now() - t1;
      const t2 = performance.now();
      const pruned = await r.gc(3_600_000, 102_400, now);
      print({
        bench: 'registry.gc', unreachable: half, mark_unreachable_ms: r2(markMs), pruned: pruned.unreachable.length,
        gc_ms: r2(performance.now() - t2),
      });
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
