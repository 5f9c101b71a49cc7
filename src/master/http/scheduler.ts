// POST /api/v1/scheduler (SCH-01..SCH-04): decoding, validation, status codes, SUBSCRIBE streams.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { type Handler, type HttpRequest, sendText } from '../../common/http/server.js';
import { decodeProto, fromJson, ProtocolError } from '../../protocol/codec.js';
import { EventStream } from '../../protocol/event-stream.js';
import { NOT_ACCEPTABLE, isMediaError, requestEncoding, responseEncoding } from '../../protocol/media.js';
import type { Msg } from '../allocator/allocator.js';
import type { Master } from '../master.js';
import type { EventSink, Framework } from '../records.js';

const CALL = 'mesos.v1.scheduler.Call';
const EVENT = 'mesos.v1.scheduler.Event';
const STREAM_ID = 'Mesos-Stream-Id';

/** Sub-message each call type must carry (SCH-01 validation). */
const PAYLOAD: Record<string, string> = {
  SUBSCRIBE: 'subscribe',
  ACCEPT: 'accept',
  DECLINE: 'decline',
  ACCEPT_INVERSE_OFFERS: 'accept_inverse_offers',
  DECLINE_INVERSE_OFFERS: 'decline_inverse_offers',
  KILL: 'kill',
  SHUTDOWN: 'shutdown',
  ACKNOWLEDGE: 'acknowledge',
  ACKNOWLEDGE_OPERATION_STATUS: 'acknowledge_operation_status',
  RECONCILE: 'reconcile',
  RECONCILE_OPERATIONS: 'reconcile_operations',
  MESSAGE: 'message',
  REQUEST: 'request',
  UPDATE_FRAMEWORK: 'update_framework',
};

/** Mesos's `validation::scheduler::call::validate`. */
export function validateCall(call: Msg): string | undefined {
  const type: string | undefined = call.type;
  if (type === undefined) return "Expecting 'type' to be present";
  if (type === 'UNKNOWN') return undefined;
  const payload = PAYLOAD[type];
  if (payload && call[payload] === undefined) return `Expecting '${payload}' to be present`;
  if (type === 'SUBSCRIBE') {
    const infoId = call.subscribe.framework_info?.id?.value;
    if (infoId !== call.framework_id?.value) return "'framework_id' differs from 'subscribe.framework_info.id'";
    return undefined;
  }
  if (call.framework_id === undefined) return "Expecting 'framework_id' to be present";
  if (type === 'ACKNOWLEDGE') {
    const uuid = call.acknowledge.uuid;
    if (!Buffer.isBuffer(uuid) || uuid.length !== 16) return 'Not a valid UUID';
  }
  if (type === 'ACKNOWLEDGE_OPERATION_STATUS') {
    const uuid = call.acknowledge_operation_status.uuid;
    if (!Buffer.isBuffer(uuid) || uuid.length !== 16) return 'Not a valid UUID';
    if (call.acknowledge_operation_status.agent_id === undefined) return "Expecting 'agent_id' to be present";
  }
  if (type === 'UPDATE_FRAMEWORK') {
    if (call.update_framework.framework_info?.id?.value !== call.framework_id.value) {
      return "'framework_id' differs from 'update_framework.framework_info.id'";
    }
  }
  return undefined;
}

/** The framework's end of a SUBSCRIBE stream. */
class SubscriptionSink implements EventSink {
  frameworkId?: string;
  constructor(
    readonly streamId: string,
    private readonly stream: EventStream,
  ) {}
  send(event: Msg): void {
    if (event.type === 'SUBSCRIBED') this.frameworkId = event.subscribed.framework_id.value;
    this.stream.send(event);
  }
  close(): void {
    this.stream.close();
  }
}

function accepted(res: ServerResponse): void {
  res.writeHead(202, { 'Content-Length': 0 });
  res.end();
}

