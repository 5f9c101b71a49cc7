// The posix containerizer: one process group per container, led by a /bin/sh supervisor
// (supervisor.ts) that is the task's parent. No pipes through Node: stdout/stderr are the
// sandbox files themselves, and the only per-container state in Node is a small record.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { logger } from '../../common/log.js';
import type { Containerizer, LaunchSpec } from './index.js';
import { programFor, supervisorArgv } from './supervisor.js';
import { lookupUser } from './users.js';
import { exitedWith, fromShellStatus, signaledBy, signalNumber, type Termination } from './wait-status.js';

const log = logger('containerizer');

/** os::host_default_path() in Mesos: used when the launch environment has no PATH. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** How many finished containers' terminations wait() can still answer after destroy(). */
const REMEMBERED_TERMINATIONS = 1024;

interface Container {
  readonly id: string;
  /** Supervisor pid, which is also the process group id. */
  readonly pid: number;
  readonly runDir: string;
  child: ChildProcess | undefined;
  termination?: Termination;
  readonly done: Promise<Termination>;
  finish: (t: Termination) => void;
  killTimer?: TimerHandle;
  killAt?: number;
  destroying?: Promise<void>;
}

export interface PosixContainerizerOptions {
  clock: Clock;
  workDir: string;
  runtimeDir?: string;
}

export class PosixContainerizer implements Containerizer {
  private readonly clock: Clock;
  private readonly runtimeDir: string;
  private readonly live = new Map<string, Container>();
  private readonly remembered = new Map<string, Termination>();

  constructor(opts: PosixContainerizerOptions) {
    this.clock = opts.clock;
    this.runtimeDir = opts.runtimeDir ?? path.join(opts.workDir, 'runtime');
  }

  /** Where the durable pid/forked.pid/status files of a container live. */
  runDir(containerId: string): string {
    return path.join(this.runtimeDir, 'containers', containerId);
  }

  async launch(spec: LaunchSpec): Promise<{ pid: number }> {
    const id = spec.containerId;
    if (this.live.has(id)) throw new Error(`Container '${id}' already exists`);
    const command = spec.command ?? {};
    if (typeof command.value !== 'string' || command.value.length === 0) {
      throw new Error(command.shell === false ? 'Executable is not specified' : 'Shell command is not specified');
    }
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(spec.sandbox);
    } catch {
      throw new Error(`Sandbox directory '${spec.sandbox}' does not exist`);
    }
    if (!stat.isDirectory()) throw new Error(`Sandbox '${spec.sandbox}' is not a directory`);

    const env = launchEnvironment(spec);
    const credentials = credentialsFor(spec.user ?? command.user);
    const runDir = this.runDir(id);
    await fs.promises.mkdir(runDir, { recursive: true });
    // A re-used container id must not inherit an old status.
    await fs.promises.rm(path.join(runDir, 'status'), { force: true });
    // The supervisor runs as the task's user and must be able to record into its run dir.
    if (credentials.uid !== undefined) await fs.promises.chown(runDir, credentials.uid, credentials.gid!);

    const out = fs.openSync(path.join(spec.sandbox, 'stdout'), 'a');
    let child: ChildProcess;
    try {
      const err = fs.openSync(path.join(spec.sandbox, 'stderr'), 'a');
      try {
        child = spawn('/bin/sh', supervisorArgv(runDir, programFor(command)), {
          cwd: spec.sandbox,
          env,
          detached: true, // setsid(): the supervisor leads its own session and process group
          stdio: ['ignore', out, err],
          ...credentials,
        });
      } finally {
        fs.closeSync(err);
      }
    } finally {
      fs.closeSync(out);
    }
    const pid = child.pid;
    if (pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(`Failed to fork the supervisor: ${error.message}`);
    }

    let finish!: (t: Termination) => void;
    const done = new Promise<Termination>((resolve) => (finish = resolve));
    const container: Container = { id, pid, runDir, child, done, finish };
    this.live.set(id, container);
    child.once('exit', (code, signal) => this.exited(container, code, signal));
    child.on('error', (e) => log.warn(`supervisor of container ${id}: ${e.message}`));

