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
import { PosixContainerizer } from './posix.js';
import type { Termination } from './wait-status.js';

export type { Termination } from './wait-status.js';
export { describeStatus, signalName, signalNumber } from './wait-status.js';
export { PosixContainerizer, DEFAULT_PATH, launchEnvironment } from './posix.js';
export { SUPERVISOR_NAME } from './supervisor.js';

export interface LaunchSpec {
  containerId: string;
  /** Working directory; `stdout` and `stderr` files are created (appended to) inside it. */
  sandbox: string;
  /** v1 CommandInfo: shell (default true), value, arguments, environment{variables}, user. */
  command: Msg;
  env: Record<string, string>;
  user?: string;
}

export interface Containerizer {
  launch(spec: LaunchSpec): Promise<{ pid: number }>;
  wait(containerId: string): Promise<Termination>;
  kill(containerId: string, signal: NodeJS.Signals): void;
  destroy(containerId: string, gracePeriodMs?: number): Promise<void>;
  /** Ids of the containers whose supervisor is still running. */
  containers(): string[];
  /** Supervisor pid of a live container. */
  pid(containerId: string): number | undefined;
}

export interface ContainerizerOptions {
  clock: Clock;
  workDir: string;
  runtimeDir?: string;
  /** `posix` (default) or `linux`; both use the posix launcher for now. */
  launcher?: string;
  /** --isolation; only the usage-reporting posix isolators exist, so it is accepted as is. */
  isolation?: string;
}

export function createContainerizer(opts: ContainerizerOptions): Containerizer {
  const launcher = opts.launcher ?? 'posix';
  if (launcher !== 'posix' && launcher !== 'linux') throw new Error(`Unknown or unsupported launcher: '${launcher}'`);
  return new PosixContainerizer({ clock: opts.clock, workDir: opts.workDir, runtimeDir: opts.runtimeDir });
}
