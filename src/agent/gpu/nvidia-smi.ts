// GPU discovery through nvidia-smi (Mesos uses NVML; the CLI gives the same two facts we need:
// the GPU's index, which NVIDIA_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES speak, and its minor
// number, which names /dev/nvidia<minor>).
import { execFile } from 'node:child_process';

export interface Gpu {
  /** nvidia-smi's index. */
  index: number;
  /** Minor number of /dev/nvidia<minor> (major 195). */
  minor: number;
}

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,minor_number', '--format=csv,noheader'];

/** "0, 0\n1, 1\n" -> GPUs. Throws on anything else, so a broken tool is not taken for "no GPU". */
export function parseNvidiaSmi(text: string): Gpu[] {
  const out: Gpu[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\d+)\s*,\s*(\d+)$/.exec(line);
    if (!m) throw new Error(`Unexpected nvidia-smi output line '${line}'`);
    out.push({ index: Number(m[1]), minor: Number(m[2]) });
  }
  return out.sort((a, b) => a.index - b.index);
}

export interface DiscoverOptions {
  /** The program to run (default `nvidia-smi`, looked up on PATH). */
  nvidiaSmi?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * The machine's GPUs, or undefined when nvidia-smi is not installed (no NVIDIA driver: no
 * GPUs). Rejects when the tool exists but fails, which Mesos treats as a startup error.
 */
export function discoverGpus(opts: DiscoverOptions = {}): Promise<Gpu[] | undefined> {
  return new Promise((resolve, reject) => {
    execFile(
      opts.nvidiaSmi ?? 'nvidia-smi',
      NVIDIA_SMI_ARGS,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 10_000 },
      (err, stdout, stderr) => {
        if (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(undefined);
          return reject(new Error(`Failed to run nvidia-smi: ${String(stderr).trim() || err.message}`));
        }
        try {
          resolve(parseNvidiaSmi(String(stdout)));
        } catch (e) {
          reject(e as Error);
        }
      },
    );
  });
}
