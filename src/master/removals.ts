// Agent removal safety (FT-03, FT-04): --agent_removal_rate_limit throttles how fast unhealthy
// agents become unreachable, --recovery_agent_removal_limit is the failover safety valve, and a
// disconnected agent gets --agent_reregister_timeout to come back before it is unreachable.
import type { Clock, TimerHandle } from '../common/clock.js';
import { parseDuration } from '../common/units.js';

/** A bad removal flag; the message is fit for the operator. */
export class RemovalFlagError extends Error {}

export interface RemovalRate {
  permits: number;
  durationMs: number;
}

/** `--agent_removal_rate_limit=<permits>/<duration>`, e.g. `1/10mins`; unset means unlimited. */
export function parseRemovalRate(text: string | undefined): RemovalRate | undefined {
  if (text === undefined || text === '') return undefined;
  const slash = text.indexOf('/');
  const permits = Number(text.slice(0, slash));
  let durationMs = NaN;
  try {
    durationMs = slash > 0 ? parseDuration(text.slice(slash + 1)) : NaN;
  } catch {
    // reported below
  }
  if (!Number.isInteger(permits) || permits <= 0 || !(durationMs > 0)) {
    throw new RemovalFlagError(`Invalid agent_removal_rate_limit: '${text}' (expected <permits>/<duration>, e.g. 1/10mins)`);
  }
  return { permits, durationMs };
}

/** `--recovery_agent_removal_limit=<percentage>%` -> a fraction in [0, 1]. */
export function parseRemovalLimit(text: string | undefined): number {
  const raw = (text ?? '100%').trim();
  const value = Number(raw.endsWith('%') ? raw.slice(0, -1) : raw);
  if (!raw.endsWith('%') || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new RemovalFlagError(`Invalid recovery_agent_removal_limit: '${raw}' (expected a percentage such as 100%)`);
  }
  return value / 100;
}

/** More than `limit` (a fraction) of the recovered agents would be removed. */
export function exceedsRemovalLimit(missing: number, recovered: number, limit: number): boolean {
  return recovered > 0 && missing / recovered > limit;
}

/**
 * One permit every `durationMs / permits`, handed out in request order (Mesos's RateLimiter);
 * without a rate every request runs at once.
 */
class RateLimiter {
  private readonly queue: Array<{ run: () => void }> = [];
  private nextFree = -Infinity;
  private timer?: TimerHandle;

  constructor(private readonly clock: Clock, private readonly rate?: RemovalRate) {}

  acquire(run: () => void): () => void {
    const entry = { run };
    this.queue.push(entry);
    this.drain();
    return () => {
      const i = this.queue.indexOf(entry);
      if (i >= 0) this.queue.splice(i, 1);
    };
  }

  private drain(): void {
    if (this.timer !== undefined) return;
    while (this.queue.length > 0) {
      const now = this.clock.now();
      if (this.rate && now < this.nextFree) {
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          this.drain();
        }, this.nextFree - now);
        return;
      }
      if (this.rate) this.nextFree = now + this.rate.durationMs / this.rate.permits;
      this.queue.shift()!.run();
    }
  }

  close(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

export interface RemovalCounters {
  scheduled(): void;
  completed(): void;
  canceled(): void;
}

/** The master's pending agent removals: rate-limited unreachable transitions and disconnect timers. */
export class AgentRemovals {
  private readonly limiter: RateLimiter;
  private readonly pending = new Map<string, () => void>();
  private readonly disconnectTimers = new Map<string, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly counters: RemovalCounters,
    rate?: RemovalRate,
  ) {
    this.limiter = new RateLimiter(clock, rate);
  }

  /** Schedules marking an agent unreachable once the rate limit allows (at most once per agent). */
  scheduleUnreachable(agentId: string, markUnreachable: () => void): void {
    if (this.pending.has(agentId)) return;
    this.counters.scheduled();
    let ran = false;
    const cancel = this.limiter.acquire(() => {
      ran = true;
      this.pending.delete(agentId);
      markUnreachable();
      this.counters.completed();
    });
    if (!ran) this.pending.set(agentId, cancel);
  }

  isPending(agentId: string): boolean {
    return this.pending.has(agentId);
  }

  /** The agent answered (pong or re-registration): a pending removal is called off. */
  cancel(agentId: string): void {
    const cancel = this.pending.get(agentId);
    if (!cancel) return;
    this.pending.delete(agentId);
    cancel();
    this.counters.canceled();
  }

  /** A disconnected agent must come back within `timeoutMs` or `expire` runs. */
  disconnected(agentId: string, timeoutMs: number, expire: () => void): void {
    this.reconnected(agentId);
    this.disconnectTimers.set(agentId, this.clock.setTimeout(() => {
      this.disconnectTimers.delete(agentId);
      expire();
    }, timeoutMs));
  }

  reconnected(agentId: string): void {
    const t = this.disconnectTimers.get(agentId);
    if (t === undefined) return;
    this.disconnectTimers.delete(agentId);
    this.clock.clearTimeout(t);
  }

  /** The agent left the registered set: nothing pending for it any more. */
  forget(agentId: string): void {
    const cancel = this.pending.get(agentId);
    this.pending.delete(agentId);
    cancel?.();
    this.reconnected(agentId);
  }

  close(): void {
    this.limiter.close();
    this.pending.clear();
    for (const t of this.disconnectTimers.values()) this.clock.clearTimeout(t);
    this.disconnectTimers.clear();
  }
}
