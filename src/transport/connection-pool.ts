// Outgoing libprocess connections: one persistent TCP socket per destination ip:port, owned by the sender.
import net from 'node:net';
import { logger } from '../common/log.js';

const log = logger('libprocess');

const KEEPALIVE_DELAY_MS = 10_000;
/** Unsent bytes past which a peer is reported as not keeping up (once per connection). */
const BACKLOG_WARN_BYTES = 16 * 1024 * 1024;
const noop = (): void => {};

class Connection<W> {
  readonly socket: net.Socket;
  connected = false;
  warned = false;
  /** Whoever must hear when this very socket breaks (links made while it was current). */
  readonly watchers = new Set<W>();

  constructor(
    readonly key: string,
    ip: string,
    port: number,
    private readonly onClose: (conn: Connection<W>, error?: Error) => void,
  ) {
    this.socket = new net.Socket();
    let lastError: Error | undefined;
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      this.connected = true;
      this.socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    });
    // Peers answer 202 (Meseta) or nothing (libprocess); either way the bytes are discarded.
    this.socket.on('data', noop);
    this.socket.on('error', (e) => {
      lastError = e;
    });
    this.socket.on('close', () => this.onClose(this, lastError));
    this.socket.connect({ host: ip, port });
  }

  get usable(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }
}

/**
 * Owns every outgoing socket of one Libprocess. Writes made before the socket connects are
 * buffered by the socket and flushed in order; if the connection fails or later breaks, whatever
 * is still buffered is dropped (messages are best effort) and `onBroken` is called once with the
 * watchers of that socket. The next write to that address opens a new connection.
 */
export class ConnectionPool<W> {
  private readonly conns = new Map<string, Connection<W>>();
  /** Which connection each watcher is on, so unwatch finds it after a reconnect moved it. */
  private readonly watched = new Map<W, Connection<W>>();
  private closed = false;

  constructor(private readonly onBroken: (address: string, reason: string, watchers: W[]) => void) {}

  /** Writes one whole encoded request; `key` must be formatAddress(ip, port). */
  write(key: string, ip: string, port: number, frame: Buffer): void {
    const conn = this.connection(key, ip, port);
    if (conn) {
      // Writes of this turn of the event loop are corked and leave together (one writev, not one
      // per message); nothing else corks these sockets, so writableCorked says whether this turn did.
      if (conn.socket.writableCorked === 0) {
        conn.socket.cork();
        setImmediate(() => conn.socket.uncork());
      }
      conn.socket.write(frame);
      if (!conn.warned && conn.socket.writableLength > BACKLOG_WARN_BYTES) {
        conn.warned = true;
        log.warn(`${key} is not keeping up: ${conn.socket.writableLength} bytes of messages queued`);
      }
    } else if (!this.closed) log.debug(`dropping message to ${key}: invalid port`);
  }

  /** Connects if needed and registers `watcher` to be reported when that connection breaks (a link). */
  watch(key: string, ip: string, port: number, watcher: W): void {
    if (this.closed) return;
    const conn = this.connection(key, ip, port);
    if (!conn) {
      setImmediate(() => {
        if (!this.closed) this.onBroken(key, `invalid port ${port}`, [watcher]);
      });
      return;
    }
    conn.watchers.add(watcher);
    this.watched.set(watcher, conn);
  }

  unwatch(watcher: W): void {
    const conn = this.watched.get(watcher);
    if (!conn) return;
    this.watched.delete(watcher);
    conn.watchers.delete(watcher);
  }

  /**
   * Replaces the connection to an address with a fresh one (libprocess's RECONNECT link): the old
   * socket is dropped silently, with anything still unsent, and its watchers move to the new one.
   */
  reconnect(key: string, ip: string, port: number): void {
    if (this.closed) return;
    const old = this.conns.get(key);
    if (old) this.conns.delete(key);
    const conn = this.connection(key, ip, port);
    if (!old) return;
    const moved = [...old.watchers];
    old.watchers.clear();
    old.socket.destroy();
    if (!conn) {
      for (const w of moved) this.watched.delete(w);
      setImmediate(() => {
        if (!this.closed) this.onBroken(key, `invalid port ${port}`, moved);
      });
      return;
    }
    for (const w of moved) {
      conn.watchers.add(w);
      this.watched.set(w, conn);
    }
  }

  /** True while a connection (possibly still connecting) to the address exists. */
  has(key: string): boolean {
    return this.conns.get(key)?.usable ?? false;
  }

  /** True once the connection to the address has been established. */
  isConnected(key: string): boolean {
    const c = this.conns.get(key);
    return !!c && c.connected && c.usable;
  }

  /** Number of outgoing connections. */
  get size(): number {
    return this.conns.size;
  }

  /** Closes the connection to one address; its watchers are reported as for any break. */
  disconnect(key: string): void {
    this.conns.get(key)?.socket.destroy();
  }

  close(): void {
    this.closed = true;
    const all = [...this.conns.values()];
    this.conns.clear();
    this.watched.clear();
    for (const c of all) c.socket.destroy();
  }

  private connection(key: string, ip: string, port: number): Connection<W> | undefined {
    if (this.closed) return undefined;
    let conn = this.conns.get(key);
    if (conn && conn.usable) return conn;
    // A dying socket still reports its own watchers when its 'close' arrives.
    if (conn) this.conns.delete(key);
    // net would throw synchronously on a bad port: treat it like a refused connection.
    if (!(port > 0 && port < 65536)) return undefined;
    conn = new Connection<W>(key, ip, port, (c, err) => this.onConnectionClosed(c, err));
    this.conns.set(key, conn);
    return conn;
  }

  private onConnectionClosed(conn: Connection<W>, error?: Error): void {
    if (this.conns.get(conn.key) === conn) this.conns.delete(conn.key);
    if (this.closed) return;
    const watchers = [...conn.watchers];
    conn.watchers.clear();
    for (const w of watchers) this.watched.delete(w);
    const reason = error ? error.message : conn.connected ? 'closed by peer' : 'connection closed';
    log.debug(`connection to ${conn.key} broken: ${reason}`);
    this.onBroken(conn.key, reason, watchers);
  }
}
