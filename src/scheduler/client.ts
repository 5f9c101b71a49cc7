// A v1 HTTP scheduler client: one streaming SUBSCRIBE connection for events, short POSTs for calls.
// It follows redirects to the leading master, watches heartbeats, and (optionally) re-subscribes
// with exponential backoff under the framework id the master assigned.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { type Clock, type TimerHandle, SystemClock } from '../common/clock.js';
import { type Endpoint, parseMaster } from './address.js';
import { SchedulerHttpError, SubscriptionError } from './errors.js';
import { DetectedLeader, isDetectedMaster } from './leader.js';
import { AsyncQueue } from './queue.js';
import { post, readBody } from './request.js';
import { type ContentType, type Msg, contentTypeOf, decodeEvent, encodeCall } from './wire.js';
import { contentType as mediaTypeOf } from '../protocol/media.js';
import { RecordIOReader } from '../protocol/recordio.js';

export interface SchedulerClientOptions {
  /** `host:port`, `http://host:port`, a full URL of the scheduler endpoint, or `zk://...` / `file://...` (detected leader). */
  master: string;
  frameworkInfo: Msg;
  /** Encoding of calls and of the event stream (default `protobuf`). */
  contentType?: ContentType;
  clock?: Clock;
  /** Re-subscribe after the stream breaks (default true). */
  reconnect?: boolean;
  /** Backoff between re-subscription attempts (defaults 1 s doubling up to 15 s). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Missed-heartbeat factor: no event for this many heartbeat intervals means the stream is dead. */
  heartbeatMisses?: number;
  suppressedRoles?: string[];
  /** Extra headers on every request (e.g. Authorization). */
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  body: Buffer;
}

type Id = string | Msg;
const toId = (id: Id): Msg => (typeof id === 'string' ? { value: id } : id);

interface Connection {
  request: http.ClientRequest;
  response?: http.IncomingMessage;
  subscribed: boolean;
}

/**
 * Events (including SUBSCRIBED and HEARTBEAT) are delivered through the async iterator, in order.
 * EventEmitter events: `event` (each event), `subscribed` (Subscribed payload),
 * `disconnected` (Error | undefined), `reconnectFailed` (Error).
 */
export class SchedulerClient extends EventEmitter implements AsyncIterable<Msg> {
  readonly contentType: ContentType;
  private readonly clock: Clock;
  private readonly reconnect: boolean;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly heartbeatMisses: number;
  private readonly callAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly queue = new AsyncQueue<Msg>();

  private endpoint: Endpoint;
  /** With a zk:// (or file://) master: who leads now; subscriptions go there. */
  private readonly leader?: DetectedLeader;
  private keepAlive?: NodeJS.Timeout;
  private frameworkInfo: Msg;
  private connection?: Connection;
  private _streamId?: string;
  private _frameworkId?: Msg;
  private heartbeatSeconds = 15;
  private watchdog?: TimerHandle;
  private reconnectTimer?: TimerHandle;
  private attempts = 0;
  private closed = false;
  /** Set after an ERROR event: the master refused us, so don't re-subscribe on our own. */
  private fatal = false;

  constructor(readonly options: SchedulerClientOptions) {
    super();
    if (isDetectedMaster(options.master)) {
      this.leader = new DetectedLeader(options.master, { clock: options.clock });
      this.endpoint = { host: '0.0.0.0', port: 0, path: '/api/v1/scheduler' };
      // A new leader: drop the stream to the old one; the reconnect loop subscribes to the new one.
      this.leader.onChange((ep) => {
        const conn = this.connection;
        if (!conn) {
          // Waiting out a backoff grown against the dead master: try the new leader soon.
          if (ep && this.reconnectTimer) {
            this.clock.clearTimeout(this.reconnectTimer);
            this.reconnectTimer = undefined;
            this.attempts = 0;
            this.scheduleReconnect();
          }
          return;
        }
        if (!conn.subscribed || (ep && ep.host === this.endpoint.host && ep.port === this.endpoint.port)) return;
        conn.request?.destroy(new Error('A new leading master was detected'));
      });
    } else {
      this.endpoint = parseMaster(options.master);
    }
    this.frameworkInfo = { ...options.frameworkInfo };
    if (options.frameworkInfo.id) this._frameworkId = options.frameworkInfo.id;
    this.contentType = options.contentType ?? 'protobuf';
    this.clock = options.clock ?? new SystemClock();
    this.reconnect = options.reconnect ?? true;
    this.backoffInitialMs = options.backoffInitialMs ?? 1000;
    this.backoffMaxMs = options.backoffMaxMs ?? 15_000;
    this.heartbeatMisses = options.heartbeatMisses ?? 5;
  }