    await writeAtomically(path.join(runDir, 'pid'), `${pid}\n`).catch((e: Error) =>
      log.warn(`Failed to checkpoint the pid of container ${id}: ${e.message}`),
    );
    return { pid };
  }

  wait(containerId: string): Promise<Termination> {
    const c = this.live.get(containerId);
    if (c) return c.done;
    const t = this.remembered.get(containerId);
    if (t) return Promise.resolve(t);
    return Promise.reject(new Error(`Unknown container '${containerId}'`));
  }

  /** Sends `signal` to every process of the container (its process group). */
  kill(containerId: string, signal: NodeJS.Signals): void {
    const c = this.live.get(containerId);
    if (!c || c.termination) return;
    signalGroup(c.pid, signal);
  }

  /**
   * SIGTERM to the process group, SIGKILL after `gracePeriodMs` (no grace: SIGKILL at once);
   * resolves once the supervisor is gone and no member of the group is left. Forgets the
   * container and removes its runtime directory. Unknown containers resolve at once.
   */
  destroy(containerId: string, gracePeriodMs?: number): Promise<void> {
    const c = this.live.get(containerId);
    if (!c) return Promise.resolve();
    const grace = Math.max(0, gracePeriodMs ?? 0);
    if (!c.termination) {
      const killAt = this.clock.now() + grace;
      if (c.killAt === undefined || killAt < c.killAt) {
        // A later destroy may shorten the grace, never extend it.
        this.clock.clearTimeout(c.killTimer);
        c.killAt = killAt;
        if (grace === 0) {
          signalGroup(c.pid, 'SIGKILL');
        } else {
          if (!c.destroying) signalGroup(c.pid, 'SIGTERM');
          c.killTimer = this.clock.setTimeout(() => {
            c.killTimer = undefined;
            if (!c.termination) signalGroup(c.pid, 'SIGKILL');
          }, grace);
        }
      }
    }
    c.destroying ??= c.done.then(() => this.forget(c));
    return c.destroying;
  }

  containers(): string[] {
    const ids: string[] = [];
    for (const c of this.live.values()) if (!c.termination) ids.push(c.id);
    return ids;
  }

  /** Pid of a live container's supervisor. */
  pid(containerId: string): number | undefined {
    return this.live.get(containerId)?.pid;
  }

  private exited(c: Container, code: number | null, signal: NodeJS.Signals | null): void {
    // Leftovers (background children that outlived the task) go with their container. The
    // group id cannot have been reused while any member is left, so this hits only them.
    signalGroup(c.pid, 'SIGKILL');
    this.clock.clearTimeout(c.killTimer);
    c.killTimer = undefined;
    c.child = undefined;
    let t: Termination;
    if (signal) t = signaledBy(signalNumber(signal) ?? 9);
    else t = code === null ? exitedWith(255) : fromShellStatus(code);
    c.termination = t;
    c.finish(t);
  }

  private async forget(c: Container): Promise<void> {
    if (this.live.get(c.id) === c) this.live.delete(c.id);
    this.remembered.set(c.id, c.termination!);
    if (this.remembered.size > REMEMBERED_TERMINATIONS) {
      this.remembered.delete(this.remembered.keys().next().value!);
    }
    await fs.promises.rm(c.runDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') log.warn(`kill(-${pgid}, ${signal}): ${(e as Error).message}`);
  }
}

/** Exactly the given environment and CommandInfo.environment (never the agent's), plus PATH. */
export function launchEnvironment(spec: LaunchSpec): Record<string, string> {
  const env: Record<string, string> = { ...spec.env };
  const variables = (spec.command?.environment?.variables ?? []) as Array<{ name?: string; value?: string; type?: string }>;
  for (const v of variables) {
    if (!v.name || v.type === 'SECRET') continue;
    env[v.name] = v.value ?? '';
  }
  if (env.PATH === undefined) env.PATH = DEFAULT_PATH;
  return env;
}

/** Switches user only when the agent runs as root and the user differs (Mesos --switch_user). */
function credentialsFor(user: string | undefined): { uid?: number; gid?: number } {
  if (!user || typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const entry = lookupUser(user);
  if (!entry) throw new Error(`Failed to get user information for '${user}'`);
  if (entry.uid === 0) return {};
  return { uid: entry.uid, gid: entry.gid };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.promises.writeFile(tmp, text);
  await fs.promises.rename(tmp, file);
}
