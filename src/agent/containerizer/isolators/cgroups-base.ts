// What every cgroups/* isolator does the same way: one cgroup per container in each of its
// controllers, joined by the child before it execs (LaunchInfo.joinCgroups) and again by pid in
// isolate(), and destroyed (processes killed first) in cleanup().
import path from 'node:path';
import type { Clock } from '../../../common/clock.js';
import type { Msg } from '../../../protocol/codec.js';
import type { Cgroups } from '../cgroups/cgroups.js';
import { destroyCgroups } from '../cgroups/destroy.js';
import { never, type ContainerConfig, type Isolator, type LaunchInfo, type Limitation } from './isolator.js';

export interface CgroupsIsolatorOptions {
  cgroups: Cgroups;
  clock: Clock;
  /** --cgroups_destroy_timeout */
  destroyTimeoutMs?: number;
}

export abstract class CgroupsIsolator implements Isolator {
  abstract readonly name: string;
  /** Controllers this isolator creates cgroups in. */
  abstract readonly controllers: string[];
  protected readonly cg: Cgroups;
  protected readonly clock: Clock;
  protected readonly resources = new Map<string, Msg[]>();

  constructor(protected readonly opts: CgroupsIsolatorOptions) {
    this.cg = opts.cgroups;
    this.clock = opts.clock;
  }

  async prepare(config: ContainerConfig): Promise<LaunchInfo | undefined> {
    const id = config.containerId;
    const join: string[] = [];
    for (const c of this.controllers) {
      if (this.cg.exists(c, id)) throw new Error(`The cgroup '${this.cg.path(c, id)}' already exists`);
      join.push(path.join(this.cg.create(c, id), 'cgroup.procs'));
    }
    this.resources.set(id, config.resources);
    await this.configure(id, config.resources, true);
    return { joinCgroups: join };
  }

  async isolate(containerId: string, pid: number): Promise<void> {
    for (const c of this.controllers) {
      try {
        this.cg.assign(c, containerId, pid);
      } catch (e) {
        // The pid may already have exited (a short task); it had joined before exec.
        if (!/ESRCH|No such process/.test((e as Error).message)) throw e;
      }
    }
  }

  watch(_containerId: string): Promise<Limitation> {
    return never();
  }

  async update(containerId: string, resources: Msg[]): Promise<void> {
    if (!this.resources.has(containerId)) throw new Error(`Unknown container ${containerId}`);
    this.resources.set(containerId, resources);
    await this.configure(containerId, resources, false);
  }

  abstract usage(containerId: string): Promise<Msg>;

  async cleanup(containerId: string): Promise<void> {
    this.resources.delete(containerId);
    await destroyCgroups(this.cg, containerId, this.controllers, {
      clock: this.clock,
      ...(this.opts.destroyTimeoutMs !== undefined ? { timeoutMs: this.opts.destroyTimeoutMs } : {}),
    });
  }

  /** Writes the limits for the container's resources (on prepare and on update). */
  protected abstract configure(containerId: string, resources: Msg[], initial: boolean): Promise<void>;
}
