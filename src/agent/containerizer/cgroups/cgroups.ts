// Cgroup v1 hierarchies and the per-container cgroups under --cgroups_root:
//   <mount point of controller>/<cgroups_root>/<containerId>
// Controllers are found by parsing /proc/mounts (co-mounted controllers such as cpu,cpuacct
// share a directory). Everything goes through a CgroupsFs, so the same code drives the kernel
// or the in-memory twin.
import path from 'node:path';
import { parseMountLines, RealCgroupsFs, type CgroupsFs } from './fs.js';

export class CgroupsError extends Error {
  override readonly name = 'CgroupsError';
}

export interface CgroupsOptions {
  fs?: CgroupsFs;
  /** --cgroups_hierarchy: only mounts under it are used (default /sys/fs/cgroup). */
  hierarchy?: string;
  /** --cgroups_root: the parent cgroup of every container (default "mesos"). */
  root?: string;
}

export class Cgroups {
  readonly fs: CgroupsFs;
  readonly root: string;
  readonly hierarchyRoot: string;
  private readonly mounted = new Map<string, string>();

  constructor(opts: CgroupsOptions = {}) {
    this.fs = opts.fs ?? new RealCgroupsFs();
    this.root = (opts.root ?? 'mesos').replace(/^\/+|\/+$/g, '');
    this.hierarchyRoot = path.resolve(opts.hierarchy ?? '/sys/fs/cgroup');
    if (!this.root || this.root.split('/').includes('..')) throw new CgroupsError(`Invalid cgroups root '${opts.root}'`);
    let text = '';
    try {
      text = this.fs.mounts();
    } catch {
      // No /proc/mounts: no controllers; isolators that need one will say so.
    }
    for (const m of parseMountLines(text)) {
      if (m.dir !== this.hierarchyRoot && !m.dir.startsWith(this.hierarchyRoot + '/')) continue;
      for (const c of m.controllers) if (!this.mounted.has(c)) this.mounted.set(c, m.dir);
    }
  }

  /** Controllers mounted (v1) under the hierarchy root. */
  controllers(): string[] {
    return [...this.mounted.keys()].sort();
  }

  isMounted(controller: string): boolean {
    return this.mounted.has(controller);
  }

  /** Mount point of a controller's hierarchy. */
  mountPoint(controller: string): string {
    const dir = this.mounted.get(controller);
    if (!dir) throw new CgroupsError(`cgroup controller '${controller}' is not mounted`);
    return dir;
  }

  /** Directory of a container's cgroup in a controller's hierarchy. */
  path(controller: string, containerId: string): string {
    checkId(containerId);
    return path.join(this.mountPoint(controller), this.root, containerId);
  }

  exists(controller: string, containerId: string): boolean {
    return this.isMounted(controller) && this.fs.exists(this.path(controller, containerId));
  }

  create(controller: string, containerId: string): string {
    const dir = this.path(controller, containerId);
    try {
      this.fs.mkdir(dir);
    } catch (e) {
      throw new CgroupsError(`Failed to create cgroup '${dir}': ${(e as Error).message}`);
    }
    return dir;
  }

  read(controller: string, containerId: string, file: string): string {
    return this.fs.read(path.join(this.path(controller, containerId), file));
  }

  write(controller: string, containerId: string, file: string, value: string | number): void {
    const p = path.join(this.path(controller, containerId), file);
    try {
      this.fs.write(p, String(value));
    } catch (e) {
      throw new CgroupsError(`Failed to write '${value}' to '${p}': ${(e as Error).message}`);
    }
  }

  /** Moves a process (all its threads) into the container's cgroup. */
  assign(controller: string, containerId: string, pid: number): void {
    this.write(controller, containerId, 'cgroup.procs', pid);
  }

  /** Processes (thread group leaders) in the container's cgroup and its descendants. */
  procs(controller: string, containerId: string): number[] {
    if (!this.exists(controller, containerId)) return [];
    return this.procsIn(this.path(controller, containerId));
  }

  /** Removes the container's cgroup (and nested cgroups, deepest first). Missing is fine. */
  remove(controller: string, containerId: string): void {
    if (!this.isMounted(controller)) return;
    const dir = this.path(controller, containerId);
    if (!this.fs.exists(dir)) return;
    this.removeTree(dir);
  }

  /** Container ids that have a cgroup under the root in a controller's hierarchy. */
  containers(controller: string): string[] {
    if (!this.isMounted(controller)) return [];
    return this.fs.children(path.join(this.mountPoint(controller), this.root));
  }

  private procsIn(dir: string): number[] {
    const out: number[] = [];
    try {
      for (const line of this.fs.read(path.join(dir, 'cgroup.procs')).split('\n')) {
        const pid = Number(line.trim());
        if (line.trim() && Number.isInteger(pid) && pid > 0) out.push(pid);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const child of this.fs.children(dir)) out.push(...this.procsIn(path.join(dir, child)));
    return out;
  }

  private removeTree(dir: string): void {
    for (const child of this.fs.children(dir)) this.removeTree(path.join(dir, child));
    try {
      this.fs.rmdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new CgroupsError(`Failed to remove cgroup '${dir}': ${(e as Error).message}`);
    }
  }
}

function checkId(id: string): void {
  if (!id || id.includes('/') || id === '.' || id === '..') throw new CgroupsError(`Invalid container id '${id}'`);
}
