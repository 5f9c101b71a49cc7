// Nested containers (AGT-09, OPA-21..24): containers launched under a running executor's
// container through the agent operator API, as the default executor does for each task.
//
// A nested container is an ordinary containerizer container whose flat id is Mesos's string
// form of its ContainerID (`parent.child`). Its sandbox is `<parent sandbox>/containers/<child>`
// (AGT-04). This class wraps the agent's containerizer so that a parent that ends or is
// destroyed takes its nested containers with it, as Mesos's containerizer does.
import fs from 'node:fs';
import path from 'node:path';
import { validateIdValue } from '../../common/ids.js';
import { logger } from '../../common/log.js';
import type { Msg } from '../../protocol/codec.js';
import type { Containerizer, LaunchSpec, Termination } from '../containerizer/index.js';
import { mountSandboxVolumes, validateSandboxVolumes } from './volumes.js';

const log = logger('nested');

/** What the agent knows about a top-level (executor) container. */
export interface RootContainer {
  sandbox: string;
  frameworkId: string;
  executorId: string;
  executorName: string;
  /** The user tasks run as when the agent switches users. */
  user?: string;
}

export type RootLookup = (containerId: string) => RootContainer | undefined;

/** A failed call, with the HTTP status the operator API answers. */
export class NestedContainerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'NestedContainerError';
  }
}

interface Child {
  /** The ContainerID message as given. */
  readonly containerId: Msg;
  readonly key: string;
  readonly parentKey: string;
  readonly sandbox: string;
  readonly root: RootContainer;
  readonly user?: string;
  state: 'LAUNCHING' | 'RUNNING' | 'EXITED';
  readonly done: Promise<Termination>;
  finish: (t: Termination) => void;
}

/** Mesos's string form of a ContainerID: ancestors first, joined by dots. */
export function containerKey(id: Msg | undefined): string {
  if (!id) return '';
  const own = String(id.value ?? '');
  return id.parent ? `${containerKey(id.parent)}.${own}` : own;
}

/** Why a ContainerID cannot be used, or undefined. */
export function validateContainerId(id: Msg | undefined): string | undefined {
  for (let c = id; c; c = c.parent) {
    const value = typeof c.value === 'string' ? c.value : undefined;
    const bad = validateIdValue('ContainerID', value);
    if (bad) return bad;
    if (value!.includes('.')) return `ContainerID '${value}' contains a '.'`;
  }
  return id ? undefined : "Expecting 'container_id' to be present";
}

export class NestedContainers implements Containerizer {
  private readonly children = new Map<string, Child>();
  private lookup: RootLookup = () => undefined;
  /** Containers being destroyed: no new nested containers under them. */
  private readonly destroying = new Set<string>();

  constructor(private readonly inner: Containerizer) {}

  /** The agent answers which executor container an id names (set once the agent exists). */
  setRootLookup(lookup: RootLookup): void {
    this.lookup = lookup;
  }

  // ---- the Containerizer interface: delegation, plus cascading ends ----

  launch(spec: LaunchSpec): Promise<{ pid: number }> {
    return this.inner.launch(spec);
  }

  async wait(containerId: string): Promise<Termination> {
    const t = await this.inner.wait(containerId);
    // Nested containers never outlive their parent.
    await this.destroyChildren(containerId);
    return t;
  }

  kill(containerId: string, signal: NodeJS.Signals): void {
    this.inner.kill(containerId, signal);
  }

  async destroy(containerId: string, gracePeriodMs?: number): Promise<void> {
    this.destroying.add(containerId);
    try {
      await this.destroyChildren(containerId);
      await this.inner.destroy(containerId, gracePeriodMs);
    } finally {
      this.destroying.delete(containerId);
    }
  }

  containers(): string[] {
    return this.inner.containers();
  }

  pid(containerId: string): number | undefined {
    return this.inner.pid(containerId);
  }

  usage(containerId: string): Promise<Msg> {
    return this.inner.usage(containerId);
  }

  update(containerId: string, resources: Msg[]): Promise<void> {
    return this.inner.update(containerId, resources);
  }

  helperPrefix(containerId: string): string[] {
    return this.inner.helperPrefix(containerId);
  }

  // ---- nested containers ----

  /**
   * LAUNCH_CONTAINER with a parent: 'launched', or 'exists' when the id is taken (Mesos's 202).
   * Throws NestedContainerError(400) for anything that cannot be launched.
   */
  async launchNested(containerId: Msg, command: Msg | undefined, container: Msg | undefined): Promise<'launched' | 'exists'> {
    const invalid = validateContainerId(containerId);
    if (invalid) throw new NestedContainerError(400, invalid);
    if (!containerId.parent) throw new NestedContainerError(400, 'Expecting a nested container (with a parent)');
    const key = containerKey(containerId);
    if (this.children.has(key) || this.inner.containers().includes(key)) return 'exists';
    if (container && container.type !== undefined && container.type !== 'MESOS') {
      throw new NestedContainerError(400, 'The provided ContainerInfo is not supported');
    }
    if (!command) throw new NestedContainerError(400, "Expecting 'command' to be present");
    const badVolume = validateSandboxVolumes(container);
    if (badVolume) throw new NestedContainerError(400, badVolume);
    const parentKey = containerKey(containerId.parent);
    const parent = this.parentOf(parentKey);
    if (!parent) throw new NestedContainerError(400, `Parent container ${parentKey} does not exist`);

    const sandbox = path.join(parent.sandbox, 'containers', String(containerId.value));
    const user = (command.user as string | undefined) ?? parent.user;
    let finish!: (t: Termination) => void;
    const done = new Promise<Termination>((r) => (finish = r));
    const child: Child = { containerId, key, parentKey, sandbox, root: parent.root, state: 'LAUNCHING', done, finish, ...(user ? { user } : {}) };
    this.children.set(key, child);
    try {
      await fs.promises.mkdir(sandbox, { recursive: true });
      await mountSandboxVolumes(container, sandbox, parent.sandbox);
      // The whole environment: the command's own variables are applied by the containerizer.
      await this.inner.launch({ containerId: key, sandbox, command, env: { MESOS_SANDBOX: sandbox }, ...(user ? { user } : {}), resources: [] });
    } catch (e) {
      this.children.delete(key);
      throw new NestedContainerError(400, `Failed to launch nested container ${key}: ${(e as Error).message}`);
    }
    if (child.state === 'EXITED') return 'launched'; // destroyed with its parent meanwhile
    child.state = 'RUNNING';
    log.info(`Launched nested container ${key} in ${sandbox}`);
    this.inner.wait(key).then(
      (t) => this.exited(child, t),
      () => this.exited(child, { status: 9, exitCode: null, signal: 'SIGKILL' }),
    );
    return 'launched';
  }

