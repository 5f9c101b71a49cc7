// One HTTP server per daemon: plain endpoints, streaming endpoints and libprocess messages share the port.
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from '../log.js';

const log = logger('http');

/** Largest request body a daemon will buffer (a LAUNCH of many tasks stays far below this). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export class HttpRequest {
  readonly method: string;
  /** Percent-decoded path without the query string, with the delegate actor prefix removed. */
  path: string;
  readonly originalPath: string;
  readonly query: URLSearchParams;
  private bodyPromise?: Promise<Buffer>;

  constructor(readonly raw: IncomingMessage, path: string, query: URLSearchParams) {
    this.method = raw.method ?? 'GET';
    this.path = path;
    this.originalPath = path;
    this.query = query;
  }
  get headers(): http.IncomingHttpHeaders {
    return this.raw.headers;
  }
  header(name: string): string | undefined {
    const v = this.raw.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  }
  get remoteAddress(): string {
    return this.raw.socket.remoteAddress ?? '';
  }
  /** Reads the whole body once; rejects with BodyTooLarge past MAX_BODY_BYTES. */
  body(): Promise<Buffer> {
    this.bodyPromise ??= new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.raw.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          reject(new BodyTooLarge());
          this.raw.destroy();
          return;
        }
        chunks.push(c);
      });
      this.raw.on('end', () => resolve(Buffer.concat(chunks)));
      this.raw.on('error', reject);
    });
    return this.bodyPromise;
  }
}

export class BodyTooLarge extends Error {
  constructor() {
    super(`Request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
}

export type Handler = (req: HttpRequest, res: ServerResponse) => void | Promise<void>;

interface Route {
  methods: Set<string> | null;
  handler: Handler;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  /** The libprocess delegate actor id (`master`, `slave(1)`): `/<delegate>/x` also reaches `/x`. */
  delegate?: string;
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = Buffer.from(text);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...headers });
  res.end(body);
}

/** A bodiless answer (200 unless told). */
export function sendEmpty(res: ServerResponse, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

/** JSON response; `?jsonp=fn` wraps it the way the Mesos web UI expects. */
export function sendJson(res: ServerResponse, status: number, value: unknown, req?: HttpRequest): void {
  const json = JSON.stringify(value);
  const jsonp = req?.query.get('jsonp');
  if (jsonp && /^[A-Za-z_$][\w$.]*$/.test(jsonp)) {
    const body = Buffer.from(`${jsonp}(${json});`);
    res.writeHead(status, { 'Content-Type': 'text/javascript', 'Content-Length': body.length });
    res.end(body);
    return;
  }
  const body = Buffer.from(json);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

export class HttpServer {
  private readonly exact = new Map<string, Route>();
  private readonly prefixes: Array<{ prefix: string; route: Route }> = [];
  private interceptor?: (req: HttpRequest, res: ServerResponse) => boolean;
  private readonly server: http.Server;
  private boundPort = 0;

  constructor(private readonly options: HttpServerOptions) {
    this.server = http.createServer((req, res) => this.dispatch(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.headersTimeout = 65_000;
    this.server.requestTimeout = 0; // streaming subscriptions live for hours
    this.server.on('clientError', (err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      log.debug(`client error: ${err.message}`);
    });
  }

  get port(): number {
    return this.boundPort;
  }
  get host(): string {
    return this.options.host;
  }
  get nodeServer(): http.Server {
    return this.server;
  }

  /** Exact-path route; `methods` null accepts any method (the handler answers 405 itself). */
  route(path: string, handler: Handler, methods: string[] | null = null): void {
    this.exact.set(path, { handler, methods: methods ? new Set(methods) : null });
  }

  /** Every path under `prefix` (which should end with '/'). Longest prefix wins. */
  routePrefix(prefix: string, handler: Handler, methods: string[] | null = null): void {
    this.prefixes.push({ prefix, route: { handler, methods: methods ? new Set(methods) : null } });
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** Sees every request first (libprocess messages); returns true when it took the request. */
  intercept(fn: (req: HttpRequest, res: ServerResponse) => boolean): void {
    this.interceptor = fn;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        this.boundPort = (this.server.address() as AddressInfo).port;
        resolve(this.boundPort);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private dispatch(raw: IncomingMessage, res: ServerResponse): void {
    let path: string;
    let query: URLSearchParams;
    try {
      const url = new URL(raw.url ?? '/', 'http://localhost');
      path = decodeURIComponent(url.pathname);
      query = url.searchParams;
    } catch {
      sendText(res, 400, 'Malformed request URL');
      return;
    }
    const req = new HttpRequest(raw, path, query);
    try {
      if (this.interceptor && this.interceptor(req, res)) return;
      const route = this.lookup(req);
      if (!route) {
        sendText(res, 404, `No endpoint '${path}'`);
        return;
      }
      if (route.methods && !route.methods.has(req.method)) {
        sendText(res, 405, `Expecting one of { '${[...route.methods].join("', '")}' }, but received '${req.method}'`, {
          Allow: [...route.methods].join(', '),
        });
        return;
      }
      const result = route.handler(req, res);
      if (result && typeof (result as Promise<void>).catch === 'function') {
        (result as Promise<void>).catch((e) => this.fail(res, e));
      }
    } catch (e) {
      this.fail(res, e);
    }
  }

  private lookup(req: HttpRequest): Route | undefined {
    const candidates = [req.path];
    const d = this.options.delegate;
    if (d && req.path.startsWith(`/${d}/`)) candidates.push(req.path.slice(d.length + 1));
    for (const p of candidates) {
      const r = this.exact.get(p);
      if (r) {
        req.path = p;
        return r;
      }
      for (const { prefix, route } of this.prefixes) {
        if (p.startsWith(prefix)) {
          req.path = p;
          return route;
        }
      }
    }
    return undefined;
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (e instanceof BodyTooLarge) {
      sendText(res, 413, e.message);
      return;
    }
    log.error(`handler failed: ${(e as Error)?.stack ?? e}`);
    if (!res.headersSent) sendText(res, 500, `Internal error: ${(e as Error)?.message ?? e}`);
    else res.destroy();
  }
}
