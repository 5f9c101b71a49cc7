// The scheduler client's view of the wire: call encoding, event decoding and the media types.
// Everything protobuf-shaped goes through src/protocol's codec; this file only picks the encoding.
import { decodeProto, encodeProto, fromJson, toJson } from '../protocol/codec.js';
import { RecordIOReader } from '../protocol/recordio.js';

/** A protobuf message as a plain object (see docs/architecture.md "Message objects"). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
import type { Msg } from '../protocol/codec.js';
/** The one message-object type (docs/architecture.md, "Message objects"), re-exported for callers here. */
export type { Msg };

export type ContentType = 'json' | 'protobuf';

export const CALL_TYPE = 'mesos.v1.scheduler.Call';
export const EVENT_TYPE = 'mesos.v1.scheduler.Event';

export const MEDIA_TYPES: Record<ContentType, string> = {
  json: 'application/json',
  protobuf: 'application/x-protobuf',
};

export function encodeCall(call: Msg, contentType: ContentType): Buffer {
  if (contentType === 'protobuf') return encodeProto(CALL_TYPE, call);
  return Buffer.from(JSON.stringify(toJson(CALL_TYPE, call)));
}

export function decodeEvent(record: Buffer, contentType: ContentType): Msg {
  if (contentType === 'protobuf') return decodeProto(EVENT_TYPE, record) as Msg;
  return fromJson(EVENT_TYPE, JSON.parse(record.toString('utf8'))) as Msg;
}

/** Parses a Content-Type header value into our encoding, or undefined if it is neither. */
export function contentTypeOf(header: string | undefined): ContentType | undefined {
  const base = header?.split(';')[0]?.trim().toLowerCase();
  if (base === MEDIA_TYPES.json) return 'json';
  if (base === MEDIA_TYPES.protobuf) return 'protobuf';
  return undefined;
}

export interface RecordReader {
  /** Feeds bytes; returns every record completed by them. Throws on a malformed length prefix. */
  push(chunk: Buffer): Buffer[];
}

export function createRecordReader(): RecordReader {
  return new RecordIOReader();
}
