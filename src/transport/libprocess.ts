// Libprocess message transport (WIRE-01): actors addressed by UPID exchange `POST /<id>/<name>` requests.
//
// Semantics, as in libprocess: messages are best effort and ordered per (sender daemon, destination
// address); each daemon sends over its own persistent connection per destination and never expects
// a reply on it; `link` + `onExited` report that connection breaking (or never being made). Inbound,
// any POST carrying `Libprocess-From` or `User-Agent: libprocess/<pid>` is a message: 202 when the
// actor exists (unknown message names are dropped), 404 when it does not; everything else falls
// through to the daemon's HTTP routes.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../common/clock.js';
import { SystemClock } from '../common/clock.js';
import { logger } from '../common/log.js';
import { HttpRequest, HttpServer, MAX_BODY_BYTES } from '../common/http/server.js';
import { ConnectionPool } from './connection-pool.js';
import { protoCodec, type MessageCodec, type Msg } from './codec-binding.js';
import { formatAddress, formatUpid, parseUpid, tryParseUpid, type UPID } from './upid.js';

export type { Msg, MessageCodec } from './codec-binding.js';

const log = logger('libprocess');

export type MessageHandler = (from: UPID, msg: Msg) => void;
export type RawHandler = (from: UPID, body: Buffer) => void;
export type ExitedHandler = (peer: UPID) => void;

/** A message as it arrives, before dispatch (for test filters). */
export interface Envelope {
  readonly from: UPID;
  readonly to: UPID;
  readonly name: string;
  readonly body: Buffer;
}
/** Returns true to drop the message. */
export type MessageFilter = (message: Envelope) => boolean;

export interface LinkOptions {
  reconnect?: boolean;
}

export interface LibprocessOptions {
  /** Advertised address; the port may be 0 until the server listens (see setAddress). */
  ip: string;
  port: number;
  clock?: Clock;
  /** Defaults to the protobuf codec of src/protocol. */
  codec?: MessageCodec;
}

interface Installed {
  raw: boolean;
  fn: MessageHandler | RawHandler;
}

interface Link {
  readonly owner: Actor;
  readonly peer: UPID;
  readonly pid: string;
  unwatch: () => void;
}

const EMPTY = Buffer.alloc(0);
const CHUNK_END = '\r\n0\r\n\r\n';
const noop = (): void => {};
const INBOUND = Symbol('libprocess.inbound');

/** Per inbound socket that carries messages: tuning shared by every request on it. */
class Inbound {
  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
  }
  /**
   * The server arms its keep-alive timer as each response finishes; a peer's link socket may sit
   * idle for days and must not be closed under it (that would read as the peer exiting).
   */
  readonly keepOpen = (): void => {
    this.socket.setTimeout(0);
  };
  // (Corking to batch the 202s does not work: ServerResponse.end() fully uncorks the socket.)
}

export class Actor {
  private readonly handlers = new Map<string, Installed>();
  private readonly exitedHandlers: ExitedHandler[] = [];
  /** @internal links this actor made, by peer pid string. */
  readonly links = new Map<string, Link>();
  private cachedUpid?: UPID;
  private cachedPid?: string;
  private cachedHead?: string;
  private alive = true;

  /** @internal use Libprocess.spawn */
  constructor(
    private readonly lp: Libprocess,
    readonly id: string,
  ) {}

  get upid(): UPID {
    return (this.cachedUpid ??= Object.freeze({ id: this.id, ip: this.lp.ip, port: this.lp.port }));
  }
  /** `id@ip:port`. */
  get pid(): string {
    return (this.cachedPid ??= formatUpid(this.upid));
  }
  get running(): boolean {
    return this.alive;
  }

  /** Handles `name` (a full proto name) with the body decoded by the codec; replaces any earlier handler. */
  install(name: string, handler: MessageHandler): void {
    this.handlers.set(name, { raw: false, fn: handler });
  }
  /** Handles `name` with the raw body bytes. */
  installRaw(name: string, handler: RawHandler): void {
    this.handlers.set(name, { raw: true, fn: handler });
  }
  uninstall(name: string): void {
    this.handlers.delete(name);
  }

