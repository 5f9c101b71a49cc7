// The scheduler client's view of the wire: call encoding, event decoding and the media types.
// Everything protobuf-shaped goes through src/protocol's codec; this file only picks the encoding.
import { decodeProto, encodeProto, fromJson, toJson } from '../protocol/codec.js';
import { type Encoding, isMediaError, requestEncoding } from '../protocol/media.js';
import type { Msg } from '../protocol/codec.js';
/** The one message-object type (docs/architecture.md, "Message objects"), re-exported for callers here. */
export type { Msg };

/** The scheduler client's encoding: src/protocol/media.ts's. */
export type ContentType = Encoding;

export const CALL_TYPE = 'mesos.v1.scheduler.Call';
export const EVENT_TYPE = 'mesos.v1.scheduler.Event';

export function encodeCall(call: Msg, contentType: ContentType): Buffer {
  if (contentType === 'protobuf') return encodeProto(CALL_TYPE, call);
  return Buffer.from(JSON.stringify(toJson(CALL_TYPE, call)));
}

export function decodeEvent(record: Buffer, contentType: ContentType): Msg {
  if (contentType === 'protobuf') return decodeProto(EVENT_TYPE, record) as Msg;
  return fromJson(EVENT_TYPE, JSON.parse(record.toString('utf8'))) as Msg;
}

/** The encoding a response's Content-Type names, or undefined if it is neither JSON nor protobuf. */
export function contentTypeOf(header: string | undefined): ContentType | undefined {
  const encoding = requestEncoding(header);
  return isMediaError(encoding) ? undefined : encoding;
}
