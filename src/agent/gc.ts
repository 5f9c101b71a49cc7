// Sandbox garbage collection (AGT-04): directories of finished executors are removed --gc_delay
// after they finished; when the disk fills up, every --disk_watch_interval the allowed age shrinks
// to gc_delay x max(0, 1 - gc_disk_headroom - disk usage), removing whatever is older.
import { rmSync, statfsSync } from 'node:fs';
import type { Clock, TimerHandle } from '../common/clock.js';
import { logger } from '../common/log.js';

const log = logger('gc');

interface Entry {
  path: string;
  scheduledAt: number;
  timer: TimerHandle;
  onRemoved?: () => void;
}

export interface GcOptions {
  clock: Clock;
  gcDelayMs: number;
  diskHeadroom: number;
  diskWatchIntervalMs: number;
  /** The directory whose file system is watched. */
  workDir: string;
  /** Fraction of the disk in use (tests inject it). */
  diskUsage?: () => number | undefined;
  remove?: (path: string) => void;
}

function diskUsageOf(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.blocks > 0 ? 1 - s.bavail / s.blocks : undefined;
  } catch {
    return undefined;
  }
}

export class GarbageCollector {
  private readonly entries = new Map<string, Entry>();
  private readonly watch: TimerHandle;
  removalsSucceeded = 0;
  removalsFailed = 0;

  constructor(private readonly opts: GcOptions) {
    this.watch = opts.clock.setInterval(() => this.checkDisk(), Math.max(1000, opts.diskWatchIntervalMs));
  }

  /** Removes `path` after the GC delay (rescheduling it if it was already scheduled). */
  schedule(path: string, onRemoved?: () => void): void {
    this.unschedule(path);
    const timer = this.opts.clock.setTimeout(() => this.remove(path), this.opts.gcDelayMs);
    this.entries.set(path, { path, scheduledAt: this.opts.clock.now(), timer, onRemoved });
  }

  unschedule(path: string): boolean {
    const e = this.entries.get(path);
    if (!e) return false;
    this.opts.clock.clearTimeout(e.timer);
    this.entries.delete(path);
    return true;
  }

  get pending(): number {
    return this.entries.size;
  }

  /** The age a sandbox may reach given the disk usage. */
  maxAllowedAgeMs(usage: number): number {
    return this.opts.gcDelayMs * Math.max(0, 1 - this.opts.diskHeadroom - usage);
  }

  stop(): void {
    this.opts.clock.clearInterval(this.watch);
    for (const e of this.entries.values()) this.opts.clock.clearTimeout(e.timer);
    this.entries.clear();
  }

  private checkDisk(): void {
    const usage = (this.opts.diskUsage ?? (() => diskUsageOf(this.opts.workDir)))();
    if (usage === undefined) return;
    const maxAge = this.maxAllowedAgeMs(usage);
    const now = this.opts.clock.now();
    for (const e of [...this.entries.values()]) {
      if (now - e.scheduledAt >= maxAge) this.remove(e.path);
    }
  }

  private remove(path: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    this.opts.clock.clearTimeout(e.timer);
    this.entries.delete(path);
    try {
      (this.opts.remove ?? ((p: string) => rmSync(p, { recursive: true, force: true })))(path);
      this.removalsSucceeded++;
      e.onRemoved?.();
    } catch (err) {
      this.removalsFailed++;
      log.warn(`Failed to remove '${path}': ${(err as Error).message}`);
    }
  }
}
