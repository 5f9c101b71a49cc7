// How the agent starts the default executor (CMP-10): `<launcher_dir>/mesos-default-executor`
// when installed there (Mesos's layout), else this checkout's bin/mesos-default-executor run by
// the agent's own Node, pointed at the build the agent itself runs from (MESETA_BUILD_DIR).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Msg } from '../../protocol/codec.js';

export const DEFAULT_EXECUTOR_NAME = 'mesos-default-executor';

/** The tsc output root this module was compiled into (dist/ or a private build dir). */
export function buildRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/+$/, '');
}

function findBinWrapper(): string | undefined {
  for (let dir = buildRoot(); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'bin', DEFAULT_EXECUTOR_NAME);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** CommandInfo and extra environment for a DEFAULT executor without a command of its own. */
export function defaultExecutorLaunch(launcherDir: string): { command: Msg; env: Record<string, string> } {
  const dir = launcherDir.replace(/\/+$/, '');
  const installed = path.join(dir, DEFAULT_EXECUTOR_NAME);
  const flag = `--launcher_dir=${dir}`;
  if (existsSync(installed)) {
    return { command: { shell: false, value: installed, arguments: [DEFAULT_EXECUTOR_NAME, flag] }, env: {} };
  }
  const wrapper = findBinWrapper();
  if (!wrapper) return { command: { shell: false, value: installed, arguments: [DEFAULT_EXECUTOR_NAME, flag] }, env: {} };
  return {
    command: { shell: false, value: process.execPath, arguments: [process.execPath, wrapper, flag] },
    env: { MESETA_BUILD_DIR: buildRoot() },
  };
}
