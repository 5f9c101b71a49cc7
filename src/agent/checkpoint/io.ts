// Durable file primitives for checkpoints (FT-05): atomic replacement of small files and the
// length-prefixed protobuf records Mesos writes (a 4-byte native-endian size, then the bytes).
import fs from 'node:fs';
import path from 'node:path';
import { decodeProto, encodeProto, type Msg } from '../../protocol/codec.js';

/** Writes `data` to `file` through `file.tmp` + fsync + rename, then fsyncs the directory. */
export function writeFileAtomic(file: string, data: Buffer | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncDir(path.dirname(file));
}

export function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** One length-prefixed record, the way Mesos's protobuf::write frames a message. */
export function frameRecord(type: string, msg: Msg): Buffer {
  const body = encodeProto(type, msg);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** A checkpointed message file holds exactly one record. */
export function writeMessageAtomic(file: string, type: string, msg: Msg): void {
  writeFileAtomic(file, frameRecord(type, msg));
}

export interface RecordsRead {
  records: Msg[];
  /** Bytes at the end that do not form a whole record (a write torn by a crash). */
  tornBytes: number;
  /** Offset just past the last whole record. */
  validLength: number;
}

/**
 * Every whole record of a length-prefixed stream. A partial record at the end (the agent died
 * mid-append) is reported, not decoded; a whole record that does not decode is an error.
 */
export function parseRecords(type: string, data: Buffer): RecordsRead {
  const records: Msg[] = [];
  let off = 0;
  while (off + 4 <= data.length) {
    const size = data.readUInt32LE(off);
    if (off + 4 + size > data.length) break;
    records.push(decodeProto(type, data.subarray(off + 4, off + 4 + size)));
    off += 4 + size;
  }
  return { records, tornBytes: data.length - off, validLength: off };
}

/** The one message of a checkpointed `.info` file. */
export function readMessage(file: string, type: string): Msg {
  const { records, tornBytes } = parseRecords(type, fs.readFileSync(file));
  if (records.length !== 1 || tornBytes !== 0) throw new Error(`Malformed checkpoint '${file}'`);
  return records[0]!;
}

/** Appends a record and fsyncs before returning: the caller may acknowledge after this. */
export function appendDurably(file: string, record: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, record);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces a symlink atomically (new link beside it, renamed over the old one). */
export function pointLink(link: string, target: string): void {
  fs.mkdirSync(path.dirname(link), { recursive: true });
  const tmp = `${link}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, link);
  syncDir(path.dirname(link));
}

export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => n !== 'latest' && !n.endsWith('.tmp'));
  } catch {
    return [];
  }
}
