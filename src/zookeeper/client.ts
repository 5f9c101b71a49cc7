// A ZooKeeper client speaking the wire protocol over TCP: one session that survives
// reconnects to other ensemble members, pings, one-shot watches (re-armed on the
// server after a reconnect), multi, digest auth, and a local expiry timer so a
// partitioned client learns its session is gone without waiting to reconnect.
import net from 'node:net';
import { SystemClock, type Clock, type TimerHandle } from '../common/clock.js';
import { logger } from '../common/log.js';
import { Codes, ZkError } from './errors.js';
import { JuteReader, type JuteWriter } from './jute.js';
import {
  EVERYONE_READ_CREATOR_ALL,
  OPEN_ACL_UNSAFE,
  OpCode,
  Xid,
  header,
  readConnectResponse,
  readMulti,
  readNotification,
  readStat,
  writeAcl,
  writeConnectRequest,
  writeMulti,
  type Acl,
} from './wire.js';
import {
  CREATE_FLAGS,
  type CreateMode,
  type Op,
  type OpResult,
  type SessionState,
  type Stat,
  type WatchEvent,
  type Watcher,
  type ZkClient,
} from './types.js';
import { type WatchKind, WatchTable, isTerminal, terminalError, untilConnected, mkdirp } from './util.js';

const log = logger('zookeeper');

/** ZooKeeper's default jute.maxbuffer (the largest packet a server accepts). */
export const MAX_PACKET_BYTES = 0xfffff;

export interface ZkServerAddress {
  host: string;
  port: number;
}

export interface ZkAuth {
  scheme: string;
  credentials: string;
}

export interface WireZkClientOptions {
  servers: ZkServerAddress[];
  /** Requested session timeout; the server clamps it to its own bounds. Default 10 s. */
  sessionTimeoutMs?: number;
  auth?: ZkAuth;
  clock?: Clock;
  /** Start with the first server instead of a random one (tests). */
  inOrder?: boolean;
  /** Resume an existing session (tests use this to steal and close a session). */
  session?: { id: bigint; password: Buffer };
}

interface Pending {
  xid: number;
  type: number;
  frame: Buffer;
  path?: string;
  /** Registers the request's watch as the reply is read, before any later notification is. */
  watch?: { kind: WatchKind; watcher: Watcher; onNoNode: boolean };
  resolve: (r: JuteReader) => void;
  reject: (e: Error) => void;
}


