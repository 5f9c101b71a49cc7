// Master contention: a master offers itself as leader and learns when it is elected
// or has lost. With ZooKeeper it joins the group as `<path>/json.info_<seq>`
// (ephemeral, sequential) and leads while its member has the lowest sequence.
import { SystemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { logger } from '../../common/log.js';
import { basename, isZkError, joinPath, type SessionState, type ZkClient } from '../../zookeeper/index.js';
import { leaderOf, parseMembership } from './group.js';
import { MASTER_INFO_JSON_LABEL, encodeMasterInfoJson, type MasterInfo } from './master-info.js';

const log = logger('contender');

export type ContenderEvent = { type: 'elected' } | { type: 'lost'; reason: string };

/**
 * idle -> contending -> elected -> lost | withdrawn. `lost` is final: the master must stop
 * acting as leader at once (Mesos aborts); contending again needs a new contender and session.
 */
export type ContenderState = 'idle' | 'contending' | 'elected' | 'lost' | 'withdrawn';

export interface MasterContender {
  readonly state: ContenderState;
  /** Joins the election; resolves once the candidacy is registered. */
  contend(): Promise<void>;
  /** Listens to elected/lost; returns a function that removes the listener. */
  onEvent(listener: (event: ContenderEvent) => void): () => void;
  /** Leaves the election (a leader stops leading); does not close a shared session. */
  withdraw(): Promise<void>;
}

abstract class ContenderBase implements MasterContender {
  protected _state: ContenderState = 'idle';
  private listeners = new Set<(event: ContenderEvent) => void>();

  get state(): ContenderState {
    return this._state;
  }

  onEvent(listener: (event: ContenderEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  abstract contend(): Promise<void>;
  abstract withdraw(): Promise<void>;

  protected elect(): void {
    if (this._state !== 'contending') return;
    this._state = 'elected';
    this.emit({ type: 'elected' });
  }

  protected lose(reason: string): void {
    if (this._state !== 'contending' && this._state !== 'elected') return;
    this._state = 'lost';
    this.emit({ type: 'lost', reason });
  }

  private emit(e: ContenderEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

/** Without ZooKeeper the only master leads as soon as it contends. */
export class StandaloneMasterContender extends ContenderBase {
  async contend(): Promise<void> {
    if (this._state !== 'idle') return;
    this._state = 'contending';
    queueMicrotask(() => this.elect());
  }

  async withdraw(): Promise<void> {
    if (this._state === 'contending' || this._state === 'elected') this._state = 'withdrawn';
  }
}

export interface ZooKeeperContenderOptions {
  client: ZkClient;
  /** The group path (`/mesos`). */
  path: string;
  info: MasterInfo;
  clock?: Clock;
  /** Pause before retrying after a connection loss. Default 1 s. */
  retryMs?: number;
}

export class ZooKeeperMasterContender extends ContenderBase {
  private readonly client: ZkClient;
  private readonly clock: Clock;
  private node: string | undefined;
  private offState: (() => void) | undefined;
  private retryTimer: TimerHandle | undefined;
  private generation = 0;

  constructor(private readonly opts: ZooKeeperContenderOptions) {
    super();
    this.client = opts.client;
    this.clock = opts.clock ?? new SystemClock();
  }

  /** Full path of this master's member znode once created (a registry write guard). */
  get nodePath(): string | undefined {
    return this._state === 'contending' || this._state === 'elected' ? this.node : undefined;
  }

  async contend(): Promise<void> {
    if (this._state !== 'idle') return;
    this._state = 'contending';
    this.offState = this.client.onState((s) => this.onSession(s));
    if (this.client.state === 'expired' || this.client.state === 'closed') {
      this.lose(`ZooKeeper session ${this.client.state}`);
      throw new Error(`Cannot contend: ZooKeeper session ${this.client.state}`);
    }
    const data = encodeMasterInfoJson(this.opts.info);
    for (;;) {
      try {
        await this.client.connected();
        await this.client.mkdirp(this.opts.path);
        this.node = (await this.findOwnNode()) ??
          (await this.client.create(joinPath(this.opts.path, `${MASTER_INFO_JSON_LABEL}_`), data, 'ephemeral_sequential'));
        break;
      } catch (e) {
        if (this._state !== 'contending') throw new Error(`Contending ended: ${this._state}`);
        // The create may have landed before the connection broke: findOwnNode adopts it on retry.
        if (!isZkError(e, 'CONNECTIONLOSS') && !isZkError(e, 'OPERATIONTIMEOUT')) {
          this.lose(`Failed to join the group at '${this.opts.path}': ${(e as Error).message}`);
          throw e;
        }
        await new Promise<void>((r) => this.clock.setTimeout(r, 50));
      }
    }
    log.info(`Contending as ${this.node}`);
    this.check();
  }

  async withdraw(): Promise<void> {
    const node = this.node;
    const wasActive = this._state === 'contending' || this._state === 'elected';
    if (wasActive) this._state = 'withdrawn';
    this.stop();
    if (!wasActive || !node) return;
    try {
      await this.client.delete(node);
    } catch (e) {
      // Already gone with the session, or the session ended: either way we no longer contend.
      if (!isZkError(e)) throw e;
    }
  }

  private stop(): void {
    this.generation++;
    this.clock.clearTimeout(this.retryTimer);
    this.offState?.();
    this.offState = undefined;
  }

  private onSession(s: SessionState): void {
    // The member node dies with the session; a leader must not outlive it (no split brain).
    if (s === 'expired' || s === 'closed') {
      this.lose(`ZooKeeper session ${s}`);
      this.stop();
    }
  }

  /** After a lost create reply: a member of ours that already exists under the group. */
  private async findOwnNode(): Promise<string | undefined> {
    const { children } = await this.client.getChildren(this.opts.path);
    for (const name of children) {
      const m = parseMembership(name);
      if (!m || m.label !== MASTER_INFO_JSON_LABEL) continue;
      const stat = await this.client.exists(joinPath(this.opts.path, name));
      if (stat && stat.ephemeralOwner === this.client.sessionId) return joinPath(this.opts.path, name);
    }
    return undefined;
  }

  /** Reads the group (re-arming the watch) and decides: still a member? the lowest? */
  private check(): void {
    if (this._state !== 'contending' && this._state !== 'elected') return;
    const gen = ++this.generation;
    const stale = () => gen !== this.generation || (this._state !== 'contending' && this._state !== 'elected');
    void (async () => {
      try {
        const { children } = await this.client.getChildren(this.opts.path, () => {
          if (!stale()) this.check();
        });
        if (stale()) return;
        const mine = basename(this.node!);
        if (!children.includes(mine)) {
          this.lose(`Candidacy znode ${this.node} was deleted`);
          this.stop();
          return;
        }
        if (leaderOf(children)?.name === mine) this.elect();
      } catch (e) {
        if (stale()) return;
        if (isZkError(e, 'SESSIONEXPIRED') || isZkError(e, 'CLOSED')) return; // onSession handles it
        log.warn(`Failed to read the group, retrying: ${(e as Error).message}`);
        this.retryTimer = this.clock.setTimeout(() => this.check(), this.opts.retryMs ?? 1000);
      }
    })();
  }
}
