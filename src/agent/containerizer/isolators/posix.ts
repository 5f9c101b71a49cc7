// posix/cpu and posix/mem: usage reporting only, from /proc (no enforcement), and
// filesystem/posix: the sandbox is the container's only filesystem.
import fs from 'node:fs';
import type { Msg } from '../../../protocol/codec.js';
import { MB, never, scalar, type ContainerConfig, type Isolator, type LaunchInfo, type Limitation } from './isolator.js';
import { containerProcesses, cpuUsage, rssBytes, threadCount } from './procfs.js';

abstract class PosixAccounting implements Isolator {
  abstract readonly name: string;
  protected readonly pids = new Map<string, number>();
  protected readonly resources = new Map<string, Msg[]>();

  constructor(protected readonly procRoot = '/proc') {}

  async prepare(config: ContainerConfig): Promise<LaunchInfo | undefined> {
    this.resources.set(config.containerId, config.resources);
    return undefined;
  }
  async isolate(containerId: string, pid: number): Promise<void> {
    this.pids.set(containerId, pid);
  }
  watch(): Promise<Limitation> {
    return never();
  }
  async update(containerId: string, resources: Msg[]): Promise<void> {
    this.resources.set(containerId, resources);
  }
  abstract usage(containerId: string): Promise<Msg>;
  async cleanup(containerId: string): Promise<void> {
    this.pids.delete(containerId);
    this.resources.delete(containerId);
  }
  protected procs(containerId: string) {
    const pid = this.pids.get(containerId);
    return pid === undefined ? [] : containerProcesses(pid, this.procRoot);
  }
}

export class PosixCpuIsolator extends PosixAccounting {
  readonly name = 'posix/cpu';
  async usage(containerId: string): Promise<Msg> {
    const procs = this.procs(containerId);
    const cpu = cpuUsage(procs);
    const out: Msg = {
      cpus_user_time_secs: cpu.user,
      cpus_system_time_secs: cpu.system,
      processes: procs.length,
      threads: threadCount(procs),
    };
    const cpus = scalar(this.resources.get(containerId) ?? [], 'cpus');
    if (cpus !== undefined) out.cpus_limit = cpus;
    return out;
  }
}

export class PosixMemIsolator extends PosixAccounting {
  readonly name = 'posix/mem';
  async usage(containerId: string): Promise<Msg> {
    const procs = this.procs(containerId);
    const out: Msg = { mem_rss_bytes: rssBytes(procs, this.procRoot) };
    const mem = scalar(this.resources.get(containerId) ?? [], 'mem');
    if (mem !== undefined) out.mem_limit_bytes = Math.round(mem * MB);
    return out;
  }
}

export class FilesystemPosixIsolator implements Isolator {
  readonly name = 'filesystem/posix';
  async prepare(config: ContainerConfig): Promise<LaunchInfo | undefined> {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(config.sandbox);
    } catch {
      throw new Error(`Sandbox directory '${config.sandbox}' does not exist`);
    }
    if (!st.isDirectory()) throw new Error(`Sandbox '${config.sandbox}' is not a directory`);
    return undefined;
  }
  async isolate(): Promise<void> {}
  watch(): Promise<Limitation> {
    return never();
  }
  async update(): Promise<void> {}
  async usage(): Promise<Msg> {
    return {};
  }
  async cleanup(): Promise<void> {}
}