  /** Encodes `msg` as the proto type `name` and sends it (best effort, in order per destination). */
  send(to: UPID | string, name: string, msg: Msg): void {
    if (!this.alive) return;
    this.sendRaw(to, name, this.lp.codec.encode(name, msg));
  }
  sendRaw(to: UPID | string, name: string, body: Buffer | Uint8Array = EMPTY): void {
    if (!this.alive) return;
    this.lp.transmit(this, this.lp.resolve(to), name, Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  }

  /**
   * Watches the connection to `to`: onExited fires once when it breaks (or cannot be made).
   * Idempotent; `reconnect` (libprocess's RECONNECT) first swaps the connection to that address
   * for a fresh one, silently, to get past a socket that may be half-open.
   */
  link(to: UPID | string, options: LinkOptions = {}): void {
    if (!this.alive) return;
    this.lp.link(this, this.lp.resolve(to), options.reconnect === true);
  }
  unlink(to: UPID | string): void {
    const pid = typeof to === 'string' ? to : formatUpid(to);
    const link = this.links.get(pid);
    if (!link) return;
    this.links.delete(pid);
    link.unwatch();
  }
  onExited(handler: ExitedHandler): void {
    this.exitedHandlers.push(handler);
  }

  /** @internal */
  headPrefix(): string {
    return (this.cachedHead ??=
      ` HTTP/1.1\r\nUser-Agent: libprocess/${this.pid}\r\nLibprocess-From: ${this.pid}\r\nConnection: Keep-Alive\r\nHost: `);
  }
  /** @internal the advertised address changed */
  readdress(): void {
    this.cachedUpid = this.cachedPid = this.cachedHead = undefined;
  }
  /** @internal */
  deliver(from: UPID, name: string, body: Buffer): void {
    if (!this.alive) return;
    const h = this.handlers.get(name);
    if (!h) {
      log.debug(`${this.id}: dropping unknown message '${name}' from ${formatUpid(from)}`);
      return;
    }
    let msg: Msg | undefined;
    if (!h.raw) {
      try {
        msg = this.lp.codec.decode(name, body);
      } catch (e) {
        log.warn(`${this.id}: dropping malformed '${name}' from ${formatUpid(from)}: ${(e as Error).message}`);
        return;
      }
    }
    try {
      if (h.raw) (h.fn as RawHandler)(from, body);
      else (h.fn as MessageHandler)(from, msg!);
    } catch (e) {
      this.failed(name, e);
    }
  }
  /** @internal a link broke */
  exited(link: Link): void {
    if (this.links.get(link.pid) !== link) return;
    this.links.delete(link.pid);
    if (!this.alive) return;
    for (const fn of this.exitedHandlers) {
      try {
        fn(link.peer);
      } catch (e) {
        this.failed('exited', e);
      }
    }
  }
  /** @internal */
  kill(): void {
    this.alive = false;
    for (const link of this.links.values()) link.unwatch();
    this.links.clear();
    this.handlers.clear();
    this.exitedHandlers.length = 0;
  }

  /** A handler bug must not take the daemon (or the peer's connection) down with it. */
  private failed(what: string, e: unknown): void {
    log.error(`${this.id}: handler for '${what}' failed: ${(e as Error)?.stack ?? e}`);
  }
}

/** The libprocess runtime of one daemon: hosts actors on its HttpServer and owns its outgoing connections. */
export class Libprocess {
  readonly clock: Clock;
  readonly codec: MessageCodec;
  private advertisedIp: string;
  private advertisedPort: number;
  private selfKey: string;
  private readonly actors = new Map<string, Actor>();
  private readonly pool: ConnectionPool<Link>;
  /** Links to actors of this same Libprocess, by target actor id. */
  private readonly localLinks = new Map<string, Set<Link>>();
  private readonly localQueue: Array<{ from: UPID; to: UPID; name: string; body: Buffer }> = [];
  private localScheduled = false;
  private readonly filters: MessageFilter[] = [];
  private readonly upidCache = new Map<string, UPID>();
  private readonly idCounters = new Map<string, number>();
  private closed = false;

  constructor(
    readonly server: HttpServer,
    opts: LibprocessOptions,
  ) {
    this.advertisedIp = opts.ip;
    this.advertisedPort = opts.port;
    this.selfKey = formatAddress(opts.ip, opts.port);
    this.clock = opts.clock ?? new SystemClock();
    this.codec = opts.codec ?? protoCodec;
    this.pool = new ConnectionPool<Link>((address, reason, links) => {
      if (links.length) log.info(`link to ${address} broken (${reason}): exiting ${links.length} link(s)`);
      for (const link of links) link.owner.exited(link);
    });
    server.intercept((req, res) => this.intercept(req, res));
  }

