// Decoding a v1 API request body (scheduler, executor, operator) with the 400 texts Mesos uses.
import { decodeProto, fromJson, ProtocolError, type Msg } from './codec.js';
import type { Encoding } from './media.js';

/** The decoded call, or the message for a 400 answer when the body cannot be decoded. */
export function decodeCallBody(type: string, encoding: Encoding, body: Buffer): Msg | string {
  if (encoding === 'protobuf') {
    try {
      return decodeProto(type, body);
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
    return fromJson(type, value);
  } catch (e) {
    if (e instanceof ProtocolError) return `Failed to convert JSON into Call protobuf: ${e.message}`;
    throw e;
  }
}
