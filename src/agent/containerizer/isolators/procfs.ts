// Process-tree accounting from /proc for the posix isolators (no cgroups): a container is its
// root process, everything descended from it, and whatever stayed in its session or group.
import fs from 'node:fs';
import { USER_HZ } from '../cgroups/limits.js';

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  utime: number;
  stime: number;
  threads: number;
}

function readStat(procRoot: string, pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command may contain spaces and parentheses: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (f[0] === 'Z') return undefined;
  return {
    pid,
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    threads: Number(f[17]),
  };
}

/**
 * One scan of every /proc/<pid>/stat, reused until the event loop turns: posix/cpu and posix/mem
 * both ask for the same container in one usage() call, and /monitor/statistics asks for every
 * container in a row, so without this each of those would read the whole process table again.
 */
let snapshot: { procRoot: string; all: ProcStat[] } | undefined;

function allProcesses(procRoot: string): ProcStat[] {
  if (snapshot?.procRoot === procRoot) return snapshot.all;
  const all: ProcStat[] = [];
  for (const entry of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(procRoot, Number(entry));
    if (s) all.push(s);
  }
  snapshot = { procRoot, all };
  setImmediate(() => {
    snapshot = undefined;
  }).unref();
  return all;
}

/** Live processes of the container rooted at `root`. */
export function containerProcesses(root: number, procRoot = '/proc'): ProcStat[] {
  const all = allProcesses(procRoot);
  const members = new Set<number>();
  for (const s of all) if (s.pid === root || s.pgrp === root || s.session === root) members.add(s.pid);
  // Descendants that moved to their own group or session still belong to the container.
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of all) {
      if (!members.has(s.pid) && members.has(s.ppid)) {
        members.add(s.pid);
        grew = true;
      }
    }
  }
  return all.filter((s) => members.has(s.pid));
}

export function cpuUsage(procs: ProcStat[]): { user: number; system: number } {
  let u = 0;
  let s = 0;
  for (const p of procs) {
    u += p.utime;
    s += p.stime;
  }
  return { user: u / USER_HZ, system: s / USER_HZ };
}

/** Resident memory in bytes (VmRSS of each process; shared pages count once per process). */
export function rssBytes(procs: ProcStat[], procRoot = '/proc'): number {
  let total = 0;
  for (const p of procs) {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`${procRoot}/${p.pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

export function threadCount(procs: ProcStat[]): number {
  return procs.reduce((n, p) => n + p.threads, 0);
}