  get ip(): string {
    return this.advertisedIp;
  }
  get port(): number {
    return this.advertisedPort;
  }

  /** Sets the advertised address (e.g. once the server has its port). */
  setAddress(ip: string, port: number): void {
    this.advertisedIp = ip;
    this.advertisedPort = port;
    this.selfKey = formatAddress(ip, port);
    for (const a of this.actors.values()) a.readdress();
  }

  /** Creates an actor; throws if the id is taken or malformed. */
  spawn(id: string): Actor {
    if (this.actors.has(id)) throw new Error(`Actor '${id}' already exists`);
    if (!tryParseUpid(`${id}@0.0.0.0:1`)) throw new Error(`Malformed actor id '${id}'`);
    const actor = new Actor(this, id);
    this.actors.set(id, actor);
    return actor;
  }

  /** Next id of the libprocess form `prefix(N)`, N counting from 1 per prefix (e.g. `slave(1)`). */
  generateId(prefix: string): string {
    const n = (this.idCounters.get(prefix) ?? 0) + 1;
    this.idCounters.set(prefix, n);
    return `${prefix}(${n})`;
  }

  actor(id: string): Actor | undefined {
    return this.actors.get(id);
  }

  /** Removes an actor; actors of this Libprocess linked to it get exited (as an event, not re-entrantly). */
  terminate(id: string): void {
    const actor = this.actors.get(id);
    if (!actor) return;
    this.actors.delete(id);
    actor.kill();
    const linkers = this.localLinks.get(id);
    if (linkers) {
      this.localLinks.delete(id);
      const links = [...linkers];
      setImmediate(() => {
        for (const link of links) link.owner.exited(link);
      });
    }
  }

  /** Sees every incoming message (remote or local) before dispatch; returns a remover. For tests. */
  addFilter(filter: MessageFilter): () => void {
    this.filters.push(filter);
    return () => {
      const i = this.filters.indexOf(filter);
      if (i >= 0) this.filters.splice(i, 1);
    };
  }

  /** True once an outgoing connection to the peer's address is established. */
  isConnected(peer: UPID | string): boolean {
    const u = this.resolve(peer);
    return this.pool.isConnected(formatAddress(u.ip, u.port));
  }

  /** Closes the outgoing connection to the peer's address as if it broke: links to it get exited. For tests. */
  disconnect(peer: UPID | string): void {
    const u = this.resolve(peer);
    this.pool.disconnect(formatAddress(u.ip, u.port));
  }

  /** Destroys every outgoing socket and stops all actors; nothing is reported as exited. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.close();
    for (const a of this.actors.values()) a.kill();
    this.actors.clear();
    this.localLinks.clear();
    this.localQueue.length = 0;
  }

  /** @internal */
  transmit(from: Actor, to: UPID, name: string, body: Buffer): void {
    if (this.closed) return;
    const key = formatAddress(to.ip, to.port);
    if (key === this.selfKey) {
      this.enqueueLocal(from.upid, to, name, body);
      return;
    }
    this.pool.write(key, to.ip, to.port, encodeRequest(from.headPrefix(), to.id, name, key, body));
  }

  /** @internal */
  link(owner: Actor, peer: UPID, reconnect: boolean): void {
    const pid = formatUpid(peer);
    const key = formatAddress(peer.ip, peer.port);
    const remote = key !== this.selfKey;
    if (reconnect && remote) this.pool.reconnect(key, peer.ip, peer.port);
    if (owner.links.has(pid)) return;
    const link: Link = { owner, peer, pid, unwatch: noop };
    owner.links.set(pid, link);
    if (!remote) {
      if (!this.actors.has(peer.id)) {
        setImmediate(() => owner.exited(link));
        return;
      }
      let set = this.localLinks.get(peer.id);
      if (!set) this.localLinks.set(peer.id, (set = new Set()));
      const s = set;
      s.add(link);
      link.unwatch = () => {
        s.delete(link);
        if (s.size === 0 && this.localLinks.get(peer.id) === s) this.localLinks.delete(peer.id);
      };
      return;
    }
    this.pool.watch(key, peer.ip, peer.port, link);
    link.unwatch = () => this.pool.unwatch(link);
  }

  private enqueueLocal(from: UPID, to: UPID, name: string, body: Buffer): void {
    this.localQueue.push({ from, to, name, body });
    if (this.localScheduled) return;
    this.localScheduled = true;
    setImmediate(() => this.drainLocal());
  }

