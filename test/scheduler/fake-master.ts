// A tiny stand-in for the master's scheduler endpoint: speaks JSON RecordIO, records every call.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  body: any;
  headers: http.IncomingHttpHeaders;
}

export interface Stream {
  res: ServerResponse;
  streamId: string;
  call: any;
  /** Writes one event as a RecordIO record (optionally byte by byte, to exercise re-chunking). */
  send(event: unknown, byteByByte?: boolean): Promise<void>;
  close(): void;
}

export class FakeMaster {
  readonly server: http.Server;
  readonly calls: ReceivedCall[] = [];
  readonly subscribes: ReceivedCall[] = [];
  readonly streams: Stream[] = [];
  /** Overrides the answer to a non-subscribe call: return [status, body]. */
  answer?: (call: any) => [number, string] | undefined;
  /** Overrides SUBSCRIBE handling entirely (e.g. to redirect or refuse). */
  onSubscribe?: (req: IncomingMessage, res: ServerResponse, call: any) => boolean;
  /** Sent automatically after a SUBSCRIBE (set to undefined to send nothing). */
  autoSubscribed: ((n: number) => unknown) | undefined = (n) => ({
    type: 'SUBSCRIBED',
    subscribed: { framework_id: { value: 'fw-1' }, heartbeat_interval_seconds: 15 },
  });
  private waiters: Array<() => void> = [];
  port = 0;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Resolves once `pred()` holds, re-checked after every request. */
  until(pred: () => boolean, ms = 5000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('FakeMaster.until timed out')), ms);
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let call: any;
      try {
        call = JSON.parse(text);
      } catch {
        res.writeHead(400).end('bad json');
        return;
      }
      if (call.type === 'SUBSCRIBE') {
        this.subscribes.push({ body: call, headers: req.headers });
        if (this.onSubscribe?.(req, res, call)) {
          this.notify();
          return;
        }
        const streamId = `stream-${this.subscribes.length}`;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Mesos-Stream-Id': streamId });
        res.flushHeaders();
        const stream: Stream = {
          res,
          streamId,
          call,
          send: async (event, byteByByte = false) => {
            const data = Buffer.from(JSON.stringify(event));
            const record = Buffer.concat([Buffer.from(`${data.length}\n`), data]);
            if (!byteByByte) {
              res.write(record);
              return;
            }
            for (let i = 0; i < record.length; i++) {
              res.write(record.subarray(i, i + 1));
              await new Promise((r) => setImmediate(r));
            }
          },
          close: () => res.end(),
        };
        this.streams.push(stream);
        const first = this.autoSubscribed?.(this.subscribes.length);
        if (first) void stream.send(first);
        this.notify();
        return;
      }
      this.calls.push({ body: call, headers: req.headers });
      const custom = this.answer?.(call);
      if (custom) res.writeHead(custom[0], { 'Content-Type': 'text/plain' }).end(custom[1]);
      else res.writeHead(call.type === 'UPDATE_FRAMEWORK' ? 200 : 202).end();
      // Like the master: a torn-down framework's event stream is closed.
      if (call.type === 'TEARDOWN' && !custom) for (const st of this.streams) st.close();
      this.notify();
    });
  }
}
