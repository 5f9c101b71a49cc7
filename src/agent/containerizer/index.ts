// The containerizer seam (AGT-02): the agent launches, waits for, signals and destroys
// containers through this interface only.
//
// API notes (changes against the first sketch in the issue):
// - launch() rejects with an Error whose message is fit for a TaskStatus message (sandbox
//   missing, no command value, unknown user when switching users, fork failure).
// - wait() resolves once the container's supervisor has exited; it is answered for live
//   containers and for the last 1024 destroyed ones; unknown ids reject.
// - destroy(id) with no grace period SIGKILLs at once (Mesos's containerizer destroy); with a
//   grace period it is SIGTERM, then SIGKILL. A second destroy may shorten the grace, never
//   extend it. destroy() also forgets the container and removes its runtime directory, so call
//   it once you are done with a container, also after it exited on its own. Unknown ids
//   resolve at once.
// - When a container's supervisor exits, any process still left in its process group is
//   SIGKILLed (a container's processes do not outlive it).
// - launch() applies CommandInfo.environment on top of `env`; `env` is the whole environment
//   (the agent's own is never inherited), PATH defaults to Mesos's host default path.
// - `user` (or command.user) is switched to only when the agent runs as root.
// - pid() returns the supervisor pid of a live container (the executor_pid of a command task).
//
// Durable files, per container, under <runtimeDir>/containers/<containerId>/ (runtimeDir
// defaults to <workDir>/runtime):
//   pid         the supervisor's pid (written by the agent, temp + rename)
//   forked.pid  the task's pid (written by the supervisor's child before it execs the task)
//   status      the task's exit status as a shell reports it (128+N for signal N), written by the
//               supervisor with temp + rename when the task ends
// Recovery (a later issue) can use them as follows: for each containers/<id>, if `status`
// exists the task is over; else if `pid` names a live process whose /proc/<pid>/cmdline
// carries SUPERVISOR_NAME, re-adopt it (it is no longer our child, so watch it with
// kill(pid, 0) on a Clock interval, then read `status`); else the task died with its
// supervisor (killed) and has no status.
import type { Clock } from '../../common/clock.js';
import type { Msg } from '../../protocol/codec.js';
import { Fetcher } from '../fetcher/fetcher.js';
import { createIsolation, type IsolationOptions } from './isolators/create.js';
import { KernelClock } from './kernel-clock.js';
import { PosixContainerizer } from './posix.js';
import type { Termination } from './wait-status.js';

export type { Termination } from './wait-status.js';
export type { Limitation } from './isolators/isolator.js';
export { describeStatus, signalName, signalNumber } from './wait-status.js';
export { PosixContainerizer, DEFAULT_PATH, launchEnvironment, runAsUserPrefix } from './posix.js';
export { SUPERVISOR_NAME } from './supervisor.js';
export { defaultLauncher } from './default-launcher.js';

export interface LaunchSpec {
  containerId: string;
  /** Working directory; `stdout` and `stderr` files are created (appended to) inside it. */
  sandbox: string;
  /** v1 CommandInfo: shell (default true), value, arguments, environment{variables}, user, uris. */
  command: Msg;
  env: Record<string, string>;
  user?: string;
  /** v1 Resources of the container (executor + tasks): the isolators' limits. */
  resources?: Msg[];
}

export interface Containerizer {
  launch(spec: LaunchSpec): Promise<{ pid: number }>;
  wait(containerId: string): Promise<Termination>;
  kill(containerId: string, signal: NodeJS.Signals): void;
  destroy(containerId: string, gracePeriodMs?: number): Promise<void>;
  /** Ids of the containers being launched or whose supervisor is still running. */
  containers(): string[];
  /** Supervisor pid of a live container. */
  pid(containerId: string): number | undefined;
  /** ResourceStatistics (AGT-08); rejects for unknown containers. */
  usage(containerId: string): Promise<Msg>;
  /** New resources (limits) for a running container. */
  update(containerId: string, resources: Msg[]): Promise<void>;
  /** argv that runs a helper (a COMMAND check) inside the container; [] when none is needed. */
  helperPrefix(containerId: string): string[];
}

export interface ContainerizerOptions {
  clock: Clock;
  workDir: string;
  runtimeDir?: string;
  /** --launcher: `posix` (default here) or `linux` (freezer kill-all; see defaultLauncher()). */
  launcher?: string;
  /** --isolation (default posix/cpu,posix/mem). */
  isolation?: string;
  /** The cgroups/disk/GPU flags (see IsolationOptions); clock and launcher come from above. */
  isolationOptions?: Omit<IsolationOptions, 'clock' | 'launcher'>;
  /** --fetcher_cache_dir, --fetcher_cache_size, --fetcher_stall_timeout, --frameworks_home. */
  fetcher?: { cacheDir?: string; cacheSize?: number; stallTimeoutMs?: number; frameworksHome?: string };
}

/**
 * Builds the containerizer with its isolators. Throws, with a message fit for the agent's
 * startup error, for unknown isolators or launchers and for missing cgroup controllers.
 */
export function createContainerizer(opts: ContainerizerOptions): Containerizer {
  const launcher = opts.launcher ?? 'posix';
  if (launcher !== 'posix' && launcher !== 'linux') throw new Error(`Unknown or unsupported launcher: '${launcher}'`);
  // Waiting on the kernel (kill-all, OOM polls) is real time even under a test's ManualClock.
  const isolation = createIsolation(opts.isolation, { kernelClock: new KernelClock(), ...opts.isolationOptions, clock: opts.clock, launcher });
  const fetcher = opts.fetcher ? new Fetcher({ clock: opts.clock, ...opts.fetcher }) : undefined;
  return new PosixContainerizer({ clock: opts.clock, workDir: opts.workDir, runtimeDir: opts.runtimeDir, isolation, ...(fetcher ? { fetcher } : {}) });
}
