// What a container with GPUs may open (devices cgroup rules) and what it is told (env).
import fs from 'node:fs';
import path from 'node:path';
import type { Gpu } from './nvidia-smi.js';

export const NVIDIA_MAJOR = 195;
/** Device nodes every GPU container needs besides its /dev/nvidia<minor>. */
export const NVIDIA_CONTROL_DEVICES = ['nvidiactl', 'nvidia-uvm', 'nvidia-uvm-tools', 'nvidia-modeset'];

/** major:minor of a character device node, or undefined when it is missing or not a char device. */
export function deviceNumber(file: string): { major: number; minor: number } | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (!st.isCharacterDevice()) return undefined;
  const rdev = st.rdev;
  return { major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00) };
}

/** devices.allow entries ("c 195:0 rwm") for the control devices present and the given GPUs. */
export function gpuDeviceRules(gpus: Gpu[], devRoot = '/dev'): string[] {
  const rules: string[] = [];
  for (const name of NVIDIA_CONTROL_DEVICES) {
    const n = deviceNumber(path.join(devRoot, name));
    if (n) rules.push(`c ${n.major}:${n.minor} rwm`);
  }
  for (const gpu of gpus) {
    const n = deviceNumber(path.join(devRoot, `nvidia${gpu.minor}`)) ?? { major: NVIDIA_MAJOR, minor: gpu.minor };
    rules.push(`c ${n.major}:${n.minor} rwm`);
  }
  return rules;
}

/** Environment telling CUDA and the NVIDIA container tools which GPUs are the task's. */
export function gpuEnvironment(gpus: Gpu[]): Record<string, string> {
  const list = gpus.map((g) => g.index).join(',');
  return { NVIDIA_VISIBLE_DEVICES: gpus.length > 0 ? list : 'void', CUDA_VISIBLE_DEVICES: list };
}
