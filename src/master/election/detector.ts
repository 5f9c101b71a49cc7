// Master detection: who leads now. ZooKeeper-backed (watches the group path) or
// standalone (a fixed `host:port` / `master@host:port`), chosen from a --master/--zk value.
import { SystemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { logger } from '../../common/log.js';
import { tryParseUpid } from '../../transport/upid.js';
import {
  connectZk,
  isZkError,
  isZkUrl,
  joinPath,
  parseZkUrl,
  readFileValue,
  type ZkClient,
} from '../../zookeeper/index.js';
import { leaderOf } from './group.js';
import { decodeMasterInfo, masterInfoFromPid, sameMasterInfo, type MasterInfo } from './master-info.js';

const log = logger('detector');

/** Mesos's default session timeout for detectors (agents, schedulers). */
export const DETECTOR_ZK_SESSION_TIMEOUT_MS = 10_000;

export interface MasterDetector {
  /**
   * Resolves with the leading master (undefined: none) as soon as it differs from `previous`;
   * at once if it already does. Rejects if the leader's data cannot be read or the detector closes.
   */
  detect(previous?: MasterInfo): Promise<MasterInfo | undefined>;
  /** Called on every change of leader; returns a function that removes the listener. */
  onChange(listener: (leader: MasterInfo | undefined) => void): () => void;
  close(): void;
}

export class DetectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DetectorError';
  }
}

/** Holds the current leader and the detect() calls waiting for it to change. */
class LeaderCell {
  leader: MasterInfo | undefined;
  known = false;
  closed = false;
  /** Why the current leader cannot be read; cleared by the next leader change. */
  private error: Error | undefined;
  private waiters: Array<{ previous: MasterInfo | undefined; resolve: (m: MasterInfo | undefined) => void; reject: (e: Error) => void }> = [];
  private listeners = new Set<(leader: MasterInfo | undefined) => void>();

  detect(previous?: MasterInfo): Promise<MasterInfo | undefined> {
    if (this.closed) return Promise.reject(new DetectorError('Detector closed'));
    if (this.error) return Promise.reject(this.error);
    if (this.known && !sameMasterInfo(this.leader, previous)) return Promise.resolve(this.leader);
    return new Promise((resolve, reject) => this.waiters.push({ previous, resolve, reject }));
  }

  onChange(listener: (leader: MasterInfo | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(leader: MasterInfo | undefined): void {
    if (this.closed) return;
    const changed = !this.known || !sameMasterInfo(this.leader, leader);
    this.error = undefined;
    this.known = true;
    this.leader = leader;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (!sameMasterInfo(leader, w.previous)) w.resolve(leader);
      else this.waiters.push(w);
    }
    if (changed) for (const l of [...this.listeners]) l(leader);
  }

  fail(error: Error): void {
    this.error = error;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(error);
  }

  close(): void {
    if (this.closed) return;
    this.fail(new DetectorError('Detector closed'));
    this.closed = true;
    this.listeners.clear();
  }
}

/** A fixed leader (or none), changed only by `appoint`. */
export class StandaloneMasterDetector implements MasterDetector {
  private cell = new LeaderCell();

  constructor(leader?: MasterInfo) {
    this.cell.set(leader);
  }

  appoint(leader: MasterInfo | undefined): void {
    this.cell.set(leader);
  }

  detect(previous?: MasterInfo): Promise<MasterInfo | undefined> {
    return this.cell.detect(previous);
  }

  onChange(listener: (leader: MasterInfo | undefined) => void): () => void {
    return this.cell.onChange(listener);
  }

  close(): void {
    this.cell.close();
  }
}

export interface ZooKeeperDetectorOptions {
  /** The group path (`/mesos`). */
  path: string;
  /** A session to share (e.g. the master's). When it expires the detector reports no leader and stops. */
  client?: ZkClient;
  /** Or: how to open sessions; the detector owns them and opens a new one when one expires. */
  connect?: () => ZkClient;
  clock?: Clock;
  /** Pause before retrying after a connection loss. Default 1 s. */
  retryMs?: number;
}

/** Watches the group's children; the lowest sequence leads; its data is its MasterInfo. */
export class ZooKeeperMasterDetector implements MasterDetector {
  private cell = new LeaderCell();
  private client: ZkClient;
  private readonly path: string;
  private readonly clock: Clock;
  private generation = 0;
  private retryTimer: TimerHandle | undefined;
  private offState: () => void;
  /** The member whose data we last read, so unchanged leadership costs no read. */
  private leaderName: string | undefined;

