// Kill every process of a container and remove its cgroups. With the freezer the set of
// processes cannot change while we signal it (no fork races, daemons included); without it we
// signal what cgroup.procs lists until nothing is left. Waiting goes through the Clock.
import type { Clock } from '../../../common/clock.js';
import type { Cgroups } from './cgroups.js';

export interface DestroyOptions {
  clock: Clock;
  /** Give up after this long (--cgroups_destroy_timeout, default 1 min). */
  timeoutMs?: number;
  /** How often to look again while waiting for the kernel. */
  pollMs?: number;
  /** Sends a signal; defaults to process.kill (tests may observe it). */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

function defaultKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * SIGKILLs every process in the container's cgroups, waits until they are gone and removes the
 * cgroups of `controllers`. `killController` is where the processes are listed: freezer when
 * mounted (and used), else the first of `controllers`.
 */
export async function destroyCgroups(cg: Cgroups, containerId: string, controllers: string[], opts: DestroyOptions): Promise<void> {
  const { clock } = opts;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const pollMs = opts.pollMs ?? 10;
  const kill = opts.kill ?? defaultKill;
  const deadline = clock.now() + timeoutMs;
  const present = controllers.filter((c) => cg.exists(c, containerId));
  const useFreezer = present.includes('freezer');
  const listFrom = useFreezer ? 'freezer' : present[0];

  if (listFrom !== undefined) {
    for (let round = 0; ; round++) {
      const pids = cg.procs(listFrom, containerId);
      if (pids.length === 0) break;
      if (clock.now() > deadline) {
        throw new Error(`Timed out destroying cgroups of container ${containerId}: ${pids.length} processes left`);
      }
      if (useFreezer) await freeze(cg, containerId, clock, deadline, pollMs);
      for (const pid of cg.procs(listFrom, containerId)) kill(pid, 'SIGKILL');
      // SIGKILL is delivered to a frozen task only once it is thawed.
      if (useFreezer) cg.write('freezer', containerId, 'freezer.state', 'THAWED');
      if (cg.procs(listFrom, containerId).length === 0) break;
      await sleep(clock, round < 10 ? pollMs : pollMs * 10);
    }
  }

  // The other hierarchies may still list exiting tasks for a moment: wait for them too.
  for (;;) {
    const busy = present.filter((c) => cg.procs(c, containerId).length > 0);
    if (busy.length === 0) break;
    if (clock.now() > deadline) throw new Error(`Timed out waiting for the cgroups of container ${containerId} to empty (${busy.join(', ')})`);
    for (const c of busy) for (const pid of cg.procs(c, containerId)) kill(pid, 'SIGKILL');
    await sleep(clock, pollMs);
  }

  for (const c of present) {
    for (;;) {
      try {
        cg.remove(c, containerId);
        break;
      } catch (e) {
        // rmdir can see EBUSY while the last task is still being released.
        if (clock.now() > deadline) throw e;
        await sleep(clock, pollMs);
      }
    }
  }
}

async function freeze(cg: Cgroups, id: string, clock: Clock, deadline: number, pollMs: number): Promise<void> {
  cg.write('freezer', id, 'freezer.state', 'FROZEN');
  // FREEZING means some task has not stopped yet; writing FROZEN again retries it.
  while (cg.read('freezer', id, 'freezer.state').trim() !== 'FROZEN') {
    if (clock.now() > deadline) return; // kill what we can anyway
    await sleep(clock, pollMs);
    cg.write('freezer', id, 'freezer.state', 'FROZEN');
  }
}
