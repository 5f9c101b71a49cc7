// Shared fixtures for the transport tests: daemons on ephemeral loopback ports and raw socket clients.
import net from 'node:net';
import { HttpServer } from '../../src/common/http/server.js';
import { Libprocess, type LibprocessOptions, type MessageCodec } from '../../src/transport/libprocess.js';
import type { UPID } from '../../src/transport/upid.js';
import { freePort } from '../support/net.js';

export interface Daemon {
  server: HttpServer;
  lp: Libprocess;
  port: number;
  close(): Promise<void>;
}

export async function startDaemon(opts: Partial<LibprocessOptions> = {}): Promise<Daemon> {
  const server = new HttpServer({ host: '127.0.0.1', port: 0 });
  const lp = new Libprocess(server, { ip: '127.0.0.1', port: 0, ...opts });
  const port = await server.listen();
  lp.setAddress('127.0.0.1', port);
  return {
    server,
    lp,
    port,
    close: async () => {
      lp.close();
      await server.close();
    },
  };
}

/** A codec that is not protobuf, to test the typed path of the transport on its own. */
export const jsonCodec: MessageCodec = {
  encode: (type, msg) => Buffer.from(JSON.stringify({ type, msg })),
  decode: (type, bytes) => {
    const v = JSON.parse(bytes.toString()) as { type: string; msg: Record<string, unknown> };
    if (v.type !== type) throw new Error(`expected ${type}, got ${v.type}`);
    return v.msg;
  },
};

export interface Received<T> {
  from: UPID;
  value: T;
}

/** Collects values and resolves waiters once `n` have arrived. */
export class Inbox<T> {
  readonly items: Array<Received<T>> = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  push = (from: UPID, value: T): void => {
    this.items.push({ from, value });
    this.waiters = this.waiters.filter((w) => {
      if (this.items.length >= w.n) w.resolve();
      return this.items.length < w.n;
    });
  };
  waitFor(n: number): Promise<Array<Received<T>>> {
    if (this.items.length >= n) return Promise.resolve(this.items);
    return new Promise((resolve) => this.waiters.push({ n, resolve: () => resolve(this.items) }));
  }
}

/** Number of complete HTTP responses at the start of `text` (Content-Length or chunked bodies). */
export function completeResponses(text: string): number {
  let count = 0;
  let pos = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return count;
    const head = text.slice(pos, headEnd).toLowerCase();
    let next = headEnd + 4;
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    if (/\r\ntransfer-encoding: *chunked/.test(head)) {
      for (;;) {
        const lineEnd = text.indexOf('\r\n', next);
        if (lineEnd < 0) return count;
        const size = parseInt(text.slice(next, lineEnd), 16);
        next = lineEnd + 2 + size + 2;
        if (next > text.length) return count;
        if (size === 0) break;
      }
    } else if (length) {
      next += Number(length[1]);
      if (next > text.length) return count;
    }
    count++;
    pos = next;
  }
}

/** Writes `data` on a fresh socket and resolves with everything read once `responses` HTTP responses (or EOF) arrived. */
export function rawExchange(port: number, data: Buffer | string, responses: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const done = () => {
      s.destroy();
      resolve(out);
    };
    s.on('connect', () => s.write(data));
    s.on('data', (d) => {
      out += d.toString('latin1');
      if (completeResponses(out) >= responses) done();
    });
    s.on('end', done);
    s.on('error', reject);
  });
}

/** The status codes found in a stream of HTTP responses, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}

/** A port nobody listens on (bound once, then released). */
export const deadPort = freePort;
