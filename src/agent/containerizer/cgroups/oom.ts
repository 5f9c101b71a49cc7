// OOM detection without eventfd: poll memory.oom_control through the Clock. Kernels since
// 4.13 count OOM kills in its `oom_kill` line; older ones only say `under_oom 1` while a
// task is stuck waiting (which happens with oom_kill_disable).
import type { Clock, TimerHandle } from '../../../common/clock.js';
import type { Cgroups } from './cgroups.js';
import { parseKeyValues } from './stats.js';

export interface OomWatch {
  /** Resolves on the first OOM seen after the watch started; never rejects. */
  readonly oom: Promise<void>;
  /** Polls once now (e.g. when the container just exited); true when an OOM was seen. */
  check(): boolean;
  cancel(): void;
}

export function oomKills(cg: Cgroups, id: string): { kills?: number; underOom: boolean } {
  const kv = parseKeyValues(cg.read('memory', id, 'memory.oom_control'));
  return { kills: kv.get('oom_kill'), underOom: kv.get('under_oom') === 1 };
}

export function watchOom(cg: Cgroups, id: string, clock: Clock, pollMs = 100): OomWatch {
  let timer: TimerHandle | undefined;
  let baseline = 0;
  try {
    baseline = oomKills(cg, id).kills ?? 0;
  } catch {
    // The cgroup is not there yet or any more; a later poll decides.
  }
  let resolve!: () => void;
  const oom = new Promise<void>((r) => (resolve = r));
  let fired = false;
  const poll = (): boolean => {
    if (fired) return true;
    let seen = false;
    try {
      const now = oomKills(cg, id);
      seen = (now.kills !== undefined && now.kills > baseline) || now.underOom;
    } catch {
      return false; // cgroup gone: the container is being destroyed; cancel() will follow
    }
    if (seen) {
      fired = true;
      clock.clearInterval(timer);
      timer = undefined;
      resolve();
    }
    return seen;
  };
  // pollMs 0: no timer of its own; the caller polls through check() (one timer for many watches).
  if (pollMs > 0) timer = clock.setInterval(poll, pollMs);
  return {
    oom,
    check: poll,
    cancel() {
      clock.clearInterval(timer);
      timer = undefined;
    },
  };
}