  /** WAIT_CONTAINER: the termination, or undefined for an unknown container (404). */
  waitNested(containerId: Msg): Promise<Termination> | undefined {
    return this.known(containerId)?.done;
  }

  /** KILL_CONTAINER: false for an unknown container (404). */
  killNested(containerId: Msg, signal: NodeJS.Signals): boolean {
    const child = this.known(containerId);
    if (!child) return false;
    if (child.state === 'EXITED') return true;
    if (signal === 'SIGKILL') void this.destroyChild(child);
    else this.inner.kill(child.key, signal);
    return true;
  }

  /** REMOVE_CONTAINER: deletes the sandbox of an exited nested container. */
  async removeNested(containerId: Msg): Promise<void> {
    const invalid = validateContainerId(containerId);
    if (invalid) throw new NestedContainerError(400, invalid);
    const key = containerKey(containerId);
    const child = this.children.get(key);
    if (!child) return; // nothing left to remove
    if (child.state !== 'EXITED') throw new NestedContainerError(500, `Attempted to remove running container ${key}`);
    this.children.delete(key);
    await fs.promises.rm(child.sandbox, { recursive: true, force: true });
  }

  /** Live nested containers, for GET_CONTAINERS with show_nested. */
  nested(): Array<{ containerId: Msg; key: string; root: RootContainer }> {
    return [...this.children.values()].filter((c) => c.state !== 'EXITED').map((c) => ({ containerId: c.containerId, key: c.key, root: c.root }));
  }

  /**
   * A nested container we launched, or one the containerizer still runs that we do not know
   * (re-adopted by a restarted agent's recovery): taken back into our bookkeeping.
   */
  private known(containerId: Msg): Child | undefined {
    const key = containerKey(containerId);
    const child = this.children.get(key);
    if (child || !containerId?.parent || !this.inner.containers().includes(key)) return child;
    const parentKey = containerKey(containerId.parent);
    const parent = this.parentOf(parentKey);
    if (!parent) return undefined;
    let finish!: (t: Termination) => void;
    const done = new Promise<Termination>((r) => (finish = r));
    const sandbox = path.join(parent.sandbox, 'containers', String(containerId.value));
    const adopted: Child = { containerId, key, parentKey, sandbox, root: parent.root, state: 'RUNNING', done, finish, ...(parent.user ? { user: parent.user } : {}) };
    this.children.set(key, adopted);
    this.inner.wait(key).then(
      (t) => this.exited(adopted, t),
      () => this.exited(adopted, { status: 9, exitCode: null, signal: 'SIGKILL' }),
    );
    return adopted;
  }

  private parentOf(parentKey: string): { sandbox: string; root: RootContainer; user?: string } | undefined {
    if (this.destroying.has(parentKey)) return undefined;
    const nestedParent = this.children.get(parentKey);
    if (nestedParent) {
      if (nestedParent.state !== 'RUNNING') return undefined;
      return { sandbox: nestedParent.sandbox, root: nestedParent.root, ...(nestedParent.user ? { user: nestedParent.user } : {}) };
    }
    const root = this.lookup(parentKey);
    if (!root || !this.inner.containers().includes(parentKey)) return undefined;
    return { sandbox: root.sandbox, root, ...(root.user ? { user: root.user } : {}) };
  }

  private exited(child: Child, t: Termination): void {
    if (child.state === 'EXITED') return;
    child.state = 'EXITED';
    child.finish(t);
    // The containerizer forgets it (runtime dir); the sandbox stays until REMOVE_CONTAINER.
    void this.inner.destroy(child.key).catch(() => undefined);
    void this.destroyChildren(child.key);
  }

  private async destroyChild(child: Child): Promise<void> {
    await this.destroyChildren(child.key);
    await this.inner.destroy(child.key, 0).catch((e: Error) => log.warn(`Failed to destroy nested container ${child.key}: ${e.message}`));
  }

  /** Destroys every nested container under `parentKey` (any depth) and forgets them. */
  private async destroyChildren(parentKey: string): Promise<void> {
    const mine = [...this.children.values()].filter((c) => c.parentKey === parentKey);
    if (mine.length === 0) return;
    await Promise.all(
      mine.map(async (c) => {
        if (c.state !== 'EXITED') await this.destroyChild(c);
        // A nested container still launching has no wait() yet: settle its waiters here.
        if (c.state !== 'EXITED') this.exited(c, { status: 9, exitCode: null, signal: 'SIGKILL' });
        this.children.delete(c.key);
      }),
    );
  }
}
