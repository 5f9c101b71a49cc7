// The in-memory twin of a ZooKeeper ensemble for fast tests: one shared tree, many
// sessions, ephemeral and sequential nodes, one-shot watches, all-or-nothing multi,
// and explicit control over disconnection and session expiry.
import { SystemClock, type Clock, type TimerHandle } from '../common/clock.js';
import { Codes, ZkError } from './errors.js';
import {
  type CreateMode,
  type Op,
  type OpResult,
  type SessionState,
  type Stat,
  type WatchEvent,
  type WatchEventType,
  type Watcher,
  type ZkClient,
} from './types.js';
import { type WatchKind, WatchTable, isTerminal, terminalError, untilConnected, basename, mkdirp, parentOf, validatePath } from './util.js';

/** ZooKeeper's default jute.maxbuffer: larger node data is refused. */
export const MAX_DATA_BYTES = 0xfffff;

interface Node {
  data: Buffer;
  stat: Stat;
  children: Set<string>;
}

type Event = { type: WatchEventType; path: string };

/** A failed step inside a (possibly multi) update. */
class Abort extends Error {
  constructor(readonly code: number, readonly path: string) {
    super('abort');
  }
}

export class InMemoryZk {
  private nodes = new Map<string, Node>();
  private zxid = 0;
  private nextSession = 0x1000n;
  private clients = new Map<bigint, InMemoryZkClient>();

  constructor(readonly clock: Clock = new SystemClock()) {
    this.nodes.set('/', this.newNode(Buffer.alloc(0), 0n));
  }

  /** A new session, connected at once. */
  client(opts: { sessionTimeoutMs?: number } = {}): InMemoryZkClient {
    const id = this.nextSession++;
    const c = new InMemoryZkClient(this, id, opts.sessionTimeoutMs ?? 10_000);
    this.clients.set(id, c);
    return c;
  }

  /** Expires a session as the ensemble would: its ephemeral nodes go, the client learns it. */
  expire(sessionId: bigint): void {
    const c = this.clients.get(sessionId);
    this.endSession(sessionId);
    c?._terminate('expired');
  }

  /** Cuts a client off: requests wait; after its session timeout the session expires. */
  disconnect(sessionId: bigint): void {
    this.clients.get(sessionId)?._disconnect();
  }

  /** Restores a disconnected client's connection (same session). */
  reconnect(sessionId: bigint): void {
    this.clients.get(sessionId)?._reconnect();
  }

  /** Paths of every node (tests and debugging). */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  // -------------------------------------------------------------------------
  // Used by InMemoryZkClient.

  _closeSession(sessionId: bigint): void {
    this.endSession(sessionId);
  }

  private endSession(sessionId: bigint): void {
    if (!this.clients.has(sessionId)) return;
    this.clients.delete(sessionId);
    const events: Event[] = [];
    for (const [path, node] of [...this.nodes]) {
      if (node.stat.ephemeralOwner === sessionId && this.nodes.has(path)) this.removeNode(path, events, []);
    }
    this.publish(events);
  }

  /** Runs updates all-or-nothing; watch events are published only when all succeed. */
  _update(ops: Op[], owner: bigint): { ok: true; results: OpResult[] } | { ok: false; codes: number[]; code: number; path: string } {
    const events: Event[] = [];
    const undo: Array<() => void> = [];
    const results: OpResult[] = [];
    const zxidBefore = this.zxid;
    this.zxid++;
    for (let i = 0; i < ops.length; i++) {
      try {
        results.push(this.apply(ops[i]!, owner, events, undo));
      } catch (e) {
        if (!(e instanceof Abort)) throw e;
        for (const u of undo.reverse()) u();
        this.zxid = zxidBefore;
        const codes = ops.map((_, j) => (j < i ? Codes.OK : j === i ? e.code : Codes.RUNTIMEINCONSISTENCY));
        return { ok: false, codes, code: e.code, path: e.path };
      }
    }
    this.publish(events);
    return { ok: true, results };
  }

  _read(path: string): Node | undefined {
    return this.nodes.get(path);
  }

  // -------------------------------------------------------------------------

  private newNode(data: Buffer, owner: bigint): Node {
    const now = this.clock.now();
    return {
      data,
      children: new Set(),
      stat: {
        czxid: this.zxid, mzxid: this.zxid, ctime: now, mtime: now, version: 0, cversion: 0, aversion: 0,
        ephemeralOwner: owner, dataLength: data.length, numChildren: 0, pzxid: this.zxid,
      },
    };
  }

