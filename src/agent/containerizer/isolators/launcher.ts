// The `linux` launcher's part that is not fork/exec: every container gets a freezer cgroup,
// the child joins all of its cgroups *before* it execs (so the task and everything it forks
// are inside from the first instruction), and destroy kills the whole cgroup (daemons and
// grandchildren included) with freeze -> SIGKILL -> thaw, then removes it.
//
// The join is a launch prefix, not code in the agent: the containerizer spawns
//   /bin/sh -c JOIN_SCRIPT meseta-cgroups-join N procs1 .. procsN  <rest of argv>
// and that shell writes its own pid into each cgroup.procs and execs the rest (the
// supervisor), so the pid the containerizer knows stays the same process throughout.
import type { Clock } from '../../../common/clock.js';
import type { Cgroups } from '../cgroups/cgroups.js';
import { destroyCgroups } from '../cgroups/destroy.js';
import path from 'node:path';

/** Exit status of the join prefix when a cgroup could not be joined (before anything ran). */
export const JOIN_FAILED_STATUS = 125;

export const JOIN_SCRIPT = [
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do',
  `  echo $$ > "$1" || { echo "Failed to join cgroup '$1'" >&2; exit ${JOIN_FAILED_STATUS}; }`,
  '  n=$((n - 1)); shift',
  'done',
  'exec "$@"',
].join('\n');

/** argv that joins the given cgroup.procs files, then execs whatever argv follows it. */
export function joinCgroupsPrefix(procsFiles: string[]): string[] {
  if (procsFiles.length === 0) return [];
  return ['/bin/sh', '-c', JOIN_SCRIPT, 'meseta-cgroups-join', String(procsFiles.length), ...procsFiles];
}

export interface LinuxLauncherOptions {
  cgroups: Cgroups;
  clock: Clock;
  /** --cgroups_destroy_timeout (default 1 min). */
  destroyTimeoutMs?: number;
}

export class LinuxLauncher {
  private readonly cg: Cgroups;

  constructor(private readonly opts: LinuxLauncherOptions) {
    this.cg = opts.cgroups;
    if (!this.cg.isMounted('freezer')) {
      throw new Error(`Failed to create the linux launcher: cgroup controller 'freezer' is not mounted`);
    }
  }

  /** Creates the container's freezer cgroup; returns its cgroup.procs file for the join. */
  prepare(containerId: string): string {
    return path.join(this.cg.create('freezer', containerId), 'cgroup.procs');
  }

  /** Every process of the container, as the freezer sees it. */
  pids(containerId: string): number[] {
    return this.cg.procs('freezer', containerId);
  }

  /** Kills every process of the container and removes its freezer cgroup. */
  destroy(containerId: string): Promise<void> {
    return destroyCgroups(this.cg, containerId, ['freezer'], {
      clock: this.opts.clock,
      ...(this.opts.destroyTimeoutMs !== undefined ? { timeoutMs: this.opts.destroyTimeoutMs } : {}),
    });
  }

  /** Containers that still have a freezer cgroup (after an agent restart: recover or destroy them). */
  containers(): string[] {
    return this.cg.containers('freezer');
  }
}
