// POST /api/v1/scheduler (SCH-01..SCH-04): decoding, validation, status codes, SUBSCRIBE streams.
import type { ServerResponse } from 'node:http';
import { type Handler, type HttpRequest, sendEmpty, sendText } from '../../common/http/server.js';
import { EventStream } from '../../protocol/event-stream.js';
import { NOT_ACCEPTABLE, isMediaError, requestEncoding, responseEncoding } from '../../protocol/media.js';
import type { Msg } from '../allocator/allocator.js';
import type { Master } from '../master.js';
import { applyCall, validateCall } from '../calls.js';
import type { EventSink } from '../records.js';
import type { BasicAuth } from './auth.js';
import { decodeCallBody } from '../../protocol/call-body.js';
import { uuidString } from '../../common/ids.js';

const CALL = 'mesos.v1.scheduler.Call';
const EVENT = 'mesos.v1.scheduler.Event';
const STREAM_ID = 'Mesos-Stream-Id';

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

export function schedulerHandler(master: Master, auth?: BasicAuth): Handler {
  return async (req: HttpRequest, res: ServerResponse) => {
    const authenticated = auth ? auth.authenticate(req, res) : {};
    if (!authenticated) return;
    const principal = authenticated.principal;
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
    const call = decodeCallBody(CALL, encoding, body);
    if (typeof call === 'string') {
      sendText(res, 400, call);
      return;
    }
    let invalid = validateCall(call);
    const declared = call.subscribe?.framework_info?.principal;
    if (!invalid && call.type === 'SUBSCRIBE' && principal !== undefined && declared !== undefined && declared !== principal) {
      invalid = `Authenticated principal '${principal}' does not match principal '${declared}' set in \`FrameworkInfo\``;
    }
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
      const streamId = uuidString();
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
    if (principal !== undefined && principal !== fw.info.principal) {
      sendText(res, 400, `Authenticated principal '${principal}' does not match principal '${fw.info.principal ?? ''}' used to subscribe`);
      return;
    }
    if (!fw.connected || !fw.connection) {
      sendText(res, 403, 'Framework is not subscribed');
      return;
    }
    if (fw.connection.pid !== undefined) {
      sendText(res, 403, 'Framework is not connected via HTTP');
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
    const result = applyCall(master, fw, call);
    if (result.status === 202 || result.status === 200) return sendEmpty(res, result.status);
    sendText(res, result.status, result.body ?? '');
  };
}
