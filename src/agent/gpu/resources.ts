// Which GPUs an agent offers: Mesos's rules for `gpus` in --resources, --nvidia_gpu_devices
// and the gpu/nvidia isolator, with autodetection when neither flag is given.
import type { Gpu } from './nvidia-smi.js';

/** Parses --nvidia_gpu_devices ("0,1,3"): unsigned integers, no duplicates. */
export function parseNvidiaGpuDevices(flag: string): number[] {
  const parts = flag.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) throw new Error(`'--nvidia_gpu_devices' contains an invalid GPU index '${p}': expected unsigned integers`);
    out.push(Number(p));
  }
  if (new Set(out).size !== out.length) throw new Error(`'--nvidia_gpu_devices' contains duplicates`);
  return out;
}

export interface GpuFlags {
  /** --isolation contains gpu/nvidia. */
  gpuIsolation: boolean;
  /** Value of `gpus` in --resources, when given. */
  resourcesGpus?: number;
  /** --nvidia_gpu_devices, when given. */
  nvidiaGpuDevices?: string;
}

/**
 * The GPUs the agent manages. `discovered` is what nvidia-smi reported (undefined: no tool).
 * Throws with a message fit for the agent's startup error.
 */
export function agentGpus(flags: GpuFlags, discovered: Gpu[] | undefined): Gpu[] {
  if (!flags.gpuIsolation) {
    if (flags.nvidiaGpuDevices !== undefined) {
      throw new Error(`'--nvidia_gpu_devices' can only be specified if the '--isolation' flag contains 'gpu/nvidia'`);
    }
    return [];
  }
  const hasCount = flags.resourcesGpus !== undefined;
  const hasList = flags.nvidiaGpuDevices !== undefined;
  if (hasCount && !hasList) {
    throw new Error(`When specifying the 'gpus' resource, you must also specify a list of GPUs via the '--nvidia_gpu_devices' flag`);
  }
  if (!hasCount && hasList) {
    throw new Error(`When specifying '--nvidia_gpu_devices', you must also specify a number of GPUs via the 'gpus' resource`);
  }
  const found = discovered ?? [];
  if (!hasCount) return found; // autodetect: every GPU on the machine
  const count = flags.resourcesGpus!;
  if (!Number.isInteger(count) || count < 0) throw new Error(`The 'gpus' resource must be an unsigned integer`);
  const wanted = parseNvidiaGpuDevices(flags.nvidiaGpuDevices!);
  if (wanted.length !== count) {
    throw new Error(`The number of GPUs passed in the '--nvidia_gpu_devices' flag must match the number of GPUs specified in the 'gpus' resource`);
  }
  return wanted.map((index) => {
    const gpu = found.find((g) => g.index === index);
    if (!gpu) throw new Error(`GPU ${index} in '--nvidia_gpu_devices' was not found on this machine`);
    return gpu;
  });
}
