// Finding the master and staying registered with it (AGT-01, FT-04): randomised exponential backoff
// for (re-)registration, pings from the master's observer, and giving up on a silent master.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock, TimerHandle } from '../common/clock.js';
import { formatUpid } from '../transport/upid.js';

/** The registration backoff never exceeds this (REGISTER_RETRY_INTERVAL_MAX). */
export const REGISTER_RETRY_INTERVAL_MAX_MS = 60_000;
/** Used until the master tells us its ping timeout (15 s x 5 pings). */
export const DEFAULT_TOTAL_PING_TIMEOUT_MS = 75_000;

export class MasterFlagError extends Error {}

/** Resolves `--master` (host:port or master@host:port) to the master's UPID string. */
export async function resolveMasterPid(flag: string): Promise<string> {
  const text = flag.trim();
  // zk:// and file:// masters are followed by a detector (detection/index.ts), never resolved here.
  if (text.startsWith('zk://') || text.startsWith('file://')) {
    throw new MasterFlagError(`'${text}' names a master to detect, not one master: expecting host:port or master@host:port`);
  }
  let id = 'master';
  let address = text;
  const at = text.indexOf('@');
  if (at >= 0) {
    id = text.slice(0, at);
    address = text.slice(at + 1);
  }
  if (address.startsWith('http://')) address = address.slice('http://'.length);
  const colon = address.lastIndexOf(':');
  if (!id || colon <= 0) throw new MasterFlagError(`Failed to parse --master '${flag}': expecting host:port or master@host:port`);
  let host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new MasterFlagError(`Failed to parse --master '${flag}': bad port '${portText}'`);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!isIP(host)) {
    try {
      host = (await lookup(host, { family: 4 })).address;
    } catch (e) {
      throw new MasterFlagError(`Failed to resolve master host '${host}': ${(e as Error).message}`);
    }
  }
  return formatUpid({ id, ip: host, port: Number(portText) });
}

export interface RegistrationOptions {
  clock: Clock;
  /** --registration_backoff_factor in ms. */
  backoffFactorMs: number;
  /** Sends one RegisterSlaveMessage or ReregisterSlaveMessage. */
  attempt: () => void;
  /** No ping arrived in time: the master is treated as lost. */
  onPingTimeout: () => void;
  random?: () => number;
}

/** Owns the registration retry timer and the ping timeout timer. */
export class RegistrationLoop {
  private retryTimer?: TimerHandle;
  private pingTimer?: TimerHandle;
  private running = false;
  private readonly random: () => number;

  constructor(private readonly opts: RegistrationOptions) {
    this.random = opts.random ?? Math.random;
  }

  /** Starts (or restarts) registering: a random wait in [0, factor], then attempts with doubling backoff. */
  start(): void {
    this.stopRetrying();
    this.clearPing();
    this.running = true;
    const first = this.opts.backoffFactorMs * this.random();
    this.retryTimer = this.opts.clock.setTimeout(() => this.tick(this.opts.backoffFactorMs * 2), first);
  }

  /** Registered: stop retrying and expect pings. */
  registered(totalPingTimeoutMs: number): void {
    this.stopRetrying();
    this.resetPingTimer(totalPingTimeoutMs);
  }

  private pingTimeoutMs = DEFAULT_TOTAL_PING_TIMEOUT_MS;

  /** A ping arrived: the master is alive. */
  pinged(): void {
    this.resetPingTimer(this.pingTimeoutMs);
  }

  get retrying(): boolean {
    return this.running;
  }

  stop(): void {
    this.stopRetrying();
    this.clearPing();
  }

  private resetPingTimer(ms: number): void {
    this.pingTimeoutMs = ms;
    this.clearPing();
    this.pingTimer = this.opts.clock.setTimeout(() => {
      this.pingTimer = undefined;
      this.opts.onPingTimeout();
    }, ms);
  }

  private clearPing(): void {
    this.opts.clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
  }

  private stopRetrying(): void {
    this.running = false;
    this.opts.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private tick(maxBackoffMs: number): void {
    this.retryTimer = undefined;
    if (!this.running) return;
    this.opts.attempt();
    if (!this.running) return; // the attempt may have completed registration synchronously
    const bound = Math.min(maxBackoffMs, REGISTER_RETRY_INTERVAL_MAX_MS);
    // At least 1 ms, so an unlucky random() never turns the retries into a busy loop.
    const delay = Math.max(1, bound * this.random());
    this.retryTimer = this.opts.clock.setTimeout(() => this.tick(bound * 2), delay);
  }
}
