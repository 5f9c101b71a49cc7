// cgroups/mem: memory.limit_in_bytes (+ memsw with --cgroups_limit_swap), soft limit, OOM
// watching (a kill ends the container with REASON_CONTAINER_LIMITATION_MEMORY), memory stats.
import type { TimerHandle } from '../../../common/clock.js';
import type { Msg } from '../../../protocol/codec.js';
import { formatBytes } from '../../../common/units.js';
import { memoryLimitBytes } from '../cgroups/limits.js';
import { watchOom, type OomWatch } from '../cgroups/oom.js';
import { memoryStats } from '../cgroups/stats.js';
import { CgroupsIsolator, type CgroupsIsolatorOptions } from './cgroups-base.js';
import { MB, named, scalar, type Limitation } from './isolator.js';

export interface CgroupsMemOptions extends CgroupsIsolatorOptions {
  /** --cgroups_limit_swap */
  limitSwap?: boolean;
  /** How often memory.oom_control is polled (default 100 ms). */
  oomPollMs?: number;
}

export class CgroupsMemIsolator extends CgroupsIsolator {
  readonly name = 'cgroups/mem';
  readonly controllers = ['memory'];
  private readonly watches = new Map<string, { watch: OomWatch; limitation: Promise<Limitation> }>();
  /** One memory.oom_control poll timer for all watched containers, running while any is watched. */
  private pollTimer?: TimerHandle;

  constructor(private readonly memOpts: CgroupsMemOptions) {
    super(memOpts);
  }

  protected async configure(id: string, resources: Msg[], initial: boolean): Promise<void> {
    const mem = scalar(resources, 'mem');
    if (mem === undefined) return;
    const limit = memoryLimitBytes(mem * MB);
    const current = Number(this.cg.read('memory', id, 'memory.limit_in_bytes').trim());
    // memsw must stay >= limit at every step: raise limit first, lower memsw first.
    const writeLimit = () => this.cg.write('memory', id, 'memory.limit_in_bytes', limit);
    const writeSwap = () => this.memOpts.limitSwap && this.cg.write('memory', id, 'memory.memsw.limit_in_bytes', limit);
    if (initial || limit >= current) {
      writeLimit();
      writeSwap();
    } else {
      writeSwap();
      writeLimit();
    }
    this.cg.write('memory', id, 'memory.soft_limit_in_bytes', limit);
  }

  override watch(id: string): Promise<Limitation> {
    const existing = this.watches.get(id);
    if (existing) return existing.limitation;
    const watch = watchOom(this.cg, id, this.clock, 0);
    const limitation = watch.oom.then(() => this.oomLimitation(id));
    this.watches.set(id, { watch, limitation });
    this.pollTimer ??= this.clock.setInterval(() => {
      for (const w of this.watches.values()) w.watch.check();
    }, this.memOpts.oomPollMs ?? 100);
    return limitation;
  }

  async usage(id: string): Promise<Msg> {
    return memoryStats(this.cg, id);
  }

  async limitationNow(id: string): Promise<Limitation | undefined> {
    const w = this.watches.get(id);
    return w && w.watch.check() ? this.oomLimitation(id) : undefined;
  }

  override async cleanup(id: string): Promise<void> {
    this.watches.get(id)?.watch.cancel();
    this.watches.delete(id);
    if (this.watches.size === 0) {
      this.clock.clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
    await super.cleanup(id);
  }

  private oomLimitation(id: string): Limitation {
    const read = (f: string) => {
      try {
        return this.cg.read('memory', id, f);
      } catch {
        return undefined;
      }
    };
    let message = 'Memory limit exceeded: ';
    const limit = read('memory.limit_in_bytes');
    if (limit !== undefined) message += `Requested: ${formatBytes(Number(limit.trim()))} `;
    const max = read('memory.max_usage_in_bytes');
    if (max !== undefined) message += `Maximum Used: ${formatBytes(Number(max.trim()))}\n`;
    const stat = read('memory.stat');
    if (stat !== undefined) message += `\nMEMORY STATISTICS: \n${stat}`;
    return {
      reason: 'REASON_CONTAINER_LIMITATION_MEMORY',
      message,
      resources: named(this.resources.get(id) ?? [], 'mem'),
    };
  }
}
