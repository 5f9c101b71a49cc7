// The protobuf codec the transport uses for typed messages (full proto names, e.g. mesos.internal.PingSlaveMessage).
import { decodeProto, encodeProto, type Msg } from '../protocol/codec.js';

export type { Msg } from '../protocol/codec.js';

/** Injectable so tests can run the transport over another encoding. */
export interface MessageCodec {
  encode(type: string, msg: Msg): Buffer;
  decode(type: string, bytes: Buffer): Msg;
}

export const protoCodec: MessageCodec = { encode: encodeProto, decode: decodeProto };
