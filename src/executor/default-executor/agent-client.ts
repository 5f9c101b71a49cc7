// The default executor's two ways into its agent, both JSON over HTTP to MESOS_AGENT_ENDPOINT:
// the v1 executor API (/api/v1/executor: a SUBSCRIBE stream plus short calls) and the agent
// operator API (/api/v1: LAUNCH/WAIT/KILL_CONTAINER for the nested containers of its tasks).
import http from 'node:http';
import { decodeJson, encodeJson, type Msg } from '../../protocol/codec.js';
import { RecordIOReader } from '../../protocol/recordio.js';
import { post, readBody } from '../../scheduler/request.js';

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

export class AgentHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} failed: ${status} ${body}`.trim());
    this.name = 'AgentHttpError';
  }
}

export interface Subscription {
  /** Ends the stream (the executor is going away). */
  close(): void;
}

export class AgentClient {
  private readonly host: string;
  private readonly port: number;
  /** Short calls share kept-alive sockets; streams and long waits get their own. */
  private readonly pool = new http.Agent({ keepAlive: true, maxSockets: 8 });

  constructor(endpoint: string) {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
    if (!m) throw new Error(`Invalid agent endpoint '${endpoint}'`);
    this.host = m[1]!;
    this.port = Number(m[2]);
  }

  close(): void {
    this.pool.destroy();
  }

  /** POSTs a JSON call; resolves with status and body (no throw on non-2xx). */
  private async post(path: string, body: string, long: boolean): Promise<{ status: number; body: Buffer }> {
    const { response } = await post({ host: this.host, port: this.port, path }, Buffer.from(body), JSON_HEADERS, long ? false : this.pool);
    return { status: response.statusCode ?? 0, body: await readBody(response) };
  }

  /** An executor Call other than SUBSCRIBE; the agent answers 202. */
  async executorCall(call: Msg): Promise<void> {
    const r = await this.post('/api/v1/executor', encodeJson('mesos.v1.executor.Call', call), false);
    if (r.status !== 202 && r.status !== 200) throw new AgentHttpError(r.status, r.body.toString(), `Executor call ${call.type}`);
  }

  /** An agent operator Call; resolves with the Response (or undefined for a bare status). */
  async operatorCall(call: Msg, opts: { long?: boolean } = {}): Promise<{ status: number; response?: Msg }> {
    const r = await this.post('/api/v1', encodeJson('mesos.v1.agent.Call', call), opts.long === true);
    if (r.status < 200 || r.status >= 300) throw new AgentHttpError(r.status, r.body.toString(), `Operator call ${call.type}`);
    if (r.body.length === 0) return { status: r.status };
    return { status: r.status, response: decodeJson('mesos.v1.agent.Response', r.body) };
  }

  /**
   * SUBSCRIBE: resolves once the agent answered 200; events arrive through onEvent, and onEnd
   * is called once when the stream breaks or ends. Rejects on connection errors and non-200s.
   */
  subscribe(call: Msg, onEvent: (e: Msg) => void, onEnd: (why: string) => void): Promise<Subscription> {
    return new Promise((resolve, reject) => {
      const data = Buffer.from(encodeJson('mesos.v1.executor.Call', call));
      const req = http.request({
        host: this.host,
        port: this.port,
        path: '/api/v1/executor',
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': data.length },
      });
      let ended = false;
      let subscribed = false;
      const end = (why: string) => {
        if (ended || !subscribed) return;
        ended = true;
        onEnd(why);
      };
      req.once('error', (e) => {
        if (subscribed) end(e.message);
        else reject(e);
      });
      req.once('response', (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () => reject(new AgentHttpError(res.statusCode ?? 0, Buffer.concat(chunks).toString(), 'SUBSCRIBE')));
          ended = true;
          return;
        }
        subscribed = true;
        const reader = new RecordIOReader();
        res.on('data', (chunk: Buffer) => {
          try {
            for (const record of reader.push(chunk)) onEvent(decodeJson('mesos.v1.executor.Event', record));
          } catch (e) {
            req.destroy();
            end(`Bad event stream: ${(e as Error).message}`);
          }
        });
        res.once('end', () => end('the agent closed the stream'));
        res.once('close', () => end('the stream closed'));
        res.once('error', (e) => end(e.message));
        resolve({ close: () => req.destroy() });
      });
      req.end(data);
    });
  }
}
