// The isolator seam (AGT-03), shaped like Mesos's: the containerizer calls, per container,
//   prepare  before the task is forked  -> environment and a launch prefix for the child
//   isolate  once its pid is known       (cgroups: assign the pid; usage: start tracking)
//   watch                                 resolves only when a limit is hit (OOM, disk quota)
//   update   when its resources change
//   usage                                 ResourceStatistics fields
//   cleanup  after the container's processes are gone
import type { Msg } from '../../../protocol/codec.js';

export interface ContainerConfig {
  containerId: string;
  /** The container's sandbox (working directory). */
  sandbox: string;
  /** v1 Resource messages given to the container (executor plus its tasks). */
  resources: Msg[];
  /** The user the task runs as, when switching users. */
  user?: string;
}

export interface LaunchInfo {
  /** Variables for the task's environment. */
  env?: Record<string, string>;
  /** argv to prepend to the command (e.g. unshare); each must exec what follows it. */
  launchPrefix?: string[];
  /** cgroup.procs files the child joins before it execs (see launcher.ts). */
  joinCgroups?: string[];
}

/** A container went past one of its limits: Mesos's ContainerLimitation. */
export interface Limitation {
  /** REASON_CONTAINER_LIMITATION_MEMORY / _DISK / ... (a TaskStatus.Reason name). */
  reason: string;
  message: string;
  /** The resources whose limit was hit (v1 Resource messages). */
  resources: Msg[];
}

export interface Isolator {
  readonly name: string;
  prepare(config: ContainerConfig): Promise<LaunchInfo | undefined>;
  isolate(containerId: string, pid: number): Promise<void>;
  /** Never settles unless a limitation happens (or rejects when watching failed). */
  watch(containerId: string): Promise<Limitation>;
  update(containerId: string, resources: Msg[]): Promise<void>;
  usage(containerId: string): Promise<Msg>;
  cleanup(containerId: string): Promise<void>;
  /**
   * Looks for a limitation right now (the container just exited: was it the OOM killer?), so
   * the answer does not depend on when the next poll of watch() would have run.
   */
  limitationNow?(containerId: string): Promise<Limitation | undefined>;
}

/** A promise that never settles: what watch() returns when there is nothing to watch. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/** Sum of a scalar resource (cpus, mem in MB, disk in MB, gpus) over v1 Resource messages. */
export function scalar(resources: Msg[], name: string): number | undefined {
  let total: number | undefined;
  for (const r of resources) {
    if (r.name !== name || r.scalar?.value === undefined) continue;
    total = (total ?? 0) + Number(r.scalar.value);
  }
  // Mesos keeps three decimals of precision.
  return total === undefined ? undefined : Math.round(total * 1000) / 1000;
}

/** The resources with the given name (for a Limitation's `resources`). */
export function named(resources: Msg[], name: string): Msg[] {
  return resources.filter((r) => r.name === name);
}

/** True when every `cpus` resource is revocable (Mesos then gives the cgroup low weight). */
export function revocableCpus(resources: Msg[]): boolean {
  const cpus = named(resources, 'cpus');
  return cpus.length > 0 && cpus.every((r) => r.revocable !== undefined);
}

export const MB = 1024 * 1024;