  private apply(op: Op, owner: bigint, events: Event[], undo: Array<() => void>): OpResult {
    try {
      // A sequential create's path gets its suffix first (so `/group/` is fine).
      validatePath(op.op === 'create' && op.mode?.endsWith('sequential') ? `${op.path}0` : op.path);
    } catch {
      throw new Abort(Codes.BADARGUMENTS, op.path);
    }
    const node = this.nodes.get(op.path);
    const checkVersion = (n: Node, v: number | undefined) => {
      if (v !== undefined && v !== -1 && n.stat.version !== v) throw new Abort(Codes.BADVERSION, op.path);
    };
    switch (op.op) {
      case 'create': {
        const mode: CreateMode = op.mode ?? 'persistent';
        const data = op.data ?? Buffer.alloc(0);
        if (data.length > MAX_DATA_BYTES) throw new Abort(Codes.MARSHALLINGERROR, op.path);
        if (op.path === '/') throw new Abort(Codes.NODEEXISTS, op.path);
        const parentPath = parentOf(op.path);
        const parent = this.nodes.get(parentPath);
        if (!parent) throw new Abort(Codes.NONODE, op.path);
        if (parent.stat.ephemeralOwner !== 0n) throw new Abort(Codes.NOCHILDRENFOREPHEMERALS, op.path);
        let path = op.path;
        if (mode.endsWith('sequential')) path += String(parent.stat.cversion).padStart(10, '0');
        if (this.nodes.has(path)) throw new Abort(Codes.NODEEXISTS, path);
        const ephemeral = mode.startsWith('ephemeral');
        const parentStat = { ...parent.stat };
        this.nodes.set(path, this.newNode(Buffer.from(data), ephemeral ? owner : 0n));
        parent.children.add(basename(path));
        parent.stat.cversion++;
        parent.stat.numChildren++;
        parent.stat.pzxid = this.zxid;
        undo.push(() => {
          this.nodes.delete(path);
          parent.children.delete(basename(path));
          parent.stat = parentStat;
        });
        events.push({ type: 'created', path }, { type: 'children_changed', path: parentPath });
        return { op: 'create', path };
      }
      case 'delete': {
        if (!node) throw new Abort(Codes.NONODE, op.path);
        checkVersion(node, op.version);
        if (node.children.size > 0) throw new Abort(Codes.NOTEMPTY, op.path);
        this.removeNode(op.path, events, undo);
        return { op: 'delete' };
      }
      case 'set': {
        if (!node) throw new Abort(Codes.NONODE, op.path);
        checkVersion(node, op.version);
        if (op.data.length > MAX_DATA_BYTES) throw new Abort(Codes.MARSHALLINGERROR, op.path);
        const before = { data: node.data, stat: { ...node.stat } };
        node.data = Buffer.from(op.data);
        node.stat.version++;
        node.stat.mzxid = this.zxid;
        node.stat.mtime = this.clock.now();
        node.stat.dataLength = node.data.length;
        undo.push(() => {
          node.data = before.data;
          node.stat = before.stat;
        });
        events.push({ type: 'data_changed', path: op.path });
        return { op: 'set', stat: { ...node.stat } };
      }
      case 'check': {
        if (!node) throw new Abort(Codes.NONODE, op.path);
        checkVersion(node, op.version);
        return { op: 'check' };
      }
    }
  }

  private removeNode(path: string, events: Event[], undo: Array<() => void>): void {
    const node = this.nodes.get(path)!;
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath)!;
    const parentStat = { ...parent.stat };
    this.nodes.delete(path);
    parent.children.delete(basename(path));
    parent.stat.cversion++;
    parent.stat.numChildren--;
    parent.stat.pzxid = this.zxid;
    undo.push(() => {
      this.nodes.set(path, node);
      parent.children.add(basename(path));
      parent.stat = parentStat;
    });
    events.push({ type: 'deleted', path }, { type: 'children_changed', path: parentPath });
  }

  private publish(events: Event[]): void {
    if (events.length === 0) return;
    const clients = [...this.clients.values()];
    for (const e of events) for (const c of clients) c._notify(e);
  }
}


export class InMemoryZkClient implements ZkClient {
  private _state: SessionState = 'connected';
  private listeners = new Set<(s: SessionState) => void>();
  private readonly watches = new WatchTable();
  /** Events that happened while disconnected, delivered on reconnect. */
  private missed: Event[] = [];
  private waiting: Array<() => void> = [];
  private expiryTimer: TimerHandle | undefined;

