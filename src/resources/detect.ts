// RES-02: the agent's total resources — `--resources` plus autodetection for the predefined names
// the flag leaves out. Machine numbers can be injected (tests); otherwise they come from the OS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Resources } from './resources.js';
import { ResourcesError } from './values.js';

export interface DetectOptions {
  /** The `--resources` flag (text, JSON array, or `file:///path` holding either). */
  resources?: string;
  workDir: string;
  defaultRole?: string;
  cpuCount?: number;
  memTotalBytes?: number;
  diskTotalBytes?: number;
}

const MB = 1024 * 1024;
const GB = 1024 * MB;

/** Online CPUs, like Mesos's os::cpus() (not the affinity-limited count). */
function cpuCount(): number | undefined {
  try {
    const n = os.cpus().length;
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Size of the filesystem holding `dir`; a work dir not created yet is measured at its nearest existing parent. */
function diskSize(dir: string): number | undefined {
  let cur = path.resolve(dir);
  for (;;) {
    try {
      const s = fs.statfsSync(cur);
      return s.blocks * s.bsize;
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return undefined;
      cur = up;
    }
  }
}

function flagText(flag: string): string {
  if (!flag.startsWith('file://')) return flag;
  const path = flag.slice('file://'.length);
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new ResourcesError(`Failed to read resources file '${path}': ${(e as Error).message}`);
  }
}

export function detectAgentResources(opts: DetectOptions): Resources {
  const role = opts.defaultRole ?? '*';
  const given = opts.resources !== undefined && opts.resources.trim() !== ''
    ? Resources.parse(flagText(opts.resources), role)
    : Resources.empty();
  // Command-line resources describe the machine only: no volumes, revocable or dynamic reservations.
  for (const r of given.toArray()) {
    if (r.revocable !== undefined) throw new ResourcesError(`Revocable resources are not allowed in --resources ('${r.name}')`);
    if (r.disk?.persistence !== undefined) throw new ResourcesError('Persistent volumes are not allowed in --resources');
    if ((r.reservations ?? []).some((x: { type: string }) => x.type === 'DYNAMIC')) {
      throw new ResourcesError(`Dynamic reservations are not allowed in --resources ('${r.name}')`);
    }
  }
  const have = new Set(given.names());
  const parts: string[] = [];
  if (!have.has('cpus')) parts.push(`cpus:${opts.cpuCount ?? cpuCount() ?? 1}`);
  if (!have.has('mem')) {
    const total = opts.memTotalBytes ?? os.totalmem();
    const mem = total > 0 ? (total >= 2 * GB ? total - GB : total / 2) : GB;
    parts.push(`mem:${Math.floor(mem / MB)}`);
  }
  if (!have.has('disk')) {
    const total = opts.diskTotalBytes ?? diskSize(opts.workDir);
    const disk = total !== undefined && total > 0 ? (total >= 10 * GB ? total - 5 * GB : total / 2) : 10 * GB;
    parts.push(`disk:${Math.floor(disk / MB)}`);
  }
  if (!have.has('ports')) parts.push('ports:[31000-32000]');
  return parts.length === 0 ? given : given.plus(Resources.parse(parts.join(';'), role));
}
