// The posix containerizer: one process group per container, led by a /bin/sh supervisor
// (supervisor.ts) that is the task's parent. No pipes through Node: stdout/stderr are the
// sandbox files themselves, and the only per-container state in Node is a small record.
//
// Launch order (Mesos's PREPARING -> FETCHING -> RUNNING): isolators prepare (cgroups created,
// limits written), the sandbox is given to the task's user, CommandInfo.uris are fetched, then
// the supervisor is spawned behind the isolation's launch prefix (it joins its cgroups before
// it execs, see isolators/launcher.ts) and the isolators watch it. A limitation (OOM, disk
// quota) destroys the container and is reported in its Termination. Destroying a container
// ends with Isolation.destroy: the freezer/cgroup kill-all and the removal of its cgroups.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { logger } from '../../common/log.js';
import type { Msg } from '../../protocol/codec.js';
import { Fetcher } from '../fetcher/fetcher.js';
import type { Containerizer, LaunchSpec } from './index.js';
import { createIsolation } from './isolators/create.js';
import type { Limitation } from './isolators/isolator.js';
import type { Isolation } from './isolators/isolation.js';
import { joinCgroupsPrefix } from './isolators/launcher.js';
import { KernelClock } from './kernel-clock.js';
import { checkContainer, watchAdopted } from './recover.js';
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
  /** The supervisor exited (the termination follows once limitations were checked). */
  exited: boolean;
  termination?: Termination;
  /** The limitation that made us destroy the container. */
  limitation?: Limitation;
  /** forked.pid exists: the task has its default signal dispositions. */
  started?: boolean;
  /** How helpers (COMMAND checks) get into the container: see helperPrefix(). */
  enter?: { joinFiles: string[]; pidNamespace: boolean; user: string[] };
  readonly done: Promise<Termination>;
  finish: (t: Termination) => void;
  killTimer?: TimerHandle;
  killAt?: number;
  /** Stops the /proc poll of an adopted supervisor. */
  unwatch?: () => void;
  destroying?: Promise<void>;
}

/** A container between launch() and its spawn (preparing, fetching). */
interface Launching {
  destroyed: boolean;
  readonly settled: Promise<void>;
  settle: () => void;
}

export interface PosixContainerizerOptions {
  clock: Clock;
  workDir: string;
  runtimeDir?: string;
  /** The agent's isolators (default: posix/cpu,posix/mem, i.e. accounting only). */
  isolation?: Isolation;
  /** CommandInfo.uris go through it (default: a cache under the runtime dir). */
  fetcher?: Fetcher;
}

export class PosixContainerizer implements Containerizer {
  private readonly clock: Clock;
  private readonly runtimeDir: string;
  private readonly live = new Map<string, Container>();
  private readonly launching = new Map<string, Launching>();
  private readonly remembered = new Map<string, Termination>();
  readonly isolation: Isolation;
  private readonly fetcher: Fetcher;
  private fetcherStarted?: Promise<void>;

  constructor(opts: PosixContainerizerOptions) {
    this.clock = opts.clock;
    this.runtimeDir = opts.runtimeDir ?? path.join(opts.workDir, 'runtime');
    this.isolation = opts.isolation ?? createIsolation(undefined, { clock: opts.clock });
    this.fetcher = opts.fetcher ?? new Fetcher({ clock: opts.clock, cacheDir: path.join(this.runtimeDir, 'fetch') });
  }

  /** Where the durable pid/forked.pid/status files of a container live. */
  runDir(containerId: string): string {
    return path.join(this.runtimeDir, 'containers', containerId);
  }

