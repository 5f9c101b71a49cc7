// Black-box helpers for the conformance tests: a real master and agent in-process on 127.0.0.1,
// and a client that sees only bytes (node:http, node:net, our own RecordIO and protobuf wire
// readers), like a third-party Mesos client would. Nothing here uses Meseta's codec or client.
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MasterHandle, startMaster } from '../../src/master/main.js';
import { type AgentHandle, startAgent } from '../../src/agent/main.js';

export type Json = Record<string, any>;

export interface Cluster {
  master: MasterHandle;
  agent: AgentHandle;
  /** Every agent, `agent` first. */
  agents: AgentHandle[];
  mport: number;
  aport: number;
  stop(): Promise<void>;
}

export async function startCluster(agentFlags: string[] = [], agentCount = 1): Promise<Cluster> {
  const mdir = mkdtempSync(join(tmpdir(), 'conf-m-'));
  const dirs = [mdir];
  const master = await startMaster(
    ['--ip=127.0.0.1', '--port=0', `--work_dir=${mdir}`, '--registry=in_memory', '--allocation_interval=20ms', '--hostname=master.test'],
    { env: {} },
  );
  const agents: AgentHandle[] = [];
  for (let i = 0; i < agentCount; i++) {
    const adir = mkdtempSync(join(tmpdir(), 'conf-a-'));
    dirs.push(adir);
    agents.push(await startAgent(
      [
        `--master=127.0.0.1:${master.port}`, `--work_dir=${adir}`, '--port=0', '--ip=127.0.0.1', '--hostname=agent.test',
        '--registration_backoff_factor=10ms', '--resources=cpus:2;mem:1024;disk:2048;ports:[31000-31100]',
        '--attributes=rack:r1', '--no-switch_user', ...agentFlags,
      ],
      { env: {} },
    ));
  }
  const agent = agents[0]!;
  return {
    master, agent, agents, mport: master.port, aport: agent.port,
    async stop() {
      for (const a of agents) await a.stop();
      await master.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

export function request(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export async function getJson(port: number, path: string): Promise<any> {
  const r = await request(port, path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text);
}

export const json = (call: unknown, extra: Record<string, string | string[]> = {}) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...extra },
  body: JSON.stringify(call),
});

export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Splits a RecordIO byte stream ("<decimal length>\n<bytes>") written independently of src/protocol. */
export class Records {
  readonly records: Buffer[] = [];
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0) return;
      const header = this.buf.subarray(0, nl).toString('latin1');
      if (!/^[0-9]+$/.test(header)) throw new Error(`bad RecordIO header ${JSON.stringify(header)}`);
      const len = Number(header);
      if (this.buf.length < nl + 1 + len) return;
      this.records.push(Buffer.from(this.buf.subarray(nl + 1, nl + 1 + len)));
      this.buf = this.buf.subarray(nl + 1 + len);
    }
  }
}

/** A SUBSCRIBE stream read as raw bytes. */
export class Stream {
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  readonly raw = new Records();
  ended = false;
  errorBody = '';
  private req?: http.ClientRequest;

  get events(): any[] {
    return this.raw.records.map((r) => JSON.parse(r.toString('utf8')));
  }

  open(port: number, path: string, body: Buffer | string, headers: Record<string, string | string[]>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false }, (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.on('data', (c: Buffer) => {
          if (this.status === 200) this.raw.push(c);
          else this.errorBody += c.toString('utf8');
        });
        res.on('end', () => { this.ended = true; });
        res.on('close', () => { this.ended = true; });
        res.on('error', () => { this.ended = true; });
        resolve();
      });
      this.req.on('error', reject);
      this.req.end(body);
    });
  }

  /** Waits for the first event (JSON streams) matching `pred` at or after index `from`. */
  async next(pred: (e: any) => boolean, what: string, from = 0): Promise<any> {
    return until(() => this.events.slice(from).find(pred), what);
  }

  /** All events so far matching `pred`. */
  all(pred: (e: any) => boolean): any[] {
    return this.events.filter(pred);
  }

  close(): void {
    this.req?.destroy();
  }
}

/** Subscribes a new JSON framework; resolves with the stream, framework id and stream id. */
export async function subscribe(port: number, frameworkInfo: Json = { user: 'conf', name: 'conformance' }) {
  const s = new Stream();
  await s.open(port, '/api/v1/scheduler', JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo } }), {
    'Content-Type': 'application/json', Accept: 'application/json',
  });
  const subscribed = await s.next((e) => e.type === 'SUBSCRIBED', 'SUBSCRIBED');
  return { stream: s, frameworkId: subscribed.subscribed.framework_id.value as string, streamId: s.headers['mesos-stream-id'] as string };
}

// ---- a minimal protobuf wire reader (field number -> values), independent of the project codec.
export type Field = { wire: number; value: bigint | Buffer };
export function fields(buf: Buffer): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    let value: bigint | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 1) { value = buf.subarray(i, i + 8); i += 8; }
    else if (wire === 2) { const n = Number(varint()); value = buf.subarray(i, i + n); i += n; }
    else if (wire === 5) { value = buf.subarray(i, i + 4); i += 4; }
    else throw new Error(`unsupported wire type ${wire}`);
    if (i > buf.length) throw new Error('truncated field');
    const list = out.get(no) ?? [];
    list.push({ wire, value });
    out.set(no, list);
  }
  return out;
}
export const one = (m: Map<number, Field[]>, no: number): Field | undefined => m.get(no)?.[0];
export const str = (f: Field | undefined): string | undefined => (f && Buffer.isBuffer(f.value) ? f.value.toString('utf8') : undefined);
export const sub = (f: Field | undefined): Map<number, Field[]> => fields(f!.value as Buffer);

// ---- minimal protobuf writer for hand-built messages.
export function pbVarint(n: number | bigint): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    bytes.push(b);
  } while (v);
  return Buffer.from(bytes);
}
export const pbField = (no: number, value: Buffer | string): Buffer => {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value);
  return Buffer.concat([pbVarint((no << 3) | 2), pbVarint(b.length), b]);
};
export const pbEnum = (no: number, v: number): Buffer => Buffer.concat([pbVarint(no << 3), pbVarint(v)]);

/** A raw TCP exchange: writes `text` and collects what comes back until `done(received)` or the socket closes. */
export function rawTcp(port: number, data: Buffer | string, done: (got: string) => boolean = () => false): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const finish = () => { s.destroy(); resolve(got); };
    s.on('data', (d) => { got += d.toString('latin1'); if (done(got)) finish(); });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
    s.write(data);
  });
}
