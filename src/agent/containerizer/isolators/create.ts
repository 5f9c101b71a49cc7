// --isolation -> isolators, with Mesos's names and clear errors for unknown names and for
// controllers that are not mounted. The default (posix/cpu,posix/mem) needs nothing.
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../../common/clock.js';
import { GpuAllocator } from '../../gpu/allocator.js';
import { Cgroups } from '../cgroups/cgroups.js';
import { CgroupsCpuIsolator } from './cgroups-cpu.js';
import { CgroupsDevicesIsolator } from './cgroups-devices.js';
import { CgroupsMemIsolator } from './cgroups-mem.js';
import { CgroupsPidsIsolator } from './cgroups-pids.js';
import { DiskDuIsolator } from './disk-du.js';
import { GpuNvidiaIsolator } from './gpu-nvidia.js';
import type { Isolator } from './isolator.js';
import { Isolation } from './isolation.js';
import { LinuxLauncher } from './launcher.js';
import { NamespacesPidIsolator } from './namespaces-pid.js';
import { FilesystemPosixIsolator, PosixCpuIsolator, PosixMemIsolator } from './posix.js';

export const DEFAULT_ISOLATION = 'posix/cpu,posix/mem';

/** Supported isolators in the order they are prepared (devices before gpu/nvidia). */
export const SUPPORTED_ISOLATORS = [
  'filesystem/posix',
  'posix/cpu',
  'posix/mem',
  'cgroups/cpu',
  'cgroups/mem',
  'cgroups/pids',
  'cgroups/devices',
  'gpu/nvidia',
  'disk/du',
  'namespaces/pid',
] as const;

const ALIASES: Record<string, string> = { 'posix/disk': 'disk/du' };

/** Controllers each cgroups isolator needs. */
export const REQUIRED_CONTROLLERS: Record<string, string[]> = {
  'cgroups/cpu': ['cpu', 'cpuacct'],
  'cgroups/mem': ['memory'],
  'cgroups/pids': ['pids'],
  'cgroups/devices': ['devices'],
};

export interface IsolationOptions {
  clock: Clock;
  /**
   * Clock for waiting on the kernel (cgroup destruction, OOM polling); default `clock`. The
   * agent passes a real one, so a test's ManualClock never stalls a kill.
   */
  kernelClock?: Clock;
  /** Shared cgroups handle; else one is made from cgroupsHierarchy/cgroupsRoot. */
  cgroups?: Cgroups;
  /** --cgroups_hierarchy / --cgroups_root */
  cgroupsHierarchy?: string;
  cgroupsRoot?: string;
  /** --cgroups_enable_cfs / --cgroups_limit_swap / --cgroups_cpu_enable_pids_and_tids_count */
  enableCfs?: boolean;
  limitSwap?: boolean;
  countPidsAndTids?: boolean;
  /** --cgroups_destroy_timeout */
  destroyTimeoutMs?: number;
  /** pids.max for cgroups/pids (not a Mesos flag). */
  pidsMax?: number;
  oomPollMs?: number;
  /** --enforce_container_disk_quota / --container_disk_watch_interval */
  enforceDiskQuota?: boolean;
  diskWatchIntervalMs?: number;
  /** The agent's GPUs (from gpu/agentGpus); none when absent. */
  gpuAllocator?: GpuAllocator;
  devRoot?: string;
  /** --launcher: `linux` adds the freezer-based launcher (kill-all); default posix. */
  launcher?: string;
  /** util-linux unshare binary for namespaces/pid (default: found on PATH). */
  unshare?: string;
}

/** Parses --isolation into canonical names, in preparation order. Throws on unknown names. */
export function parseIsolation(flag: string | undefined, cgroups?: Cgroups): string[] {
  const names = new Set<string>();
  for (const raw of (flag ?? DEFAULT_ISOLATION).split(',')) {
    const name = ALIASES[raw.trim()] ?? raw.trim();
    if (!name) continue;
    if (name === 'cgroups/all') {
      // Every cgroups isolator whose controllers are mounted.
      for (const [iso, ctrls] of Object.entries(REQUIRED_CONTROLLERS)) {
        if (!cgroups || ctrls.every((c) => cgroups.isMounted(c))) names.add(iso);
      }
      continue;
    }
    if (!(SUPPORTED_ISOLATORS as readonly string[]).includes(name)) {
      throw new Error(`Unknown or unsupported isolator '${name}'`);
    }
    names.add(name);
  }
  names.add('filesystem/posix'); // Mesos adds it when no filesystem isolator is named
  return SUPPORTED_ISOLATORS.filter((n) => names.has(n));
}

