// The protobuf codec the transport uses for typed messages (full proto names, e.g. mesos.internal.PingSlaveMessage).

/** A plain object shaped like the proto (see docs/architecture.md, "Message objects"). */
export type Msg = Record<string, unknown>;

export interface MessageCodec {
  encode(type: string, msg: Msg): Buffer;
  decode(type: string, bytes: Buffer): Msg;
}

interface CodecModule {
  encodeProto(type: string, msg: unknown): Buffer;
  decodeProto(type: string, bytes: Uint8Array): unknown;
}

// TODO(transport): switch to a static import once src/protocol/codec.ts is committed.
const CODEC_MODULE = '../protocol/codec.js';
let codec: CodecModule | undefined;
try {
  codec = (await import(CODEC_MODULE)) as CodecModule;
} catch (e) {
  if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
}

function missing(): never {
  throw new Error('protobuf codec (src/protocol/codec.ts) is not available');
}

export const protoCodec: MessageCodec = {
  encode: (type, msg) => (codec ? codec.encodeProto(type, msg) : missing()),
  decode: (type, bytes) => (codec ? (codec.decodeProto(type, bytes) as Msg) : missing()),
};
