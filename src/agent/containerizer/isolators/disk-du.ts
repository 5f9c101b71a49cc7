// disk/du (alias posix/disk): measures each sandbox with `du -k -s -x` every
// --container_disk_watch_interval (through the Clock); with --enforce_container_disk_quota a
// sandbox over its `disk` resource ends the container with REASON_CONTAINER_LIMITATION_DISK.
import { execFile } from 'node:child_process';
import type { Clock, TimerHandle } from '../../../common/clock.js';
import { formatBytes } from '../../../common/units.js';
import type { Msg } from '../../../protocol/codec.js';
import { MB, named, scalar, type ContainerConfig, type Isolator, type LaunchInfo, type Limitation } from './isolator.js';

export interface DiskDuOptions {
  clock: Clock;
  /** --container_disk_watch_interval (default 15 s). */
  watchIntervalMs?: number;
  /** --enforce_container_disk_quota (default false). */
  enforceQuota?: boolean;
  /** Measures a directory in bytes (default: `du -k -s -x`). */
  measure?: (dir: string) => Promise<number>;
}

interface Watched {
  sandbox: string;
  resources: Msg[];
  used?: number;
  timer?: TimerHandle;
  busy: boolean;
  limitation: Promise<Limitation>;
  limit: (l: Limitation) => void;
}

export function duBytes(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('du', ['-k', '-s', '-x', dir], { timeout: 60_000 }, (err, stdout, stderr) => {
      const kb = Number(String(stdout).trim().split(/\s+/)[0]);
      // du exits 1 when a file vanished under it but still prints a total.
      if (Number.isFinite(kb) && String(stdout).trim() !== '') return resolve(kb * 1024);
      reject(new Error(`Failed to run du on '${dir}': ${String(stderr).trim() || err?.message}`));
    });
  });
}

export class DiskDuIsolator implements Isolator {
  readonly name = 'disk/du';
  private readonly containers = new Map<string, Watched>();
  private readonly measure: (dir: string) => Promise<number>;

  constructor(private readonly opts: DiskDuOptions) {
    this.measure = opts.measure ?? duBytes;
  }

  async prepare(config: ContainerConfig): Promise<LaunchInfo | undefined> {
    let limit!: (l: Limitation) => void;
    const limitation = new Promise<Limitation>((r) => (limit = r));
    const w: Watched = { sandbox: config.sandbox, resources: config.resources, busy: false, limitation, limit };
    this.containers.set(config.containerId, w);
    w.timer = this.opts.clock.setInterval(() => void this.check(config.containerId), this.opts.watchIntervalMs ?? 15_000);
    return undefined;
  }

  async isolate(): Promise<void> {}

  watch(containerId: string): Promise<Limitation> {
    const w = this.containers.get(containerId);
    if (!w) return Promise.reject(new Error(`Unknown container ${containerId}`));
    return w.limitation;
  }

  async update(containerId: string, resources: Msg[]): Promise<void> {
    const w = this.containers.get(containerId);
    if (w) w.resources = resources;
  }

  async usage(containerId: string): Promise<Msg> {
    const w = this.containers.get(containerId);
    if (!w) return {};
    const out: Msg = {};
    const quota = scalar(w.resources, 'disk');
    if (quota !== undefined) out.disk_limit_bytes = Math.round(quota * MB);
    if (w.used !== undefined) out.disk_used_bytes = w.used;
    return out;
  }

  async cleanup(containerId: string): Promise<void> {
    const w = this.containers.get(containerId);
    if (!w) return;
    this.opts.clock.clearInterval(w.timer);
    this.containers.delete(containerId);
  }

  /** One measurement (also what the interval runs); exposed for tests and the agent. */
  async check(containerId: string): Promise<void> {
    const w = this.containers.get(containerId);
    if (!w || w.busy) return;
    w.busy = true;
    try {
      w.used = await this.measure(w.sandbox);
    } catch {
      return; // sandbox gone or du failed: try again next interval
    } finally {
      w.busy = false;
    }
    const quota = scalar(w.resources, 'disk');
    if (!this.opts.enforceQuota || quota === undefined || this.containers.get(containerId) !== w) return;
    const quotaBytes = Math.round(quota * MB);
    if (w.used > quotaBytes) {
      this.opts.clock.clearInterval(w.timer);
      w.limit({
        reason: 'REASON_CONTAINER_LIMITATION_DISK',
        message: `Disk usage (${formatBytes(w.used)}) exceeds quota (${formatBytes(quotaBytes)})`,
        resources: named(w.resources, 'disk'),
      });
    }
  }
}
