// The v1 executor HTTP API (CMP-08, EXE-01..28): POST /api/v1/executor (also reached as
// /slave(1)/api/v1/executor through the server's delegate).
import type { ServerResponse } from 'node:http';
import { sendText, type HttpRequest, type HttpServer } from '../../common/http/server.js';
import { logger } from '../../common/log.js';
import type { Msg } from '../../protocol/codec.js';
import { EventStream } from '../../protocol/event-stream.js';
import { type Encoding, isMediaError, NOT_ACCEPTABLE, requestEncoding, responseEncoding } from '../../protocol/media.js';
import type { Agent } from '../agent.js';
import type { Executor, ExecutorChannel, Framework } from '../state.js';
import { idValue } from '../types.js';
import { decodeCallBody } from '../../protocol/call-body.js';

const log = logger('executor-api');

const CALL = 'mesos.v1.executor.Call';
const EVENT = 'mesos.v1.executor.Event';

/** Agent keep-alive on executor streams (EXE-28). */
export const EXECUTOR_HEARTBEAT_INTERVAL_MS = 30 * 60_000;

/** An executor's subscription stream as the agent's channel to it. */
class HttpExecutorChannel implements ExecutorChannel {
  constructor(readonly stream: EventStream) {}
  subscribed(event: Msg): void {
    this.stream.send({ type: 'SUBSCRIBED', subscribed: event });
  }
  launch(task: Msg): void {
    this.stream.send({ type: 'LAUNCH', launch: { task } });
  }
  launchGroup(tasks: Msg[]): void {
    this.stream.send({ type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks } } });
  }
  kill(taskId: Msg, killPolicy?: Msg): void {
    const kill: Msg = { task_id: taskId };
    if (killPolicy) kill.kill_policy = killPolicy;
    this.stream.send({ type: 'KILL', kill });
  }
  message(data: Buffer): void {
    this.stream.send({ type: 'MESSAGE', message: { data } });
  }
  acknowledged(taskId: Msg, uuid: Buffer): void {
    this.stream.send({ type: 'ACKNOWLEDGED', acknowledged: { task_id: taskId, uuid } });
  }
  shutdown(): void {
    this.stream.send({ type: 'SHUTDOWN' });
  }
  heartbeat(): void {
    this.stream.send({ type: 'HEARTBEAT' });
  }
  close(): void {
    this.stream.close();
  }
}

/** Executor UPDATE validation (src/common/validation.cpp in Mesos). */
function validateUpdate(call: Msg): string | undefined {
  const status = call.update?.status as Msg | undefined;
  if (!call.update) return "Expecting 'update' to be present";
  if (!status) return "Expecting 'update.status' to be present";
  const uuid = status.uuid as Buffer | undefined;
  if (!uuid) return "Expecting 'uuid' to be present";
  if (uuid.length !== 16) return 'Not a valid UUID';
  if (status.source !== 'SOURCE_EXECUTOR') return `Received Call from executor ${idValue(call.executor_id)} of framework ${idValue(call.framework_id)} with invalid source, expecting 'SOURCE_EXECUTOR'`;
  if (status.state === 'TASK_STAGING') return `Received TASK_STAGING from executor ${idValue(call.executor_id)} of framework ${idValue(call.framework_id)} which is not allowed`;
  if (status.executor_id && idValue(status.executor_id) !== idValue(call.executor_id)) {
    return `ExecutorID in Call: ${idValue(call.executor_id)} does not match ExecutorID in TaskStatus: ${idValue(status.executor_id)}`;
  }
  return undefined;
}

function decodeCall(encoding: Encoding, body: Buffer): Msg | string {
  return decodeCallBody(CALL, encoding, body);
}

function validateCall(call: Msg): string | undefined {
  // An explicit UNKNOWN passes validation and is answered 501, as in Mesos.
  if (!call.type) return "Expecting 'type' to be present";
  if (!call.executor_id) return "Expecting 'executor_id' to be present";
  if (!call.framework_id) return "Expecting 'framework_id' to be present";
  switch (call.type) {
    case 'SUBSCRIBE':
      if (!call.subscribe) return "Expecting 'subscribe' to be present";
      return undefined;
    case 'UPDATE':
      return validateUpdate(call);
    case 'MESSAGE':
      if (!call.message) return "Expecting 'message' to be present";
      return undefined;
    default:
      return undefined;
  }
}