  constructor(private readonly zk: InMemoryZk, readonly sessionId: bigint, readonly sessionTimeoutMs: number) {}

  get state(): SessionState {
    return this._state;
  }

  onState(listener: (state: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  connected(): Promise<void> {
    return untilConnected(this);
  }

  async create(path: string, data: Buffer = Buffer.alloc(0), mode: CreateMode = 'persistent'): Promise<string> {
    const [r] = await this.update([{ op: 'create', path, data, mode }]);
    return (r as { path: string }).path;
  }

  mkdirp(path: string): Promise<void> {
    return mkdirp(this, path);
  }

  async delete(path: string, version = -1): Promise<void> {
    await this.update([{ op: 'delete', path, version }]);
  }

  async exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    await this.ready(path);
    const node = this.zk._read(path);
    if (watcher) this.addWatch(node ? 'data' : 'exist', path, watcher);
    return node ? { ...node.stat } : undefined;
  }

  async getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
    await this.ready(path);
    const node = this.zk._read(path);
    if (!node) throw new ZkError(Codes.NONODE, path);
    if (watcher) this.addWatch('data', path, watcher);
    return { data: Buffer.from(node.data), stat: { ...node.stat } };
  }

  async setData(path: string, data: Buffer, version = -1): Promise<Stat> {
    const [r] = await this.update([{ op: 'set', path, data, version }]);
    return (r as { stat: Stat }).stat;
  }

  async getChildren(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: Stat }> {
    await this.ready(path);
    const node = this.zk._read(path);
    if (!node) throw new ZkError(Codes.NONODE, path);
    if (watcher) this.addWatch('child', path, watcher);
    return { children: [...node.children], stat: { ...node.stat } };
  }

  async multi(ops: Op[]): Promise<OpResult[]> {
    if (ops.length === 0) return [];
    return this.update(ops, true);
  }

  async close(): Promise<void> {
    if (this.terminal()) return;
    this.zk._closeSession(this.sessionId);
    this._terminate('closed');
  }

  // -------------------------------------------------------------------------
  // Driven by InMemoryZk.

  _notify(e: Event): void {
    if (this.terminal()) return;
    if (this._state === 'disconnected') {
      this.missed.push(e);
      return;
    }
    this.fire(e);
  }

  _disconnect(): void {
    if (this._state !== 'connected') return;
    this.setState('disconnected');
    this.expiryTimer = this.zk.clock.setTimeout(() => this.zk.expire(this.sessionId), this.sessionTimeoutMs);
  }

  _reconnect(): void {
    if (this._state !== 'disconnected') return;
    this.zk.clock.clearTimeout(this.expiryTimer);
    this.setState('connected');
    const missed = this.missed;
    this.missed = [];
    for (const e of missed) this.fire(e);
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w();
  }

  _terminate(state: 'expired' | 'closed'): void {
    if (this.terminal()) return;
    this.zk.clock.clearTimeout(this.expiryTimer);
    const watchers = this.watches.clear();
    this.setState(state);
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w();
    if (state === 'expired') for (const w of watchers) queueMicrotask(() => w({ type: 'session_expired', path: '' }));
  }

  // -------------------------------------------------------------------------

  private terminal(): boolean {
    return isTerminal(this._state);
  }

  private terminalError(path?: string): ZkError {
    return terminalError(this._state, path);
  }

  private setState(s: SessionState): void {
    if (this._state === s) return;
    this._state = s;
    for (const l of [...this.listeners]) l(s);
  }

  /** Waits while disconnected, like a request queued for the next connection. */
  private async ready(path?: string): Promise<void> {
    if (this._state === 'disconnected') await new Promise<void>((r) => this.waiting.push(r));
    if (this.terminal()) throw this.terminalError(path);
  }

  private async update(ops: Op[], multi = false): Promise<OpResult[]> {
    await this.ready(ops[0]?.path);
    const out = this.zk._update(ops, this.sessionId);
    if (out.ok) return out.results;
    throw new ZkError(out.code, out.path, multi ? out.codes : undefined);
  }

  private addWatch(kind: WatchKind, path: string, watcher: Watcher): void {
    this.watches.add(kind, path, watcher);
  }

  private fire(e: Event): void {
    const event: WatchEvent = { type: e.type, path: e.path };
    for (const w of this.watches.trigger(e.type, e.path)) queueMicrotask(() => w(event));
  }
}

