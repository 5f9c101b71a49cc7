// ResourceStatistics fields read from a container's cgroups. Each reader is best effort:
// a file that cannot be read leaves its fields out rather than failing the whole usage().
import fs from 'node:fs';
import type { Cgroups } from './cgroups.js';
import { USER_HZ } from './limits.js';

export type Stats = Record<string, number>;

/** "key value" lines (cpuacct.stat, cpu.stat, memory.stat, memory.oom_control). */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

function tryRead(cg: Cgroups, controller: string, id: string, file: string): string | undefined {
  try {
    return cg.read(controller, id, file);
  } catch {
    return undefined;
  }
}

/** cpus_user/system_time_secs from cpuacct.stat (USER_HZ ticks). */
export function cpuacctStats(cg: Cgroups, id: string): Stats {
  const text = tryRead(cg, 'cpuacct', id, 'cpuacct.stat');
  if (text === undefined) return {};
  const kv = parseKeyValues(text);
  return {
    cpus_user_time_secs: (kv.get('user') ?? 0) / USER_HZ,
    cpus_system_time_secs: (kv.get('system') ?? 0) / USER_HZ,
  };
}

/** CFS throttling from cpu.stat (throttled_time is in nanoseconds). */
export function cpuStats(cg: Cgroups, id: string): Stats {
  const text = tryRead(cg, 'cpu', id, 'cpu.stat');
  if (text === undefined) return {};
  const kv = parseKeyValues(text);
  return {
    cpus_nr_periods: kv.get('nr_periods') ?? 0,
    cpus_nr_throttled: kv.get('nr_throttled') ?? 0,
    cpus_throttled_time_secs: (kv.get('throttled_time') ?? 0) / 1e9,
  };
}

/** A limit file's value, or undefined when it is the kernel's "unlimited". */
function limitValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text.trim());
  // The kernel's unlimited is PAGE_COUNTER_MAX pages: anything near 2^63.
  return Number.isFinite(v) && v < 2 ** 62 ? v : undefined;
}

export function memoryStats(cg: Cgroups, id: string): Stats {
  const out: Stats = {};
  const usage = tryRead(cg, 'memory', id, 'memory.usage_in_bytes');
  if (usage !== undefined) out.mem_total_bytes = Number(usage.trim());
  const memsw = tryRead(cg, 'memory', id, 'memory.memsw.usage_in_bytes');
  if (memsw !== undefined) out.mem_total_memsw_bytes = Number(memsw.trim());
  const limit = limitValue(tryRead(cg, 'memory', id, 'memory.limit_in_bytes'));
  if (limit !== undefined) out.mem_limit_bytes = limit;
  const soft = limitValue(tryRead(cg, 'memory', id, 'memory.soft_limit_in_bytes'));
  if (soft !== undefined) out.mem_soft_limit_bytes = soft;
  const stat = tryRead(cg, 'memory', id, 'memory.stat');
  if (stat !== undefined) {
    const kv = parseKeyValues(stat);
    // total_* include nested cgroups, which is what a container is.
    const get = (k: string) => kv.get(`total_${k}`) ?? kv.get(k);
    const set = (field: string, k: string) => {
      const v = get(k);
      if (v !== undefined) out[field] = v;
    };
    set('mem_rss_bytes', 'rss');
    set('mem_anon_bytes', 'rss');
    set('mem_cache_bytes', 'cache');
    set('mem_file_bytes', 'cache');
    set('mem_mapped_file_bytes', 'mapped_file');
    set('mem_swap_bytes', 'swap');
    set('mem_unevictable_bytes', 'unevictable');
  }
  const kmem = tryRead(cg, 'memory', id, 'memory.kmem.usage_in_bytes');
  if (kmem !== undefined) out.mem_kmem_usage_bytes = Number(kmem.trim());
  return out;
}

/** Threads of the given processes, counted from /proc/<pid>/task. */
export function countThreads(pids: number[], procRoot = '/proc'): number {
  let n = 0;
  for (const pid of pids) {
    try {
      n += fs.readdirSync(`${procRoot}/${pid}/task`).length;
    } catch {
      // Gone since the listing.
    }
  }
  return n;
}

/** processes (pids.current when the pids controller is there) and threads. */
export function processStats(cg: Cgroups, id: string, controller: string, procRoot = '/proc'): Stats {
  const pids = cg.procs(controller, id);
  return { processes: pids.length, threads: countThreads(pids, procRoot) };
}