/** Parses `host:port,host:port` (IPv6 hosts in brackets). */
export function parseServers(text: string): ZkServerAddress[] {
  const out: ZkServerAddress[] = [];
  for (const part of text.split(',')) {
    const s = part.trim();
    if (!s) continue;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(s);
    if (!m) throw new Error(`Invalid ZooKeeper server '${s}'`);
    const port = m[2] === undefined ? 2181 : Number(m[2]);
    if (!(port > 0 && port < 65536)) throw new Error(`Invalid port in ZooKeeper server '${s}'`);
    out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  if (out.length === 0) throw new Error('No ZooKeeper servers given');
  return out;
}

export class WireZkClient implements ZkClient {
  private _state: SessionState = 'connecting';
  private _sessionId = 0n;
  private password: Buffer = Buffer.alloc(16);
  private negotiatedMs: number;
  private lastZxid = 0n;
  private nextXid = 1;

  private readonly clock: Clock;
  private readonly servers: ZkServerAddress[];
  private serverIndex: number;
  private attemptsThisRound = 0;
  private socket: net.Socket | undefined;
  private handshakeDone = false;
  private inbound: Buffer = Buffer.alloc(0);
  private lastReceived = 0;
  private lastSent = 0;

  /** Sent, awaiting a reply (the server answers in order). */
  private pending: Pending[] = [];
  /** Not yet sent (issued while not connected). */
  private queue: Pending[] = [];

  private readonly watches = new WatchTable();

  private stateListeners = new Set<(s: SessionState) => void>();
  private pingTimer: TimerHandle | undefined;
  private connectTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;
  private readonly acl: Acl[];

  constructor(private readonly options: WireZkClientOptions) {
    if (options.servers.length === 0) throw new Error('No ZooKeeper servers given');
    this.clock = options.clock ?? new SystemClock();
    this.servers = options.servers.slice();
    this.serverIndex = options.inOrder ? 0 : Math.floor(Math.random() * this.servers.length);
    this.negotiatedMs = options.sessionTimeoutMs ?? 10_000;
    this.acl = options.auth ? EVERYONE_READ_CREATOR_ALL : OPEN_ACL_UNSAFE;
    if (options.session) {
      this._sessionId = options.session.id;
      this.password = Buffer.from(options.session.password);
    }
    this.connectNext();
  }

  get state(): SessionState {
    return this._state;
  }
  get sessionId(): bigint {
    return this._sessionId;
  }
  /** The session password (with the id, enough to resume the session elsewhere). */
  get sessionPassword(): Buffer {
    return Buffer.from(this.password);
  }
  get sessionTimeoutMs(): number {
    return this.negotiatedMs;
  }
  /** The server this client is talking to, when connected. */
  get server(): ZkServerAddress | undefined {
    return this._state === 'connected' ? this.servers[this.serverIndex] : undefined;
  }

  onState(listener: (state: SessionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  connected(): Promise<void> {
    return untilConnected(this);
  }

  // -------------------------------------------------------------------------
  // Operations.

  async create(path: string, data: Buffer = Buffer.alloc(0), mode: CreateMode = 'persistent'): Promise<string> {
    const w = this.request(OpCode.create).string(path).buffer(data);
    writeAcl(w, this.acl);
    w.int(CREATE_FLAGS[mode]);
    const r = await this.send(OpCode.create, w, path);
    return r.string();
  }

  mkdirp(path: string): Promise<void> {
    return mkdirp(this, path);
  }

  async delete(path: string, version = -1): Promise<void> {
    await this.send(OpCode.delete, this.request(OpCode.delete).string(path).int(version), path);
  }

  async exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    try {
      const watch = watcher && { kind: 'exist' as const, watcher, onNoNode: true };
      const r = await this.send(OpCode.exists, this.request(OpCode.exists).string(path).bool(!!watcher), path, watch);
      return readStat(r);
    } catch (e) {
      if (e instanceof ZkError && e.code === Codes.NONODE) return undefined;
      throw e;
    }
  }

  async getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
    const watch = watcher && { kind: 'data' as const, watcher, onNoNode: false };
    const r = await this.send(OpCode.getData, this.request(OpCode.getData).string(path).bool(!!watcher), path, watch);
    const data = r.buffer() ?? Buffer.alloc(0);
    return { data, stat: readStat(r) };
  }

  async setData(path: string, data: Buffer, version = -1): Promise<Stat> {
    const r = await this.send(OpCode.setData, this.request(OpCode.setData).string(path).buffer(data).int(version), path);
    return readStat(r);
  }

  async getChildren(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: Stat }> {
    const watch = watcher && { kind: 'child' as const, watcher, onNoNode: false };
    const r = await this.send(OpCode.getChildren2, this.request(OpCode.getChildren2).string(path).bool(!!watcher), path, watch);
    const children = r.stringVector();
    return { children, stat: readStat(r) };
  }

  async multi(ops: Op[]): Promise<OpResult[]> {
    if (ops.length === 0) return [];
    const w = this.request(OpCode.multi);
    writeMulti(w, ops, this.acl);
    const r = await this.send(OpCode.multi, w);
    const outcome = readMulti(r);
    if (outcome.ok) return outcome.results;
    const index = outcome.codes.findIndex((c) => c !== Codes.OK && c !== Codes.RUNTIMEINCONSISTENCY);
    const code = index >= 0 ? outcome.codes[index]! : Codes.RUNTIMEINCONSISTENCY;
    throw new ZkError(code, index >= 0 ? ops[index]!.path : undefined, outcome.codes);
  }

  async close(): Promise<void> {
    if (this.terminal()) return;
    if (this._state === 'connected' && this.socket) {
      const socket = this.socket;
      const xid = this.nextXid++;
      const done = new Promise<void>((resolve) => {
        const timer = this.clock.setTimeout(resolve, 1000);
        socket.once('close', () => {
          this.clock.clearTimeout(timer);
          resolve();
        });
      });
      socket.write(header(xid, OpCode.closeSession).frame());
      this.finish('closed', Codes.CLOSED, false);
      await done;
      return;
    }
    this.finish('closed', Codes.CLOSED, false);
  }

  // -------------------------------------------------------------------------
  // Requests.

  private request(type: number): JuteWriter {
    return header(this.nextXid++, type);
  }

  private send(type: number, w: JuteWriter, path?: string, watch?: Pending['watch']): Promise<JuteReader> {
    if (this.terminal()) return Promise.reject(new ZkError(this._state === 'expired' ? Codes.SESSIONEXPIRED : Codes.CLOSED, path));
    const frame = w.frame();
    // The server drops a connection that sends a packet over jute.maxbuffer; refuse it here instead.
    if (frame.length - 4 > MAX_PACKET_BYTES) return Promise.reject(new ZkError(Codes.MARSHALLINGERROR, path));
    const xid = frame.readInt32BE(4);
    return new Promise((resolve, reject) => {
      const p: Pending = { xid, type, frame, path, watch, resolve, reject };
      if (this._state === 'connected' && this.socket) this.transmit(p);
      else this.queue.push(p);
    });
  }

  private transmit(p: Pending): void {
    this.pending.push(p);
    this.lastSent = this.clock.now();
    this.socket!.write(p.frame);
  }

  // -------------------------------------------------------------------------
  // Connection handling.

  private terminal(): boolean {
    return isTerminal(this._state);
  }

  private terminalError(path?: string): ZkError {
    return terminalError(this._state, path);
  }

  private setState(s: SessionState): void {
    if (this._state === s) return;
    this._state = s;
    for (const l of [...this.stateListeners]) l(s);
  }

  private connectNext(): void {
    if (this.terminal()) return;
    const server = this.servers[this.serverIndex]!;
    this.handshakeDone = false;
    this.inbound = Buffer.alloc(0);
    const socket = net.connect({ host: server.host, port: server.port });
    socket.setNoDelay(true);
    this.socket = socket;
    // Without a session the server list is tried forever; a TCP connect that hangs moves on.
    this.connectTimer = this.clock.setTimeout(() => this.dropConnection(socket, 'connect timed out'),
      Math.max(500, Math.floor(this.negotiatedMs / this.servers.length)));
    socket.on('connect', () => {
      socket.write(writeConnectRequest({
        lastZxidSeen: this.lastZxid,
        timeoutMs: this.options.sessionTimeoutMs ?? 10_000,
        sessionId: this._sessionId,
        password: this.password,
      }));
    });
    socket.on('data', (chunk) => this.onData(socket, chunk));
    socket.on('error', (e) => log.debug(`connection to ${server.host}:${server.port}: ${e.message}`));
    socket.on('close', () => this.dropConnection(socket, 'connection closed'));
  }

  /** The current connection is unusable: fail what is in flight and try the next server. */
  private dropConnection(socket: net.Socket, why: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    socket.destroy();
    this.clock.clearTimeout(this.connectTimer);
    this.clock.clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    if (this.terminal()) return;
    log.debug(`ZooKeeper connection lost (${why})`);
    const inFlight = this.pending;
    this.pending = [];
    for (const p of inFlight) p.reject(new ZkError(Codes.CONNECTIONLOSS, p.path));
    if (this._state === 'connected') {
      this.setState('disconnected');
      this.armExpiry();
    }
    this.serverIndex = (this.serverIndex + 1) % this.servers.length;
    this.attemptsThisRound++;
    // After a full round over the ensemble, back off a little before the next one.
    const delay = this.attemptsThisRound >= this.servers.length ? Math.min(1000, Math.max(50, this.negotiatedMs / 10)) : 0;
    if (this.attemptsThisRound >= this.servers.length) this.attemptsThisRound = 0;
    this.retryTimer = this.clock.setTimeout(() => this.connectNext(), delay);
  }

  /**
   * The server expires a session it has not heard from for the session timeout; a client
   * that cannot reach any server assumes the same at that point rather than lead on.
   */
  private armExpiry(): void {
    if (this.expiryTimer) return;
    const due = Math.max(0, this.lastReceived + this.negotiatedMs - this.clock.now());
    this.expiryTimer = this.clock.setTimeout(() => {
      this.expiryTimer = undefined;
      if (this._state === 'disconnected') {
        log.warn(`Timed out reconnecting to ZooKeeper: session 0x${this._sessionId.toString(16)} treated as expired`);
        this.finish('expired', Codes.SESSIONEXPIRED, true);
      }
    }, due);
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    this.lastReceived = this.clock.now();
    this.inbound = this.inbound.length ? Buffer.concat([this.inbound, chunk]) : chunk;
    while (this.inbound.length >= 4) {
      const len = this.inbound.readInt32BE(0);
      if (len < 0 || len > 64 * 1024 * 1024) {
        this.dropConnection(socket, `bad frame length ${len}`);
        return;
      }
      if (this.inbound.length < 4 + len) break;
      const frame = this.inbound.subarray(4, 4 + len);
      this.inbound = this.inbound.subarray(4 + len);
      try {
        if (!this.handshakeDone) this.onHandshake(socket, frame);
        else this.onFrame(socket, frame);
      } catch (e) {
        this.dropConnection(socket, `bad frame: ${(e as Error).message}`);
        return;
      }
      if (socket !== this.socket) return;
    }
  }

  private onHandshake(socket: net.Socket, frame: Buffer): void {
    const resp = readConnectResponse(frame);
    this.clock.clearTimeout(this.connectTimer);
    if (resp.timeoutMs <= 0) {
      log.warn(`ZooKeeper session 0x${this._sessionId.toString(16)} expired`);
      this.finish('expired', Codes.SESSIONEXPIRED, true);
      return;
    }
    this.handshakeDone = true;
    this.attemptsThisRound = 0;
    this._sessionId = resp.sessionId;
    this.password = resp.password;
    this.negotiatedMs = resp.timeoutMs;
    this.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const pingEvery = Math.max(10, Math.floor(this.negotiatedMs / 3));
    this.pingTimer = this.clock.setInterval(() => this.tick(socket), pingEvery);
    if (this.options.auth) {
      const w = header(Xid.auth, OpCode.auth).int(0).string(this.options.auth.scheme)
        .buffer(Buffer.from(this.options.auth.credentials, 'utf8'));
      socket.write(w.frame());
    }
    this.restoreWatches(socket);
    this.setState('connected');
    const queued = this.queue;
    this.queue = [];
    for (const p of queued) {
      if (this.socket === socket && this._state === 'connected') this.transmit(p);
      else this.queue.push(p);
    }
  }

  private tick(socket: net.Socket): void {
    if (socket !== this.socket) return;
    const now = this.clock.now();
    // Nothing heard for two thirds of the timeout: this server is gone for us.
    if (now - this.lastReceived > (this.negotiatedMs * 2) / 3) {
      this.dropConnection(socket, 'no response from server');
      return;
    }
    this.lastSent = now;
    socket.write(header(Xid.ping, OpCode.ping).frame());
  }

  private restoreWatches(socket: net.Socket): void {
    const data = this.watches.paths('data');
    const exist = this.watches.paths('exist');
    const child = this.watches.paths('child');
    if (data.length + exist.length + child.length === 0) return;
    const w = header(Xid.setWatches, OpCode.setWatches).long(this.lastZxid)
      .stringVector(data).stringVector(exist).stringVector(child);
    socket.write(w.frame());
  }

  private onFrame(socket: net.Socket, frame: Buffer): void {
    const r = new JuteReader(frame);
    const xid = r.int();
    const zxid = r.long();
    const err = r.int();
    if (zxid > 0n && zxid > this.lastZxid) this.lastZxid = zxid;
    if (xid === Xid.ping || xid === Xid.setWatches) return;
    if (xid === Xid.auth) {
      if (err !== 0) {
        log.error('ZooKeeper authentication failed');
        this.finish('closed', Codes.AUTHFAILED, false);
      }
      return;
    }
    if (xid === Xid.notification) {
      const n = readNotification(r);
      if (n.type) this.fireWatches(n.type, n.path);
      return;
    }
    const p = this.pending.shift();
    if (!p || p.xid !== xid) {
      if (p) this.pending.unshift(p);
      this.dropConnection(socket, `reply xid ${xid} out of order`);
      return;
    }
    if (p.watch && p.path !== undefined && (err === 0 || (err === Codes.NONODE && p.watch.onNoNode))) {
      this.addWatch(p.watch.kind, p.path, p.watch.watcher);
    }
    if (err !== 0 && !(p.type === OpCode.multi && r.remaining > 0)) p.reject(new ZkError(err, p.path));
    else p.resolve(r);
  }

  // -------------------------------------------------------------------------
  // Watches.

  private addWatch(kind: WatchKind, path: string, watcher: Watcher): void {
    if (!this.terminal()) this.watches.add(kind, path, watcher);
  }

  private fireWatches(type: WatchEvent['type'], path: string): void {
    for (const w of this.watches.trigger(type, path)) deliver(w, { type, path });
  }

  /** Terminal transition: everything outstanding fails, watchers learn the session ended. */
  private finish(state: 'expired' | 'closed', code: number, notifyWatchers: boolean): void {
    if (this.terminal()) return;
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.expiryTimer);
    this.clock.clearTimeout(this.connectTimer);
    this.clock.clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = undefined;
    // A closing client lets the server answer closeSession before the socket goes.
    if (socket && state === 'expired') socket.destroy();
    if (socket && state === 'closed' && code !== Codes.CLOSED) socket.destroy();
    if (socket && state === 'closed' && code === Codes.CLOSED) socket.end();
    const failed = [...this.pending, ...this.queue];
    this.pending = [];
    this.queue = [];
    const watchers = this.watches.clear();
    this.setState(state);
    for (const p of failed) p.reject(new ZkError(code, p.path));
    if (notifyWatchers) for (const w of watchers) deliver(w, { type: 'session_expired', path: '' });
  }
}

function deliver(w: Watcher, e: WatchEvent): void {
  try {
    w(e);
  } catch (err) {
    log.error(`ZooKeeper watcher threw: ${(err as Error).stack ?? err}`);
  }
}
