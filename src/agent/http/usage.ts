// Basic ResourceStatistics (AGT-08) for /monitor/statistics: CPU times and RSS summed over each
// container's process group, read from /proc in one pass per request.
import { readdirSync, readFileSync } from 'node:fs';

export interface GroupUsage {
  userSecs: number;
  systemSecs: number;
  rssBytes: number;
  processes: number;
  threads: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux
const PAGE_SIZE = 4096;

/** Usage by process group id for every process on the host (empty where /proc is missing). */
export function usageByProcessGroup(): Map<number, GroupUsage> {
  const out = new Map<number, GroupUsage>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // the process went away
    }
    // The command name is in parentheses and may contain spaces; fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const threads = Number(fields[17]);
    const rssPages = Number(fields[21]);
    if (!Number.isFinite(pgrp)) continue;
    const u = out.get(pgrp) ?? { userSecs: 0, systemSecs: 0, rssBytes: 0, processes: 0, threads: 0 };
    u.userSecs += utime / CLOCK_TICKS;
    u.systemSecs += stime / CLOCK_TICKS;
    u.rssBytes += rssPages * PAGE_SIZE;
    u.processes += 1;
    u.threads += threads;
    out.set(pgrp, u);
  }
  return out;
}