function onPath(program: string): string | undefined {
  if (program.includes('/')) return fs.existsSync(program) ? program : undefined;
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, program);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Builds the isolators named by --isolation (see parseIsolation). */
export function createIsolators(flag: string | undefined, opts: IsolationOptions): Isolator[] {
  const needsCgroups = () => opts.cgroups ?? (opts.cgroups = new Cgroups({ hierarchy: opts.cgroupsHierarchy, root: opts.cgroupsRoot }));
  const names = parseIsolation(flag, /cgroups\//.test(flag ?? '') ? needsCgroups() : undefined);
  const fail = (name: string, why: string) => new Error(`Failed to create isolator '${name}': ${why}`);
  const base = () => ({ cgroups: needsCgroups(), clock: opts.kernelClock ?? opts.clock, destroyTimeoutMs: opts.destroyTimeoutMs });

  for (const name of names) {
    for (const c of REQUIRED_CONTROLLERS[name] ?? []) {
      if (!needsCgroups().isMounted(c)) throw fail(name, `cgroup controller '${c}' is not mounted`);
    }
  }
  if (names.includes('gpu/nvidia') && !names.includes('cgroups/devices')) {
    throw new Error(`The 'cgroups/devices' isolator must be enabled in order to use the 'gpu/nvidia' isolator`);
  }

  const out: Isolator[] = [];
  let devices: CgroupsDevicesIsolator | undefined;
  for (const name of names) {
    switch (name) {
      case 'filesystem/posix':
        out.push(new FilesystemPosixIsolator());
        break;
      case 'posix/cpu':
        out.push(new PosixCpuIsolator());
        break;
      case 'posix/mem':
        out.push(new PosixMemIsolator());
        break;
      case 'cgroups/cpu':
        out.push(new CgroupsCpuIsolator({ ...base(), enableCfs: opts.enableCfs, countPidsAndTids: opts.countPidsAndTids }));
        break;
      case 'cgroups/mem':
        out.push(new CgroupsMemIsolator({ ...base(), limitSwap: opts.limitSwap, oomPollMs: opts.oomPollMs }));
        break;
      case 'cgroups/pids':
        out.push(new CgroupsPidsIsolator({ ...base(), pidsMax: opts.pidsMax }));
        break;
      case 'cgroups/devices':
        devices = new CgroupsDevicesIsolator(base());
        out.push(devices);
        break;
      case 'gpu/nvidia':
        out.push(new GpuNvidiaIsolator({ allocator: opts.gpuAllocator ?? new GpuAllocator([]), devices: devices!, devRoot: opts.devRoot }));
        break;
      case 'disk/du':
        out.push(new DiskDuIsolator({ clock: opts.clock, enforceQuota: opts.enforceDiskQuota, watchIntervalMs: opts.diskWatchIntervalMs }));
        break;
      case 'namespaces/pid': {
        if (typeof process.getuid === 'function' && process.getuid() !== 0) throw fail(name, 'a pid namespace needs root');
        const unshare = onPath(opts.unshare ?? 'unshare');
        if (!unshare) throw fail(name, `'${opts.unshare ?? 'unshare'}' (util-linux) was not found`);
        out.push(new NamespacesPidIsolator(unshare));
        break;
      }
    }
  }
  if (names.includes('cgroups/mem') && opts.limitSwap) {
    // Swap accounting may be compiled out or disabled at boot (swapaccount=0).
    const cg = needsCgroups();
    if (!cg.fs.exists(path.join(cg.mountPoint('memory'), 'memory.memsw.limit_in_bytes'))) {
      throw fail('cgroups/mem', `'--cgroups_limit_swap' needs swap accounting, and memory.memsw.limit_in_bytes is missing`);
    }
  }
  return out;
}

/** The isolators plus, with --launcher=linux, the freezer-based launcher. */
export function createIsolation(flag: string | undefined, opts: IsolationOptions): Isolation {
  const isolators = createIsolators(flag, opts);
  const launcherName = opts.launcher ?? 'posix';
  if (launcherName !== 'posix' && launcherName !== 'linux') throw new Error(`Unknown or unsupported launcher: '${launcherName}'`);
  const cgroups = opts.cgroups ?? (launcherName === 'linux' ? new Cgroups({ hierarchy: opts.cgroupsHierarchy, root: opts.cgroupsRoot }) : undefined);
  const launcher =
    launcherName === 'linux' ? new LinuxLauncher({ cgroups: cgroups!, clock: opts.kernelClock ?? opts.clock, destroyTimeoutMs: opts.destroyTimeoutMs }) : undefined;
  return new Isolation(isolators, opts.clock, launcher);
}
