// The isolators of one agent, called as one: what the containerizer talks to.
import type { Clock } from '../../../common/clock.js';
import type { Msg } from '../../../protocol/codec.js';
import type { ContainerConfig, Isolator, Limitation } from './isolator.js';
import { joinCgroupsPrefix, type LinuxLauncher } from './launcher.js';

export interface PreparedLaunch {
  /** Added to the task's environment. */
  env: Record<string, string>;
  /** Prepended to the containerizer's argv: [] when nothing needs wrapping. */
  launchPrefix: string[];
  /** The cgroup.procs files the task joined (freezer first): helpers can join them too. */
  joinFiles: string[];
  /** The task has its own pid namespace (namespaces/pid). */
  pidNamespace: boolean;
}

export class Isolation {
  constructor(
    readonly isolators: Isolator[],
    private readonly clock: Clock,
    readonly launcher?: LinuxLauncher,
  ) {}

  names(): string[] {
    return this.isolators.map((i) => i.name);
  }

  /**
   * Prepares every isolator in order. On failure the ones already prepared are cleaned up and
   * the error names the isolator: "Failed to prepare isolator 'cgroups/mem': ...".
   */
  async prepare(config: ContainerConfig): Promise<PreparedLaunch> {
    const env: Record<string, string> = {};
    const join: string[] = [];
    const prefixes: string[] = [];
    const done: Isolator[] = [];
    try {
      if (this.launcher) join.push(this.launcher.prepare(config.containerId));
      for (const iso of this.isolators) {
        let info;
        try {
          done.push(iso);
          info = await iso.prepare(config);
        } catch (e) {
          throw new Error(`Failed to prepare isolator '${iso.name}': ${(e as Error).message}`);
        }
        if (info?.env) Object.assign(env, info.env);
        if (info?.joinCgroups) join.push(...info.joinCgroups);
        if (info?.launchPrefix) prefixes.push(...info.launchPrefix);
      }
    } catch (e) {
      await this.cleanupAll(config.containerId, done).catch(() => undefined);
      await this.launcher?.destroy(config.containerId).catch(() => undefined);
      throw e;
    }
    // Join first, so the prefixes that follow (unshare) already run inside the cgroups.
    return {
      env,
      launchPrefix: [...joinCgroupsPrefix(join), ...prefixes],
      joinFiles: join,
      pidNamespace: this.isolators.some((i) => i.name === 'namespaces/pid'),
    };
  }

  async isolate(containerId: string, pid: number): Promise<void> {
    for (const iso of this.isolators) {
      try {
        await iso.isolate(containerId, pid);
      } catch (e) {
        throw new Error(`Failed to isolate container with '${iso.name}': ${(e as Error).message}`);
      }
    }
  }

  /** The first limitation any isolator reports. */
  watch(containerId: string): Promise<Limitation> {
    return Promise.race(this.isolators.map((i) => i.watch(containerId)));
  }

  /** A limitation that already happened, checked now (see Isolator.limitationNow). */
  async limitationNow(containerId: string): Promise<Limitation | undefined> {
    for (const iso of this.isolators) {
      const l = await iso.limitationNow?.(containerId).catch(() => undefined);
      if (l) return l;
    }
    return undefined;
  }

  async update(containerId: string, resources: Msg[]): Promise<void> {
    for (const iso of this.isolators) await iso.update(containerId, resources);
  }

  /** A ResourceStatistics message (timestamp in seconds, Mesos's double). */
  async usage(containerId: string): Promise<Msg> {
    const out: Msg = { timestamp: this.clock.now() / 1000 };
    for (const iso of this.isolators) {
      try {
        Object.assign(out, await iso.usage(containerId));
      } catch {
        // One isolator's failure leaves its fields out, as Mesos does.
      }
    }
    return out;
  }

  /** Kills what is left of the container (linux launcher) and cleans every isolator up. */
  async destroy(containerId: string): Promise<void> {
    let first: Error | undefined;
    if (this.launcher) {
      await this.launcher.destroy(containerId).catch((e: Error) => (first ??= e));
    }
    await this.cleanupAll(containerId, this.isolators).catch((e: Error) => (first ??= e));
    if (first) throw first;
  }

  private async cleanupAll(containerId: string, isolators: Isolator[]): Promise<void> {
    let first: Error | undefined;
    for (const iso of [...isolators].reverse()) {
      try {
        await iso.cleanup(containerId);
      } catch (e) {
        first ??= new Error(`Failed to clean up isolator '${iso.name}': ${(e as Error).message}`);
      }
    }
    if (first) throw first;
  }
}