  private drainLocal(): void {
    this.localScheduled = false;
    const batch = this.localQueue.splice(0, this.localQueue.length);
    for (const m of batch) this.dispatch(m.from, m.to.id, m.name, m.body);
  }

  private dispatch(from: UPID, toId: string, name: string, body: Buffer): void {
    const actor = this.actors.get(toId);
    if (!actor) {
      log.debug(`dropping '${name}' from ${formatUpid(from)}: no actor '${toId}'`);
      return;
    }
    if (this.filters.length) {
      const m: Envelope = { from, to: actor.upid, name, body };
      for (const f of this.filters) if (f(m)) return;
    }
    actor.deliver(from, name, body);
  }

  /** A UPID from either form, parsing strings once (throws UpidError on a malformed one). */
  resolve(to: UPID | string): UPID {
    if (typeof to !== 'string') return to;
    return this.parseCached(to) ?? parseUpid(to);
  }

  /** Parses through a small cache: the same few peers send and receive nearly every message. */
  private parseCached(text: string): UPID | undefined {
    let u = this.upidCache.get(text);
    if (u) return u;
    u = tryParseUpid(text);
    if (!u) return undefined;
    if (this.upidCache.size >= 4096) this.upidCache.clear();
    this.upidCache.set(text, Object.freeze(u));
    return u;
  }

  /** The HttpServer interceptor: takes POSTs from libprocess peers, lets everything else through. */
  private intercept(req: HttpRequest, res: ServerResponse): boolean {
    if (req.method !== 'POST') return false;
    const headers = req.raw.headers;
    let fromText = headers['libprocess-from'];
    if (Array.isArray(fromText)) fromText = fromText[0];
    if (fromText === undefined) {
      const ua = headers['user-agent'];
      if (!ua || !ua.startsWith('libprocess/')) return false;
      fromText = ua.slice('libprocess/'.length);
    }
    // Like libprocess: a request whose sender or path does not parse is plain HTTP, not a message.
    const from = this.parseCached(fromText.trim());
    if (!from) return false;
    const path = req.path;
    const slash = path.indexOf('/', 1);
    if (path.charCodeAt(0) !== 47 /* / */ || slash < 0 || slash === path.length - 1) return false;
    const toId = path.slice(1, slash);
    const name = path.slice(slash + 1);

    const socket = req.raw.socket as Socket & { [INBOUND]?: Inbound };
    const inbound = (socket[INBOUND] ??= new Inbound(socket));
    res.once('finish', inbound.keepOpen);

    if (this.closed || !this.actors.has(toId)) {
      res.writeHead(404, { 'Content-Length': '0' });
      res.end();
      return true;
    }

    const raw = req.raw;
    let first: Buffer | undefined;
    let rest: Buffer[] | undefined;
    let size = 0;
    raw.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        log.warn(`dropping '${name}' from ${fromText}: body exceeds ${MAX_BODY_BYTES} bytes`);
        first = undefined;
        rest = undefined;
        if (!res.headersSent) {
          res.writeHead(413, { 'Content-Length': '0', Connection: 'close' });
          res.end();
        }
        raw.destroy();
        return;
      }
      if (!first) first = chunk;
      else (rest ??= [first]).push(chunk);
    });
    raw.on('error', (e) => log.debug(`message '${name}' from ${fromText} aborted: ${e.message}`));
    raw.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      res.writeHead(202, { 'Content-Length': '0' });
      res.end();
      // Node's parser hands out body chunks as their own small buffers, so keeping `first` (and
      // decoded `bytes` fields that alias it) never pins a whole socket read.
      const body = rest ? Buffer.concat(rest, size) : (first ?? EMPTY);
      this.dispatch(from, toId, name, body);
    });
    return true;
  }
}

/** One whole libprocess request, built in a single buffer so it goes out in one write. */
export function encodeRequest(headPrefix: string, toId: string, name: string, host: string, body: Buffer): Buffer {
  if (body.length === 0) {
    return Buffer.from(`POST /${toId}/${name}${headPrefix}${host}\r\n\r\n`);
  }
  const head = `POST /${toId}/${name}${headPrefix}${host}\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`;
  const headLen = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headLen + body.length + CHUNK_END.length);
  out.write(head, 0);
  body.copy(out, headLen);
  out.write(CHUNK_END, headLen + body.length, 'latin1');
  return out;
}