function decodeCall(encoding: 'json' | 'protobuf', body: Buffer): Msg | string {
  if (encoding === 'protobuf') {
    try {
      return decodeProto(CALL, body);
    } catch (e) {
      return `Failed to parse body into Call protobuf: ${(e as Error).message}`;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return `Failed to parse body into JSON: ${(e as Error).message}`;
  }
  try {
    return fromJson(CALL, value);
  } catch (e) {
    if (e instanceof ProtocolError) return `Failed to convert JSON into Call protobuf: ${e.message}`;
    throw e;
  }
}

export function schedulerHandler(master: Master): Handler {
  return async (req: HttpRequest, res: ServerResponse) => {
    if (req.method !== 'POST') {
      sendText(res, 405, `Expecting one of { 'POST' }, but received '${req.method}'`, { Allow: 'POST' });
      return;
    }
    const encoding = requestEncoding(req.headers['content-type']);
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
      sendText(res, 400, `Failed to validate scheduler::Call: ${invalid}`);
      return;
    }

    if (call.type === 'SUBSCRIBE') {
      const accept = responseEncoding(req.headers.accept);
      if (accept === null) {
        sendText(res, 406, NOT_ACCEPTABLE);
        return;
      }
      if (req.header(STREAM_ID) !== undefined) {
        sendText(res, 400, `Subscribe calls should not include the '${STREAM_ID}' header`);
        return;
      }
      const streamId = randomUUID();
      const stream = new EventStream(res, accept, EVENT, { [STREAM_ID]: streamId });
      const sink = new SubscriptionSink(streamId, stream);
      stream.onClose(() => {
        const fw = master.framework(sink.frameworkId);
        if (fw) master.streamClosed(fw, sink);
      });
      master.subscribe(sink, call.subscribe);
      return;
    }

    const fw = master.framework(call.framework_id.value);
    if (!fw) {
      sendText(res, 400, 'Framework cannot be found');
      return;
    }
    if (!fw.connected || !fw.connection) {
      sendText(res, 403, 'Framework is not subscribed');
      return;
    }
    const streamId = req.header(STREAM_ID);
    if (streamId === undefined) {
      sendText(res, 400, `All non-subscribe calls should include the '${STREAM_ID}' header`);
      return;
    }
    if (streamId !== fw.connection.streamId) {
      sendText(
        res,
        400,
        `The stream ID '${streamId}' included in this request didn't match the stream ID currently associated with framework ID ${fw.id}`,
      );
      return;
    }
    dispatch(master, fw, call, res);
  };
}

function dispatch(master: Master, fw: Framework, call: Msg, res: ServerResponse): void {
  switch (call.type as string) {
    case 'TEARDOWN':
      master.teardown(fw);
      return accepted(res);
    case 'ACCEPT':
      master.accept(fw, call.accept);
      return accepted(res);
    case 'DECLINE':
      master.decline(fw, call.decline);
      return accepted(res);
    case 'ACCEPT_INVERSE_OFFERS':
    case 'DECLINE_INVERSE_OFFERS':
    case 'ACKNOWLEDGE_OPERATION_STATUS':
    case 'RECONCILE_OPERATIONS':
      // No inverse offers or operation feedback are produced yet, so there is nothing to act on.
      return accepted(res);
    case 'REVIVE':
      master.revive(fw, call.revive);
      return accepted(res);
    case 'SUPPRESS':
      master.suppress(fw, call.suppress);
      return accepted(res);
    case 'KILL':
      master.kill(fw, call.kill);
      return accepted(res);
    case 'SHUTDOWN':
      master.shutdownExecutor(fw, call.shutdown);
      return accepted(res);
    case 'ACKNOWLEDGE':
      master.acknowledge(fw, call.acknowledge);
      return accepted(res);
    case 'RECONCILE':
      master.reconcile(fw, call.reconcile);
      return accepted(res);
    case 'MESSAGE':
      master.message(fw, call.message);
      return accepted(res);
    case 'REQUEST':
      master.request(fw, call.request);
      return accepted(res);
    case 'UPDATE_FRAMEWORK': {
      const err = master.updateFramework(fw, call.update_framework);
      if (err) return sendText(res, 400, err);
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    case 'UNKNOWN':
    default:
      sendText(res, 501, `Received an unexpected '${call.type}' call`);
  }
}
