// The agent's flags -> its containerizer: launcher, isolators (cgroups, disk, GPUs), fetcher.
// Errors carry the message the agent prints when it refuses to start.
import type { Clock } from '../../common/clock.js';
import type { Flags } from '../../common/flags.js';
import { agentGpus, discoverGpus, GpuAllocator } from '../gpu/index.js';
import { createContainerizer, type Containerizer } from './index.js';

export interface AgentContainerizer {
  containerizer: Containerizer;
  /** GPUs found by nvidia-smi, to add as `gpus` when --resources names none (0: nothing to add). */
  discoveredGpus: number;
}

export interface ContainerizerFlagsContext {
  clock: Clock;
  workDir: string;
  /** `gpus` in --resources, when given. */
  resourcesGpus?: number;
  /** For tests: where nvidia-smi is looked up. */
  env?: NodeJS.ProcessEnv;
}

export async function containerizerFromFlags(flags: Flags, ctx: ContainerizerFlagsContext): Promise<AgentContainerizer> {
  const isolation = flags.str('isolation');
  const gpuIsolation = (isolation ?? '').split(',').some((name) => name.trim() === 'gpu/nvidia');
  const nvidiaGpuDevices = flags.str('nvidia_gpu_devices');
  // nvidia-smi runs only when the GPU isolator asks for it; the flag rules apply either way.
  const discovered = gpuIsolation ? await discoverGpus(ctx.env ? { env: ctx.env } : {}) : undefined;
  const gpus = agentGpus(
    {
      gpuIsolation,
      ...(ctx.resourcesGpus !== undefined ? { resourcesGpus: ctx.resourcesGpus } : {}),
      ...(nvidiaGpuDevices !== undefined ? { nvidiaGpuDevices } : {}),
    },
    discovered,
  );
  const containerizer = createContainerizer({
    clock: ctx.clock,
    workDir: ctx.workDir,
    launcher: flags.str('launcher'),
    isolation,
    isolationOptions: {
      cgroupsHierarchy: flags.str('cgroups_hierarchy'),
      cgroupsRoot: flags.str('cgroups_root'),
      enableCfs: flags.bool('cgroups_enable_cfs'),
      limitSwap: flags.bool('cgroups_limit_swap'),
      countPidsAndTids: flags.bool('cgroups_cpu_enable_pids_and_tids_count'),
      destroyTimeoutMs: flags.num('cgroups_destroy_timeout'),
      pidsMax: flags.num('cgroups_pids_max'),
      enforceDiskQuota: flags.bool('enforce_container_disk_quota'),
      diskWatchIntervalMs: flags.num('container_disk_watch_interval'),
      gpuAllocator: new GpuAllocator(gpus),
    },
    fetcher: {
      cacheDir: flags.str('fetcher_cache_dir'),
      cacheSize: flags.num('fetcher_cache_size'),
      stallTimeoutMs: flags.num('fetcher_stall_timeout'),
      frameworksHome: flags.str('frameworks_home'),
    },
  });
  return { containerizer, discoveredGpus: ctx.resourcesGpus === undefined ? gpus.length : 0 };
}
