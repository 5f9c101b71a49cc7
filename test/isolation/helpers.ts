// Shared bits for the isolation tests: real-cgroup availability, temp dirs, process probes.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Cgroups, destroyCgroups } from '../../src/agent/containerizer/cgroups/index.js';
import type { Clock, TimerHandle } from '../../src/common/clock.js';

// The process probes and temp dirs are the containerizer tests' own; re-exported for these tests.
export { eventually, isAlive, tempDir } from '../containerizer/helpers.js';

/**
 * A real clock whose timers keep the test process alive (SystemClock unrefs them, which is
 * right for daemons that have servers but would let a test's event loop drain mid-await).
 */
export class RefClock implements Clock {
  private next = 1;
  private readonly raw = new Map<number, NodeJS.Timeout>();
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.raw.set(id, setTimeout(() => (this.raw.delete(id), fn()), Math.max(0, ms)));
    return { id };
  }
  clearTimeout(h: TimerHandle | undefined): void {
    if (!h) return;
    clearTimeout(this.raw.get(h.id));
    this.raw.delete(h.id);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.raw.set(id, setInterval(fn, Math.max(1, ms)));
    return { id };
  }
  clearInterval(h: TimerHandle | undefined): void {
    if (!h) return;
    clearInterval(this.raw.get(h.id));
    this.raw.delete(h.id);
  }
  /** Timers still waiting (a test asserts its code cleaned up). */
  pending(): number {
    return this.raw.size;
  }
}

/** A unique --cgroups_root for one test file, so parallel runs never share cgroups. */
export function testRoot(name: string): string {
  return `meseta-test-${name}-${process.pid}`;
}

/** Why real cgroups cannot be used here, or undefined when `controllers` are usable. */
export function realCgroupsMissing(controllers: string[]): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root';
  const cg = new Cgroups({ root: `meseta-probe-${process.pid}` });
  const missing = controllers.filter((c) => !cg.isMounted(c));
  if (missing.length > 0) return `cgroup v1 controllers not mounted: ${missing.join(', ')}`;
  for (const c of controllers) {
    try {
      const probe = 'probe';
      cg.create(c, probe);
      cg.remove(c, probe);
    } catch (e) {
      removeRoot(cg);
      return `cannot create cgroups in '${c}': ${(e as Error).message}`;
    }
  }
  removeRoot(cg);
  return undefined;
}

/** Destroys whatever a failed test left under the root, then removes the root cgroups. */
export async function cleanupRoot(cg: Cgroups, clock: Clock): Promise<void> {
  const ids = new Set(cg.controllers().flatMap((c) => cg.containers(c)));
  for (const id of ids) {
    await destroyCgroups(cg, id, cg.controllers(), { clock, timeoutMs: 5000 }).catch(() => undefined);
  }
  removeRoot(cg);
}

/** Removes the per-test root cgroups (after the containers under them are gone). */
export function removeRoot(cg: Cgroups): void {
  for (const c of cg.controllers()) {
    const dir = path.join(cg.mountPoint(c), cg.root);
    try {
      if (cg.fs.exists(dir)) cg.fs.rmdir(dir);
    } catch {
      // A failed test may leave a container behind; its own cleanup reports it.
    }
  }
}

/** Starts `sh -c script` after joining the given cgroup.procs files (the linux launcher's way). */
export function spawnInCgroups(procsFiles: string[], script: string, extra: { cwd?: string } = {}): ChildProcess {
  const join = procsFiles.map((f) => `echo $$ > '${f}'`).join(' && ');
  return spawn('/bin/sh', ['-c', `${join} && exec /bin/sh -c '${script.replace(/'/g, `'\\''`)}'`], {
    stdio: 'ignore',
    detached: true,
    ...extra,
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const MOUNTS = [
  'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0',
  'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
  'cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0',
  'cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0',
  'cgroup /sys/fs/cgroup/devices cgroup rw,relatime,devices 0 0',
  'cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,xattr,name=systemd 0 0',
  'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
  'proc /proc proc rw 0 0',
].join('\n');
