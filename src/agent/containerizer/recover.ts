// Re-adopting containers after an agent restart (FT-05). A supervisor started by the previous
// agent process is no longer our child, so nobody can wait() for it: its end is noticed by
// polling /proc/<pid> on the Clock, and its task's exit status is read from the `status` file
// the supervisor wrote (see supervisor.ts). A zombie counts as exited (its parent may be an init
// that does not reap).
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../common/clock.js';
import { SUPERVISOR_NAME } from './supervisor.js';

/** How often an adopted supervisor is checked. */
export const ADOPTED_POLL_INTERVAL_MS = 500;

export type ContainerCheck =
  | { kind: 'running'; pid: number }
  /** The supervisor is gone; `code` is the task's status from the `status` file, if written. */
  | { kind: 'exited'; pid?: number; code?: number };

/** Alive and not a zombie. */
export function processAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The state letter follows the parenthesised command name, which may itself contain ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** Our supervisor shell, not some other process that got the pid. */
function isSupervisor(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(SUPERVISOR_NAME);
  } catch {
    return false;
  }
}

export function readStatusFile(runDir: string): number | undefined {
  try {
    const text = fs.readFileSync(path.join(runDir, 'status'), 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** What became of the container whose durable files are in `runDir`. */
export function checkContainer(runDir: string): ContainerCheck {
  const code = readStatusFile(runDir);
  let pid: number | undefined;
  try {
    const text = fs.readFileSync(path.join(runDir, 'pid'), 'utf8').trim();
    if (/^\d+$/.test(text)) pid = Number(text);
  } catch {
    // never spawned, or already destroyed
  }
  if (code === undefined && pid !== undefined && processAlive(pid) && isSupervisor(pid)) return { kind: 'running', pid };
  return { kind: 'exited', ...(pid !== undefined ? { pid } : {}), ...(code !== undefined ? { code } : {}) };
}

/**
 * Resolves once the adopted supervisor `pid` is gone, with the task's status if the supervisor
 * recorded one (a supervisor SIGKILLed with its task leaves none).
 */
export function watchAdopted(clock: Clock, pid: number, runDir: string): { exited: Promise<number | undefined>; cancel: () => void } {
  let resolve!: (code: number | undefined) => void;
  const exited = new Promise<number | undefined>((r) => (resolve = r));
  const timer = clock.setInterval(() => {
    if (processAlive(pid)) return;
    clock.clearInterval(timer);
    resolve(readStatusFile(runDir));
  }, ADOPTED_POLL_INTERVAL_MS);
  return { exited, cancel: () => clock.clearInterval(timer) };
}

/**
 * Containers a restarted agent did not adopt (their framework did not checkpoint, or their
 * executor was not recovered) die with it, as Mesos's containerizer destroys orphans: a running
 * supervisor's process group is SIGKILLed and the run directory removed. Returns their ids.
 */
export function destroyOrphans(containersDir: string, adopted: ReadonlySet<string>): string[] {
  let ids: string[];
  try {
    ids = fs.readdirSync(containersDir);
  } catch {
    return [];
  }
  const destroyed: string[] = [];
  for (const id of ids) {
    if (adopted.has(id)) continue;
    const runDir = path.join(containersDir, id);
    const check = checkContainer(runDir);
    if (check.kind === 'running') {
      try {
        process.kill(-check.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(runDir, { recursive: true, force: true });
    destroyed.push(id);
  }
  return destroyed;
}