  get frameworkId(): Msg | undefined {
    return this._frameworkId;
  }
  get streamId(): string | undefined {
    return this._streamId;
  }
  /** The master currently talked to (after redirects). */
  get masterEndpoint(): Endpoint {
    return { ...this.endpoint };
  }
  get connected(): boolean {
    return this.connection?.subscribed === true;
  }

  [Symbol.asyncIterator](): AsyncIterator<Msg> {
    return this.queue[Symbol.asyncIterator]();
  }

  /** Pulls the next event; `undefined` once the client is closed. */
  async nextEvent(): Promise<Msg | undefined> {
    const r = await this.queue.next();
    return r.done ? undefined : r.value;
  }

  /** Opens the event stream; resolves with the SUBSCRIBED payload (which is also queued as an event). */
  subscribe(): Promise<Msg> {
    if (this.closed) return Promise.reject(new Error('SchedulerClient is closed'));
    if (this.connection) return Promise.reject(new Error('Already subscribing or subscribed'));
    if (this.queue.isClosed) return Promise.reject(new Error('The event stream has ended; use a new SchedulerClient'));
    this.fatal = false;
    return this.leader ? this.openDetected() : this.open();
  }

  /**
   * With a detected (zk://) master, a leader that just died (its znode outlives it until its
   * session expires) or is still recovering (503) is a passing state: retry with backoff until a
   * leader takes the subscription. Refusals (4xx, an ERROR event) and close() still end it.
   */
  private async openDetected(): Promise<Msg> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.open();
      } catch (e) {
        const retriable = e instanceof SchedulerHttpError ? e.status >= 500 : !(e instanceof SubscriptionError) && typeof (e as NodeJS.ErrnoException).code === 'string';
        if (this.closed || !retriable) throw e;
        this.emit('reconnectFailed', e);
        const base = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** attempt);
        const keepAlive = setInterval(() => undefined, 60_000);
        await new Promise<void>((resolve) => this.clock.setTimeout(resolve, base / 2 + Math.random() * (base / 2)));
        clearInterval(keepAlive);
        if (this.closed) throw new Error('SchedulerClient is closed');
      }
    }
  }

  private subscribeCall(): Msg {
    const info = { ...this.frameworkInfo };
    const call: Msg = { type: 'SUBSCRIBE', subscribe: { framework_info: info } };
    if (this._frameworkId) {
      info.id = this._frameworkId;
      call.framework_id = this._frameworkId;
    }
    if (this.options.suppressedRoles?.length) call.subscribe.suppressed_roles = this.options.suppressedRoles;
    return call;
  }

  private headers(): Record<string, string> {
    const media = mediaTypeOf(this.contentType);
    return { 'Content-Type': media, Accept: media, ...this.options.headers };
  }

  private open(): Promise<Msg> {
    const body = encodeCall(this.subscribeCall(), this.contentType);
    return new Promise<Msg>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | undefined, value?: Msg) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve(value!);
      };
      // A placeholder so concurrent subscribe() calls are refused while the request is in flight.
      const pending = { subscribed: false } as Connection;
      this.connection = pending;

      (this.leader ? this.leader.endpoint().then((ep) => post((this.endpoint = ep), body, this.headers(), false)) : post(this.endpoint, body, this.headers(), false))
        .then(async ({ endpoint, response, request }) => {
          pending.request = request;
          if (this.closed || this.connection !== pending) {
            request.destroy();
            settle(new Error('SchedulerClient is closed'));
            return;
          }
          if (response.statusCode !== 200) {
            const text = (await readBody(response).catch(() => Buffer.alloc(0))).toString('utf8');
            if (this.connection === pending) this.connection = undefined;
            settle(new SchedulerHttpError(response.statusCode ?? 0, text, 'SUBSCRIBE'));
            return;
          }
          pending.response = response;
          this.endpoint = endpoint;
          const header = response.headers['mesos-stream-id'];
          this._streamId = Array.isArray(header) ? header[0] : header;
          const encoding = contentTypeOf(response.headers['content-type']) ?? this.contentType;
          const reader = new RecordIOReader();
          this.armWatchdog(pending);

          response.on('data', (chunk: Buffer) => {
            if (this.connection !== pending) return;
            let records: Buffer[];
            try {
              records = reader.push(chunk);
            } catch (e) {
              request.destroy(e as Error);
              return;
            }
            for (const record of records) {
              let event: Msg;
              try {
                event = decodeEvent(record, encoding);
              } catch (e) {
                request.destroy(new Error(`Undecodable event: ${(e as Error).message}`));
                return;
              }
              this.onEvent(pending, event, settle);
              if (this.connection !== pending) return;
            }
          });
          const ended = (err?: Error) => {
            settle(err ?? new Error('Subscription stream closed before SUBSCRIBED'));
            this.onStreamEnd(pending, err);
          };
          response.once('end', () => ended());
          response.once('error', (e) => ended(e));
          response.once('close', () => ended(response.complete ? undefined : new Error('Subscription stream aborted')));
          request.once('error', (e) => ended(e));
        })
        .catch((err: Error) => {
          if (this.connection === pending) this.connection = undefined;
          settle(err);
        });
    });
  }

  private onEvent(conn: Connection, event: Msg, settle: (err: Error | undefined, value?: Msg) => void): void {
    this.armWatchdog(conn);
    if (event.type === 'SUBSCRIBED' && event.subscribed) {
      conn.subscribed = true;
      this.attempts = 0;
      this._frameworkId = event.subscribed.framework_id;
      this.frameworkInfo.id = event.subscribed.framework_id;
      const hb = event.subscribed.heartbeat_interval_seconds;
      if (typeof hb === 'number' && hb > 0) this.heartbeatSeconds = hb;
      this.armWatchdog(conn);
      this.queue.push(event);
      this.emit('event', event);
      this.emit('subscribed', event.subscribed);
      settle(undefined, event.subscribed);
      return;
    }
    if (event.type === 'ERROR') {
      this.fatal = true;
      this.queue.push(event);
      this.emit('event', event);
      settle(new SubscriptionError(event.error?.message ?? 'unknown error'));
      conn.request?.destroy();
      return;
    }
    this.queue.push(event);
    this.emit('event', event);
  }

  /** No event (heartbeats included) for `heartbeatMisses` intervals: assume a partition and drop the stream. */
  private armWatchdog(conn: Connection): void {
    this.clock.clearTimeout(this.watchdog);
    const ms = this.heartbeatSeconds * 1000 * this.heartbeatMisses;
    this.watchdog = this.clock.setTimeout(() => {
      if (this.connection === conn) conn.request?.destroy(new Error(`No events for ${ms} ms (missed heartbeats)`));
    }, ms);
  }

  private onStreamEnd(conn: Connection, err?: Error): void {
    if (this.connection !== conn) return;
    this.connection = undefined;
    this._streamId = undefined;
    this.clock.clearTimeout(this.watchdog);
    this.watchdog = undefined;
    conn.request?.destroy();
    if (this.closed) return;
    this.emit('disconnected', err);
    if (this.reconnect && !this.fatal && this._frameworkId) this.scheduleReconnect();
    else this.queue.close();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const base = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** this.attempts);
    // Jitter in [base/2, base] so many schedulers don't stampede a recovering master.
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempts++;
    // Clock timers are unref'ed; a program waiting for events through a failover (a zk:// master)
    // must not exit during the backoff. This handle only keeps the event loop alive.
    if (this.leader) this.keepAlive ??= setInterval(() => undefined, 60_000);
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
      if (this.closed || this.connection) return;
      this.open().catch((e: Error) => {
        if (this.closed) return;
        // A 4xx answer to SUBSCRIBE (bad request, unauthenticated, forbidden) won't get better by retrying.
        if (e instanceof SchedulerHttpError && e.status >= 400 && e.status < 500) this.fatal = true;
        this.emit('reconnectFailed', e);
        if (this.fatal) this.queue.close();
        else if (!this.connection) this.scheduleReconnect();
      });
    }, delay);
  }

  /** Sends a non-SUBSCRIBE call; resolves on 200/202, throws SchedulerHttpError otherwise. */
  async call(call: Msg): Promise<CallResult> {
    if (this.closed) throw new Error('SchedulerClient is closed');
    const full: Msg = call.framework_id || !this._frameworkId ? call : { framework_id: this._frameworkId, ...call };
    const headers = this.headers();
    if (this._streamId) headers['Mesos-Stream-Id'] = this._streamId;
    const body = encodeCall(full, this.contentType);
    const { response } = await post(this.endpoint, body, headers, this.callAgent);
    const bytes = await readBody(response);
    const status = response.statusCode ?? 0;
    if (status !== 200 && status !== 202) throw new SchedulerHttpError(status, bytes.toString('utf8'), String(full.type));
    return { status, body: bytes };
  }

  accept(offerIds: Id[], operations: Msg[], filters?: Msg): Promise<CallResult> {
    const accept: Msg = { offer_ids: offerIds.map(toId), operations };
    if (filters) accept.filters = filters;
    return this.call({ type: 'ACCEPT', accept });
  }

  /** ACCEPT with one LAUNCH operation. */
  launch(offerIds: Id[], taskInfos: Msg[], filters?: Msg): Promise<CallResult> {
    return this.accept(offerIds, [{ type: 'LAUNCH', launch: { task_infos: taskInfos } }], filters);
  }

  decline(offerIds: Id[], filters?: Msg): Promise<CallResult> {
    const decline: Msg = { offer_ids: offerIds.map(toId) };
    if (filters) decline.filters = filters;
    return this.call({ type: 'DECLINE', decline });
  }

  /** Acknowledges a status update if it carries a uuid; returns whether an ACKNOWLEDGE was sent. */
  async acknowledge(status: Msg): Promise<boolean> {
    const uuid = status.uuid as Buffer | undefined;
    if (!uuid || uuid.length === 0) return false;
    await this.call({
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid },
    });
    return true;
  }

  acknowledgeOperationStatus(status: Msg): Promise<CallResult> {
    const ack: Msg = { uuid: status.uuid?.value, operation_id: status.operation_id };
    if (status.agent_id) ack.agent_id = status.agent_id;
    if (status.resource_provider_id) ack.resource_provider_id = status.resource_provider_id;
    return this.call({ type: 'ACKNOWLEDGE_OPERATION_STATUS', acknowledge_operation_status: ack });
  }

  kill(taskId: Id, agentId?: Id, killPolicy?: Msg): Promise<CallResult> {
    const kill: Msg = { task_id: toId(taskId) };
    if (agentId) kill.agent_id = toId(agentId);
    if (killPolicy) kill.kill_policy = killPolicy;
    return this.call({ type: 'KILL', kill });
  }

  /** Explicit reconciliation for the given tasks, or implicit (all known tasks) with none. */
  reconcile(tasks: Array<{ task_id: Id; agent_id?: Id }> = []): Promise<CallResult> {
    return this.call({
      type: 'RECONCILE',
      reconcile: {
        tasks: tasks.map((t) => (t.agent_id ? { task_id: toId(t.task_id), agent_id: toId(t.agent_id) } : { task_id: toId(t.task_id) })),
      },
    });
  }

  revive(roles: string[] = []): Promise<CallResult> {
    return this.call({ type: 'REVIVE', revive: { roles } });
  }

  suppress(roles: string[] = []): Promise<CallResult> {
    return this.call({ type: 'SUPPRESS', suppress: { roles } });
  }

  teardown(): Promise<CallResult> {
    return this.call({ type: 'TEARDOWN' });
  }

  message(agentId: Id, executorId: Id, data: Buffer): Promise<CallResult> {
    return this.call({ type: 'MESSAGE', message: { agent_id: toId(agentId), executor_id: toId(executorId), data } });
  }

  shutdown(executorId: Id, agentId: Id): Promise<CallResult> {
    return this.call({ type: 'SHUTDOWN', shutdown: { executor_id: toId(executorId), agent_id: toId(agentId) } });
  }

  /** UPDATE_FRAMEWORK (synchronous, 200); on success later re-subscriptions use the new info. */
  async updateFramework(frameworkInfo: Msg, suppressedRoles?: string[]): Promise<CallResult> {
    const info = { ...frameworkInfo };
    if (this._frameworkId && !info.id) info.id = this._frameworkId;
    const update: Msg = { framework_info: info };
    if (suppressedRoles) update.suppressed_roles = suppressedRoles;
    const result = await this.call({ type: 'UPDATE_FRAMEWORK', update_framework: update });
    this.frameworkInfo = info;
    return result;
  }

  /** Drops the stream, cancels timers and ends the event iterator. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.watchdog);
    this.clock.clearTimeout(this.reconnectTimer);
    this.watchdog = this.reconnectTimer = undefined;
    const conn = this.connection;
    this.connection = undefined;
    this._streamId = undefined;
    conn?.request?.destroy();
    this.callAgent.destroy();
    this.leader?.close();
    clearInterval(this.keepAlive);
    this.queue.close();
  }
}