  async launch(spec: LaunchSpec): Promise<{ pid: number }> {
    const id = spec.containerId;
    if (this.live.has(id) || this.launching.has(id)) throw new Error(`Container '${id}' already exists`);
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
    if (this.live.has(id) || this.launching.has(id)) throw new Error(`Container '${id}' already exists`);

    const user = (spec.user ?? command.user) as string | undefined;
    const credentials = credentialsFor(user);
    let settle!: () => void;
    const launching: Launching = { destroyed: false, settled: new Promise<void>((r) => (settle = r)), settle };
    this.launching.set(id, launching);
    let spawned = false;
    try {
      const prepared = await this.isolation.prepare({ containerId: id, sandbox: spec.sandbox, resources: spec.resources ?? [], ...(user ? { user } : {}) });
      try {
        // Mesos gives the sandbox to the task's user before anything runs in it.
        if (credentials.uid !== undefined) await chownSandbox(spec.sandbox, credentials.uid, credentials.gid!);
        if (launching.destroyed) throw new Error('Container destroyed while preparing');
        const uris = (command.uris ?? []) as Msg[];
        if (uris.length > 0) {
          // The cache directory is wiped once, before its first use (Mesos: at agent start).
          this.fetcherStarted ??= this.fetcher.start();
          await this.fetcherStarted;
          await this.fetcher.fetch({ containerId: id, uris, sandbox: spec.sandbox, ...(credentials.uid !== undefined ? { user } : {}) });
        }
        const env = { ...launchEnvironment(spec), ...prepared.env };
        const runDir = this.runDir(id);
        await fs.promises.mkdir(runDir, { recursive: true });
        // A re-used container id must not inherit an old status. The sandbox's stdout/stderr
        // are opened here, off the event loop and in parallel with that: spawn() passes them on.
        const opened = await Promise.allSettled([
          fs.promises.open(path.join(spec.sandbox, 'stdout'), 'a'),
          fs.promises.open(path.join(spec.sandbox, 'stderr'), 'a'),
          fs.promises.unlink(path.join(runDir, 'status')).catch(ignoreMissing),
        ]);
        const files = opened.slice(0, 2).flatMap((r) => (r.status === 'fulfilled' ? [r.value as fs.promises.FileHandle] : []));
        let container: Container;
        try {
          const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed) throw failed.reason;
          // The supervisor runs as the task's user and must be able to record into its run dir.
          if (credentials.uid !== undefined) await fs.promises.chown(runDir, credentials.uid, credentials.gid!);
          if (launching.destroyed) throw new Error('Container destroyed while fetching');

          const supervisor = ['/bin/sh', ...supervisorArgv(runDir, programFor(command))];
          let argv = supervisor;
          let spawnCredentials = credentials;
          if (prepared.launchPrefix.length > 0) {
            // The prefix (cgroup join, unshare) needs root; the user is switched after it.
            argv = [...prepared.launchPrefix, ...switchUserPrefix(credentials), ...supervisor];
            spawnCredentials = {};
          }
          try {
            container = this.spawn(id, spec.sandbox, runDir, argv, env, spawnCredentials, files[0]!.fd, files[1]!.fd);
          } catch (e) {
            if (!(e instanceof SpawnError)) throw e;
            const error = await new Promise<Error>((resolve) => e.child.once('error', resolve));
            throw new Error(`Failed to fork the supervisor: ${error.message}`);
          }
        } finally {
          await Promise.all(files.map((f) => f.close().catch(() => undefined)));
        }
        spawned = true;
        container.enter = { joinFiles: prepared.joinFiles, pidNamespace: prepared.pidNamespace, user: switchUserPrefix(credentials) };
        const pid = container.pid;
        await writeAtomically(path.join(runDir, 'pid'), `${pid}\n`).catch((e: Error) =>
          log.warn(`Failed to checkpoint the pid of container ${id}: ${e.message}`),
        );
        try {
          await this.isolation.isolate(id, pid);
        } catch (e) {
          // A task that already ended took its cgroups with it (cleanup on exit); it ran confined
          // from its first instruction through the launch prefix, so there is nothing left to do.
          if (!container.exited) throw e;
          return { pid };
        }
        if (container.exited) return { pid };
        this.isolation.watch(id).then(
          (limitation) => this.limited(container, limitation),
          (e: Error) => log.warn(`Failed to watch container ${id}: ${e.message}`),
        );
        return { pid };
      } catch (e) {
        if (spawned) {
          // The supervisor runs but could not be isolated: it must not run unconfined.
          await this.destroy(id);
        } else {
          await this.isolation.destroy(id).catch((err: Error) => log.warn(`Failed to clean up container ${id}: ${err.message}`));
        }
        throw e;
      }
    } finally {
      this.launching.delete(id);
      launching.settle();
    }
  }

  private spawn(id: string, sandbox: string, runDir: string, argv: string[], env: Record<string, string>, credentials: { uid?: number; gid?: number }, out: number, err: number): Container {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: sandbox,
      env,
      detached: true, // setsid(): the supervisor leads its own session and process group
      stdio: ['ignore', out, err],
      ...credentials,
    });
    const pid = child.pid;
    if (pid === undefined) {
      // spawn reports ENOENT/EACCES asynchronously, on 'error'.
      throw new SpawnError(child);
    }
    let finish!: (t: Termination) => void;
    const done = new Promise<Termination>((resolve) => (finish = resolve));
    const container: Container = { id, pid, runDir, child, exited: false, done, finish };
    this.live.set(id, container);
    child.once('exit', (code, signal) => this.exited(container, code, signal));
    child.on('error', (e) => log.warn(`supervisor of container ${id}: ${e.message}`));
    return container;
  }

  /**
   * Takes over a container that a previous agent process launched (recover.ts): a running
   * supervisor is watched through /proc; one that ended reports the status it recorded. Its
   * termination then comes out of wait() like any other. Returns the pid while it runs.
   */
  adopt(containerId: string): { pid?: number; running: boolean } {
    const known = this.live.get(containerId);
    if (known) return { pid: known.pid, running: !known.exited };
    const runDir = this.runDir(containerId);
    const check = checkContainer(runDir);
    let finish!: (t: Termination) => void;
    const done = new Promise<Termination>((resolve) => (finish = resolve));
    const container: Container = { id: containerId, pid: check.pid ?? 0, runDir, child: undefined, exited: false, done, finish };
    this.live.set(containerId, container);
    if (check.kind === 'running') {
      // Watching the kernel is real time, whatever clock drives the protocol timers.
      const watch = watchAdopted(new KernelClock(), check.pid, runDir);
      container.unwatch = watch.cancel;
      void watch.exited.then((code) => this.exited(container, code ?? null, code === undefined ? 'SIGKILL' : null));
      return { pid: check.pid, running: true };
    }
    // Ended while no agent was watching: the pid may have been reused since, so signal nothing.
    container.exited = true;
    void this.cleanUp(container, check.code === undefined ? signaledBy(9) : fromShellStatus(check.code));
    return { running: false };
  }

  /**
   * Lets go of every container without signalling it, as if this process had died (an agent
   * crash in tests): no exit is reported and nothing is cleaned up; a new agent re-adopts them.
   */
  release(): void {
    for (const c of this.live.values()) {
      c.child?.removeAllListeners('exit');
      c.child?.unref();
      this.clock.clearTimeout(c.killTimer);
      c.unwatch?.();
    }
    this.live.clear();
  }

  /** An isolator's limit was hit: remember why and destroy the container (Mesos does the same). */
  private limited(c: Container, limitation: Limitation): void {
    if (c.exited || c.limitation) return;
    log.warn(`Container ${c.id} hit a limitation (${limitation.reason}): ${limitation.message.split('\n')[0]}`);
    c.limitation = limitation;
    void this.destroy(c.id);
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
    if (!c || c.exited) return;
    this.signal(c, signal);
  }

  /**
   * SIGTERM to the process group, SIGKILL after `gracePeriodMs` (no grace: SIGKILL at once);
   * resolves once the supervisor is gone and no member of the group is left. Forgets the
   * container and removes its runtime directory. Unknown containers resolve at once.
   */
  destroy(containerId: string, gracePeriodMs?: number): Promise<void> {
    const c = this.live.get(containerId);
    if (!c) {
      const l = this.launching.get(containerId);
      if (!l) return Promise.resolve();
      // Still preparing or fetching: launch() gives up at its next step.
      l.destroyed = true;
      return l.settled.then(() => this.destroy(containerId, gracePeriodMs));
    }
    const grace = Math.max(0, gracePeriodMs ?? 0);
    if (!c.exited) {
      const killAt = this.clock.now() + grace;
      if (c.killAt === undefined || killAt < c.killAt) {
        // A later destroy may shorten the grace, never extend it.
        this.clock.clearTimeout(c.killTimer);
        c.killAt = killAt;
        if (grace === 0) {
          signalGroup(c.pid, 'SIGKILL');
        } else {
          if (!c.destroying) this.signal(c, 'SIGTERM');
          c.killTimer = this.clock.setTimeout(() => {
            c.killTimer = undefined;
            if (!c.exited) signalGroup(c.pid, 'SIGKILL');
          }, grace);
        }
      }
    }
    c.destroying ??= c.done.then(() => this.forget(c));
    return c.destroying;
  }

  containers(): string[] {
    const ids = new Set(this.launching.keys());
    for (const c of this.live.values()) if (!c.exited) ids.add(c.id);
    return [...ids];
  }

  /**
   * argv that runs a helper command inside a live container, the way Mesos's command executor
   * runs COMMAND checks from inside it: in its cgroups (so it counts against its limits and
   * dies with it), in its pid and mount namespaces (namespaces/pid, through nsenter), as its
   * user. [] when the container is gone or nothing needs entering.
   */
  helperPrefix(containerId: string): string[] {
    const c = this.live.get(containerId);
    if (!c || c.exited || !c.enter) return [];
    const out = [...joinCgroupsPrefix(c.enter.joinFiles)];
    if (c.enter.pidNamespace) {
      // The spawned pid is unshare; pid 1 of the namespace is its child.
      const init = childOf(c.pid);
      const nsenter = ['/usr/bin/nsenter', '/bin/nsenter'].find((p) => fs.existsSync(p));
      if (init !== undefined && nsenter) out.push(nsenter, `--target=${init}`, '--pid', '--mount', '--');
    }
    out.push(...c.enter.user);
    return out;
  }

  /** ResourceStatistics of a container, from its isolators (AGT-08). */
  usage(containerId: string): Promise<Msg> {
    const c = this.live.get(containerId);
    if ((!c || c.exited) && !this.launching.has(containerId)) return Promise.reject(new Error(`Unknown container '${containerId}'`));
    return this.isolation.usage(containerId);
  }

  /** New resources for a running container (limits follow). */
  update(containerId: string, resources: Msg[]): Promise<void> {
    const c = this.live.get(containerId);
    if (!c || c.exited) return Promise.reject(new Error(`Unknown container '${containerId}'`));
    return this.isolation.update(containerId, resources);
  }

  /** Pid of a live container's supervisor. */
  pid(containerId: string): number | undefined {
    return this.live.get(containerId)?.pid;
  }

  /**
   * Signals the container's process group. Until the task is forked, the supervisor's trap
   * can swallow a catchable signal for good (it arrived after the trap was set, before the
   * fork), so the signal goes out once more when forked.pid appears. SIGKILL cannot be lost.
   */
  private signal(c: Container, signal: NodeJS.Signals): void {
    signalGroup(c.pid, signal);
    if (signal === 'SIGKILL' || c.started) return;
    const file = path.join(c.runDir, 'forked.pid');
    if (fs.existsSync(file)) {
      c.started = true;
      return;
    }
    let watcher: fs.FSWatcher | undefined;
    const again = () => {
      if (!watcher) return;
      watcher.close();
      watcher = undefined;
      c.started = true;
      if (!c.exited) signalGroup(c.pid, signal);
    };
    try {
      watcher = fs.watch(c.runDir, (_event, name) => {
        if (name === 'forked.pid') again();
      });
    } catch {
      return;
    }
    watcher.on('error', () => watcher?.close());
    if (fs.existsSync(file)) again(); // created before the watch began
    void c.done.then(() => {
      watcher?.close();
      watcher = undefined;
    });
  }

  private exited(c: Container, code: number | null, signal: NodeJS.Signals | null): void {
    // Leftovers (background children that outlived the task) go with their container. The
    // group id cannot have been reused while any member is left, so this hits only them.
    signalGroup(c.pid, 'SIGKILL');
    c.exited = true;
    this.clock.clearTimeout(c.killTimer);
    c.killTimer = undefined;
    c.child = undefined;
    let t: Termination;
    if (signal) t = signaledBy(signalNumber(signal) ?? 9);
    else t = code === null ? exitedWith(255) : fromShellStatus(code);
    void this.cleanUp(c, t);
  }

  /**
   * Once the supervisor is gone: was it a limitation (an OOM kill ends the task before the
   * watch's next poll, so ask the isolators now), then kill what is left (freezer) and remove
   * the cgroups. wait() resolves after that, as Mesos's does, whoever calls destroy().
   */
  private async cleanUp(c: Container, t: Termination): Promise<void> {
    c.limitation ??= await this.isolation.limitationNow(c.id);
    c.termination = c.limitation ? { ...t, limitation: c.limitation } : t;
    await this.isolation.destroy(c.id).catch((e: Error) => log.warn(`Failed to destroy the isolation of container ${c.id}: ${e.message}`));
    c.finish(c.termination);
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

function ignoreMissing(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e;
}

class SpawnError extends Error {
  constructor(readonly child: ChildProcess) {
    super('Failed to fork the supervisor');
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

/**
 * argv that runs what follows as `user` (for helpers the agent starts on a task's behalf, such
 * as COMMAND checks); [] when no switch happens (not root, or the user is root). Throws for an
 * unknown user.
 */
export function runAsUserPrefix(user: string | undefined): string[] {
  return switchUserPrefix(credentialsFor(user));
}

/** setpriv (util-linux) after the launch prefix: the task's user from there on. */
function switchUserPrefix(credentials: { uid?: number; gid?: number }): string[] {
  if (credentials.uid === undefined) return [];
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'].find((p) => fs.existsSync(p));
  if (!setpriv) throw new Error(`Failed to switch user: 'setpriv' (util-linux) was not found`);
  return [setpriv, `--reuid=${credentials.uid}`, `--regid=${credentials.gid}`, '--init-groups', '--'];
}

/** The first child of `pid` (from /proc/<pid>/task/<pid>/children). */
function childOf(pid: number): number | undefined {
  try {
    const first = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/** The sandbox and the files the agent created in it belong to the task's user. */
async function chownSandbox(sandbox: string, uid: number, gid: number): Promise<void> {
  await fs.promises.chown(sandbox, uid, gid);
  for (const name of ['stdout', 'stderr']) {
    const file = path.join(sandbox, name);
    await fs.promises.open(file, 'a').then((h) => h.close());
    await fs.promises.chown(file, uid, gid);
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.promises.writeFile(tmp, text);
  await fs.promises.rename(tmp, file);
}