  constructor(private readonly opts: ZooKeeperDetectorOptions) {
    if (!opts.client && !opts.connect) throw new Error('ZooKeeperMasterDetector needs a client or a connect function');
    this.path = opts.path;
    this.clock = opts.clock ?? new SystemClock();
    this.client = opts.client ?? opts.connect!();
    this.offState = this.watchSession();
    this.refresh();
  }

  detect(previous?: MasterInfo): Promise<MasterInfo | undefined> {
    return this.cell.detect(previous);
  }

  onChange(listener: (leader: MasterInfo | undefined) => void): () => void {
    return this.cell.onChange(listener);
  }

  close(): void {
    if (this.cell.closed) return;
    this.cell.close();
    this.generation++;
    this.clock.clearTimeout(this.retryTimer);
    this.offState();
    if (!this.opts.client) void this.client.close();
  }

  private watchSession(): () => void {
    const client = this.client;
    return client.onState((s) => {
      if (s !== 'expired' || this.cell.closed || client !== this.client) return;
      log.warn('ZooKeeper session of the master detector expired');
      this.leaderName = undefined;
      this.cell.set(undefined);
      if (!this.opts.connect) {
        this.cell.fail(new DetectorError('ZooKeeper session expired'));
        return;
      }
      this.offState();
      this.client = this.opts.connect();
      this.offState = this.watchSession();
      this.refresh();
    });
  }

  private retryLater(): void {
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => this.refresh(), this.opts.retryMs ?? 1000);
  }

  /** Re-reads the group; any newer refresh makes this one's results moot. */
  private refresh(): void {
    if (this.cell.closed) return;
    const gen = ++this.generation;
    const client = this.client;
    const stale = () => gen !== this.generation || this.cell.closed;
    const again = () => {
      if (!stale()) this.refresh();
    };
    void (async () => {
      try {
        await client.connected();
        let children: string[];
        try {
          children = (await client.getChildren(this.path, again)).children;
        } catch (e) {
          if (!isZkError(e, 'NONODE')) throw e;
          // No group yet: no leader until the path appears.
          if (await client.exists(this.path, again)) return again();
          children = [];
        }
        if (stale()) return;
        const leader = leaderOf(children);
        log.debug(`Group ${this.path} (refresh ${gen}): ${children.length} children, leader ${leader?.name ?? 'none'}`);
        if (!leader) {
          this.leaderName = undefined;
          this.cell.set(undefined);
          return;
        }
        if (leader.name === this.leaderName && this.cell.known) return;
        let data: Buffer;
        try {
          data = (await client.getData(joinPath(this.path, leader.name))).data;
        } catch (e) {
          // Gone before we could read it; the child watch brings the next leader.
          if (isZkError(e, 'NONODE')) return;
          throw e;
        }
        if (stale()) return;
        try {
          const info = decodeMasterInfo(leader.label, data, leader.sequence);
          this.leaderName = leader.name;
          this.cell.set(info);
          log.info(`Leading master is ${info.pid ?? info.id}`);
        } catch (e) {
          this.leaderName = undefined;
          this.cell.set(undefined);
          this.cell.fail(e as Error);
          log.error((e as Error).message);
        }
      } catch (e) {
        if (stale()) return;
        if (isZkError(e, 'SESSIONEXPIRED') || isZkError(e, 'CLOSED')) return; // watchSession takes over
        log.warn(`Master detection failed, retrying: ${(e as Error).message}`);
        this.retryLater();
      }
    })();
  }
}

export interface CreateDetectorOptions {
  sessionTimeoutMs?: number;
  clock?: Clock;
  readFile?: (path: string) => string;
}

/**
 * The detector for a `--master` (agents, schedulers) or `--zk` value: `zk://...` watches
 * ZooKeeper; `host:port` or `master@host:port` is a fixed master; `file:///path` holds either.
 */
export function createDetector(masterFlag: string, opts: CreateDetectorOptions = {}): MasterDetector {
  let value = masterFlag.trim();
  if (value.startsWith('file://')) value = readFileValue(value, opts.readFile);
  if (isZkUrl(value)) {
    const url = parseZkUrl(value);
    return new ZooKeeperMasterDetector({
      path: url.path,
      clock: opts.clock,
      connect: () => connectZk(url, { sessionTimeoutMs: opts.sessionTimeoutMs ?? DETECTOR_ZK_SESSION_TIMEOUT_MS, clock: opts.clock }),
    });
  }
  const pid = value.startsWith('master@') ? value : `master@${value}`;
  if (!tryParseUpid(pid)) throw new DetectorError(`Failed to parse '${masterFlag}': expecting 'host:port', 'master@host:port', 'zk://...' or 'file:///...'`);
  return new StandaloneMasterDetector(masterInfoFromPid(pid));
}
