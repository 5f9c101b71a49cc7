// Kill-policy arithmetic shared by the built-in executors (command executor, default executor,
// and the agent's recovered command tasks). Kept free of agent imports so the default executor's
// own process does not load the containerizer for it.
import type { Msg } from '../protocol/codec.js';

/** mesos-executor's default kill grace period, kept for backwards compatibility in Mesos (AGT-07). */
export const DEFAULT_KILL_GRACE_MS = 3000;

/** A mesos DurationInfo in milliseconds, or undefined when unset. */
export function durationMs(d: Msg | undefined): number | undefined {
  if (!d || d.nanoseconds === undefined) return undefined;
  return Number(d.nanoseconds) / 1e6;
}

export function hasCapability(frameworkInfo: Msg, type: string): boolean {
  const caps = (frameworkInfo.capabilities ?? []) as Msg[];
  return caps.some((c) => c.type === type);
}
