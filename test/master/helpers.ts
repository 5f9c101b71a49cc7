// Test helpers for the master: a raw v1 HTTP scheduler client and a fake agent built from a
// libprocess actor, both talking to a real master over 127.0.0.1.
import http from 'node:http';
import { ManualClock } from '../../src/common/clock.js';
import { HttpServer } from '../../src/common/http/server.js';
import { decodeProto, encodeProto, fromJson, toJson } from '../../src/protocol/codec.js';
import { RecordIOReader } from '../../src/protocol/recordio.js';
import { Libprocess, type Actor } from '../../src/transport/libprocess.js';
import { formatUpid } from '../../src/transport/upid.js';
import { type MasterHandle, startMaster } from '../../src/master/main.js';

export type Msg = Record<string, any>;

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One plain HTTP request to the master. */
export function request(
  url: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export async function getJson(url: string, path: string): Promise<Msg> {
  const r = await request(url, path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body}`);
  return JSON.parse(r.body);
}

/** Waits until `pred()` holds, polling on the event loop (no protocol time passes). */
export async function until(pred: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

type Encoding = 'json' | 'protobuf';

/** A v1 scheduler speaking raw HTTP: one SUBSCRIBE stream plus short calls. */
export class Scheduler {
  readonly events: Msg[] = [];
  streamId?: string;
  frameworkId?: string;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  errorBody = '';
  closed = false;
  private req?: http.ClientRequest;
  private taken = 0;

  constructor(
    readonly url: string,
    readonly encoding: Encoding = 'json',
  ) {}

  private encodeCall(call: Msg): { body: Buffer; type: string } {
    if (this.encoding === 'json') return { body: Buffer.from(JSON.stringify(toJson('mesos.v1.scheduler.Call', call))), type: 'application/json' };
    return { body: encodeProto('mesos.v1.scheduler.Call', call), type: 'application/x-protobuf' };
  }

  /** Opens the SUBSCRIBE stream; resolves once the response headers arrived. */
  subscribe(frameworkInfo: Msg, extra: Msg = {}, headers: Record<string, string> = {}): Promise<void> {
    const call: Msg = { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo, ...extra } };
    if (frameworkInfo.id) call.framework_id = frameworkInfo.id;
    const { body, type } = this.encodeCall(call);
    const accept = this.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    return new Promise((resolve, reject) => {
      const req = http.request(`${this.url}/api/v1/scheduler`, {
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': type, Accept: accept, ...headers },
      });
      this.req = req;
      req.on('response', (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        if (this.status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            this.errorBody = Buffer.concat(chunks).toString('utf8');
            this.closed = true;
            resolve();
          });
          return;
        }
        this.streamId = res.headers['mesos-stream-id'] as string | undefined;
        const reader = new RecordIOReader();
        res.on('data', (c: Buffer) => {
          for (const rec of reader.push(c)) {
            const ev = this.encoding === 'json' ? fromJson('mesos.v1.scheduler.Event', JSON.parse(rec.toString('utf8'))) : decodeProto('mesos.v1.scheduler.Event', rec);
            if (ev.type === 'SUBSCRIBED') this.frameworkId = ev.subscribed.framework_id.value;
            this.events.push(ev);
          }
        });
        res.on('end', () => (this.closed = true));
        res.on('close', () => (this.closed = true));
        res.on('error', () => (this.closed = true));
        resolve();
      });
      req.on('error', (e) => {
        this.closed = true;
        reject(e);
      });
      req.end(body);
    });
  }

  /** Sends a call with this stream's id (override headers to test the rules). */
  async call(call: Msg, headers?: Record<string, string>): Promise<Reply> {
    const full: Msg = { framework_id: { value: this.frameworkId }, ...call };
    const { body, type } = this.encodeCall(full);
    const h: Record<string, string> = headers ?? (this.streamId ? { 'Mesos-Stream-Id': this.streamId } : {});
    return request(this.url, '/api/v1/scheduler', { method: 'POST', headers: { 'Content-Type': type, ...h }, body });
  }

  /** The next event (after those already taken) of `type` matching `pred`. */
  async next(type: string, pred: (e: Msg) => boolean = () => true, what?: string): Promise<Msg> {
    let found: Msg | undefined;
    await until(() => {
      for (let i = this.taken; i < this.events.length; i++) {
        const e = this.events[i]!;
        if (e.type === type && pred(e)) {
          found = e;
          this.taken = i + 1;
          return true;
        }
      }
      return false;
    }, what ?? `${type} event`);
    return found!;
  }

  count(type: string): number {
    return this.events.filter((e) => e.type === type).length;
  }

  /** Drops the SUBSCRIBE connection from the client side. */
  disconnect(): void {
    this.req?.destroy();
  }
}

/** A fake agent: a libprocess actor `slave(1)` on its own server, recording what the master sends. */
export class FakeAgent {
  readonly received: Array<{ name: string; from: string; msg: Msg }> = [];
  agentId?: string;
  autoPong = true;
  private taken = 0;

  private constructor(
    readonly server: HttpServer,
    readonly lp: Libprocess,
    readonly actor: Actor,
    readonly masterPid: string,
  ) {}

  static async start(masterPid: string): Promise<FakeAgent> {
    const server = new HttpServer({ host: '127.0.0.1', port: 0, delegate: 'slave(1)' });
    const lp = new Libprocess(server, { ip: '127.0.0.1', port: 0 });
    const port = await server.listen();
    lp.setAddress('127.0.0.1', port);
    const actor = lp.spawn('slave(1)');
    const agent = new FakeAgent(server, lp, actor, masterPid);
    for (const name of [
      'SlaveRegisteredMessage', 'SlaveReregisteredMessage', 'PingSlaveMessage', 'RunTaskMessage', 'RunTaskGroupMessage',
      'KillTaskMessage', 'StatusUpdateAcknowledgementMessage', 'ShutdownFrameworkMessage', 'ShutdownExecutorMessage',
      'FrameworkToExecutorMessage', 'UpdateFrameworkMessage', 'ShutdownMessage', 'DrainSlaveMessage', 'CheckpointResourcesMessage',
    ]) {
      const full = `mesos.internal.${name}`;
      actor.install(full, (from, msg) => {
        const f = formatUpid(from);
        agent.received.push({ name, from: f, msg: msg as Msg });
        if (name === 'SlaveRegisteredMessage' || name === 'SlaveReregisteredMessage') agent.agentId = (msg as Msg).slave_id.value;
        if (name === 'PingSlaveMessage' && agent.autoPong) actor.send(f, 'mesos.internal.PongSlaveMessage', {});
      });
    }
    return agent;
  }

  get pid(): string {
    return this.actor.pid;
  }

  send(name: string, msg: Msg): void {
    this.actor.send(this.masterPid, `mesos.internal.${name}`, msg);
  }

  async register(resources = 'cpus:4;mem:1024;disk:2048;ports:[31000-32000]', hostname = 'agent-host', attributes: Msg[] = []): Promise<string> {
    const { Resources } = await import('../../src/resources/index.js');
    this.send('RegisterSlaveMessage', {
      slave: { hostname, port: Number(this.pid.split(':').pop()), resources: Resources.parse(resources).toProto(), attributes },
      version: '1.11.0',
      agent_capabilities: [{ type: 'MULTI_ROLE' }, { type: 'HIERARCHICAL_ROLE' }, { type: 'RESERVATION_REFINEMENT' }],
    });
    await this.next('SlaveRegisteredMessage');
    return this.agentId!;
  }

  async next(name: string, pred: (m: Msg) => boolean = () => true): Promise<Msg> {
    let found: Msg | undefined;
    await until(() => {
      for (let i = this.taken; i < this.received.length; i++) {
        const r = this.received[i]!;
        if (r.name === name && pred(r.msg)) {
          found = r.msg;
          this.taken = i + 1;
          return true;
        }
      }
      return false;
    }, `agent message ${name}`);
    return found!;
  }

  count(name: string): number {
    return this.received.filter((r) => r.name === name).length;
  }

  /** Sends a StatusUpdateMessage as an agent would (with a fresh uuid). */
  statusUpdate(frameworkId: string, taskId: string, state: string, uuid: Buffer, extra: Msg = {}): void {
    this.send('StatusUpdateMessage', {
      update: {
        framework_id: { value: frameworkId },
        slave_id: { value: this.agentId },
        status: { task_id: { value: taskId }, state, source: 'SOURCE_EXECUTOR', agent_id: { value: this.agentId }, uuid, timestamp: 1, ...extra },
        timestamp: 1,
        uuid,
      },
      pid: this.pid,
    });
  }

  async stop(): Promise<void> {
    this.lp.close();
    await this.server.close();
  }
}

export interface TestCluster {
  clock: ManualClock;
  master: MasterHandle;
  url: string;
}

export async function startTestMaster(flags: string[] = []): Promise<TestCluster> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const master = await startMaster(['--ip=127.0.0.1', '--port=0', '--registry=in_memory', ...flags], { env: {}, clock });
  return { clock, master, url: master.url };
}

export const FRAMEWORK: Msg = { user: 'tester', name: 'test-framework' };
export const PA_FRAMEWORK: Msg = { user: 'tester', name: 'pa-framework', capabilities: [{ type: 'PARTITION_AWARE' }] };

export function commandTask(taskId: string, agentId: string, resources: Msg[]): Msg {
  return { name: taskId, task_id: { value: taskId }, agent_id: { value: agentId }, resources, command: { value: 'sleep 100' } };
}

export function scalar(name: string, value: number): Msg {
  return { name, type: 'SCALAR', scalar: { value } };
}