export class ExecutorApi {
  private readonly channels = new Set<HttpExecutorChannel>();
  private heartbeatTimer?: ReturnType<Agent['clock']['setInterval']>;

  constructor(private readonly agent: Agent) {}

  install(server: HttpServer): void {
    server.route('/api/v1/executor', (req, res) => this.handle(req, res));
    this.heartbeatTimer = this.agent.clock.setInterval(() => {
      for (const c of this.channels) {
        if (c.stream.closed) this.channels.delete(c);
        else c.heartbeat();
      }
    }, EXECUTOR_HEARTBEAT_INTERVAL_MS);
  }

  stop(): void {
    this.agent.clock.clearInterval(this.heartbeatTimer);
    for (const c of this.channels) c.close();
    this.channels.clear();
  }

  private async handle(req: HttpRequest, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      sendText(res, 405, `Expecting one of { 'POST' }, but received '${req.method}'`, { Allow: 'POST' });
      return;
    }
    const encoding = requestEncoding(req.header('content-type'));
    if (isMediaError(encoding)) {
      sendText(res, encoding.status, encoding.error);
      return;
    }
    const body = await req.body();
    const call = decodeCall(encoding, body);
    if (typeof call === 'string') {
      sendText(res, 400, call);
      return;
    }
    const invalid = validateCall(call);
    if (invalid) {
      sendText(res, 400, `Failed to validate Executor::Call: ${invalid}`);
      return;
    }
    // Mesos answers these before looking the framework or executor up.
    let accept: ReturnType<typeof responseEncoding> = 'json';
    if (call.type === 'SUBSCRIBE') {
      accept = responseEncoding(req.header('accept'));
      if (accept === null) {
        sendText(res, 406, NOT_ACCEPTABLE);
        return;
      }
    } else if (call.type === 'HEARTBEAT') {
      res.writeHead(202, { 'Content-Length': 0 });
      res.end();
      return;
    }
    // A restarting agent takes re-subscriptions only, until its recovery is over.
    if (call.type !== 'SUBSCRIBE' && this.agent.recovering) {
      sendText(res, 503, 'Agent has not finished recovery');
      return;
    }
    const fw = this.agent.framework(idValue(call.framework_id));
    if (!fw) {
      sendText(res, 400, 'Framework cannot be found');
      return;
    }
    const executor = fw.executors.get(idValue(call.executor_id));
    if (!executor || executor.kind !== 'custom') {
      sendText(res, 400, 'Executor cannot be found');
      return;
    }
    if (call.type === 'SUBSCRIBE') {
      this.subscribe(res, accept ?? 'json', fw, executor, call);
      return;
    }
    // Mesos only refuses executors that never subscribed; one whose stream broke may still post.
    if (executor.phase === 'REGISTERING') {
      sendText(res, 403, 'Executor is not subscribed');
      return;
    }
    switch (call.type) {
      case 'UPDATE':
        this.agent.executorStatus(fw, executor, call.update.status);
        res.writeHead(202, { 'Content-Length': 0 });
        res.end();
        return;
      case 'MESSAGE':
        this.agent.executorMessage(fw, executor, Buffer.from(call.message.data ?? []));
        res.writeHead(202, { 'Content-Length': 0 });
        res.end();
        return;
      case 'HEARTBEAT':
        res.writeHead(202, { 'Content-Length': 0 });
        res.end();
        return;
      default:
        res.writeHead(501, { 'Content-Length': 0 });
        res.end();
    }
  }

  private subscribe(res: ServerResponse, accept: Encoding, fw: Framework, executor: Executor, call: Msg): void {
    const stream = new EventStream(res, accept, EVENT);
    const channel = new HttpExecutorChannel(stream);
    this.channels.add(channel);
    stream.onClose(() => {
      this.channels.delete(channel);
      log.info(`Executor '${executor.id}' of framework ${fw.id} closed its subscription`);
      this.agent.executorDisconnected(executor, channel);
    });
    this.agent.executorSubscribed(fw, executor, channel);
    // A re-subscribing executor resends updates the agent never acknowledged; known ones are
    // recognised by uuid and only acknowledged again.
    for (const u of (call.subscribe?.unacknowledged_updates as Msg[] | undefined) ?? []) {
      const invalid = validateUpdate({ ...call, update: u });
      if (invalid) {
        log.warn(`Ignoring an unacknowledged update of executor '${executor.id}': ${invalid}`);
        continue;
      }
      this.agent.executorStatus(fw, executor, u.status);
    }
  }
}
