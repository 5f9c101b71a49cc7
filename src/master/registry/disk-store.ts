// `--registry=replicated_log` on a single master: the registry document kept
// durably under `<work_dir>/registry/`.
//
// Format. Two snapshot slots, `snapshot.0` and `snapshot.1`; version N lives in
// slot N % 2, so the newest snapshot and the one before it are always on disk.
// Each file is a 32-byte header followed by the encoded Registry:
//
//   0  magic "MSTREG01"        16 payload length (u32 BE)
//   8  version (u64 BE)        20 crc32 of the payload
//                              24 crc32 of bytes 0..23
//                              28 zero
//
// Crash safety. A store writes the whole file to `snapshot.tmp`, fsyncs it,
// renames it over its slot and fsyncs the directory before it resolves, so an
// acknowledged version survives a kill -9 or a power loss, and a slot is only
// ever replaced as a whole (rename is atomic). A crash mid-store leaves only a
// half-written `snapshot.tmp`, which is never read and is overwritten by the
// next store. `fetch` loads the highest version whose header and checksums are
// valid: if the newest slot was damaged afterwards (torn by the disk, bit rot,
// truncated by hand) it falls back to the other slot, i.e. the previous good
// state. If slots exist but none is valid it refuses to guess and throws:
// treating a damaged registry as empty would silently forget every agent.
//
// Why whole snapshots rather than an operation log: the registrar batches
// every operation that arrives while a store is in flight into the next one,
// so the number of writes is bounded by how fast the disk can fsync, not by
// the number of operations; and one self-contained file per version keeps
// recovery trivial. The cost is rewriting the document per batch, which at
// tens of thousands of agents is a few megabytes of sequential I/O.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { StaleVersionError, type RegistryStore, type StoredDocument } from './store.js';

const MAGIC = Buffer.from('MSTREG01', 'ascii');
export const HEADER_BYTES = 32;
const SLOTS = ['snapshot.0', 'snapshot.1'];
const TEMP = 'snapshot.tmp';

/** Why a snapshot file was rejected. */
export class CorruptRegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptRegistryError';
  }
}

/** Header + payload for `version`, ready to write. */
export function encodeSnapshot(version: number, data: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeBigUInt64BE(BigInt(version), 8);
  header.writeUInt32BE(data.length, 16);
  header.writeUInt32BE(crc32(data), 20);
  header.writeUInt32BE(crc32(header.subarray(0, 24)), 24);
  return Buffer.concat([header, data]);
}

/** Validates a whole snapshot file; throws CorruptRegistryError saying what is wrong. */
export function decodeSnapshot(file: Buffer): StoredDocument {
  if (file.length < HEADER_BYTES) throw new CorruptRegistryError(`truncated header (${file.length} bytes)`);
  if (!file.subarray(0, 8).equals(MAGIC)) throw new CorruptRegistryError('bad magic');
  if (file.readUInt32BE(24) !== crc32(file.subarray(0, 24))) throw new CorruptRegistryError('header checksum mismatch');
  const length = file.readUInt32BE(16);
  if (file.length - HEADER_BYTES !== length) {
    throw new CorruptRegistryError(`payload is ${file.length - HEADER_BYTES} bytes, header says ${length}`);
  }
  const data = file.subarray(HEADER_BYTES);
  if (crc32(data) !== file.readUInt32BE(20)) throw new CorruptRegistryError('payload checksum mismatch');
  return { version: Number(file.readBigUInt64BE(8)), data };
}

export interface LocalDiskStoreOptions {
  /** Reports a slot that was skipped as damaged (default: console.warn). */
  warn?: (message: string) => void;
}

export class LocalDiskStore implements RegistryStore {
  readonly dir: string;
  private version: number | undefined;
  /** The version in each slot's header as we last saw or wrote it (undefined: none/unreadable). */
  private headers: Array<number | undefined> = [undefined, undefined];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly warn: (message: string) => void;

  constructor(workDir: string, options: LocalDiskStoreOptions = {}) {
    this.dir = path.join(workDir, 'registry');
    this.warn = options.warn ?? ((m) => console.warn(m));
  }

  fetch(): Promise<StoredDocument | undefined> {
    return this.serialize(() => this.load());
  }

  store(data: Buffer, expectedVersion: number): Promise<number> {
    return this.serialize(async () => {
      if (this.version === undefined) await this.load();
      if (expectedVersion !== this.version) {
        throw new StaleVersionError(`version mismatch: expected ${expectedVersion}, registry is at ${this.version}`);
      }
      // Another process writing the same work_dir shows up as a slot header we did not leave there.
      const headers = await this.readHeaders();
      if (headers.some((v, i) => v !== this.headers[i])) {
        throw new StaleVersionError(`version mismatch: ${this.dir} was written by someone else (slot versions ${headers.join(', ')})`);
      }
      const next = expectedVersion + 1;
      await this.writeDurably(SLOTS[next % 2]!, encodeSnapshot(next, data));
      this.version = next;
      this.headers[next % 2] = next;
      return next;
    });
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  /** One fetch/store at a time: a store must never race a load of the same slots. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<StoredDocument | undefined> {
    let best: StoredDocument | undefined;
    const damaged: string[] = [];
    for (const slot of SLOTS) {
      let file: Buffer;
      try {
        file = await fsp.readFile(path.join(this.dir, slot));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      try {
        const doc = decodeSnapshot(file);
        if (!best || doc.version > best.version) best = doc;
      } catch (e) {
        if (!(e instanceof CorruptRegistryError)) throw e;
        damaged.push(`${slot}: ${e.message}`);
      }
    }
    if (damaged.length > 0) {
      if (!best) throw new CorruptRegistryError(`no valid registry snapshot in ${this.dir} (${damaged.join('; ')})`);
      this.warn(`Ignoring damaged registry snapshot in ${this.dir} (${damaged.join('; ')}); using version ${best.version}`);
    }
    this.version = best?.version ?? 0;
    this.headers = await this.readHeaders();
    return best && { version: best.version, data: Buffer.from(best.data) };
  }

  /** Each slot's header version, when the header itself is intact. */
  private async readHeaders(): Promise<Array<number | undefined>> {
    const out: Array<number | undefined> = [];
    for (const slot of SLOTS) {
      let handle;
      try {
        handle = await fsp.open(path.join(this.dir, slot), 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          out.push(undefined);
          continue;
        }
        throw e;
      }
      try {
        const header = Buffer.alloc(HEADER_BYTES);
        const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
        const intact = bytesRead === HEADER_BYTES && header.subarray(0, 8).equals(MAGIC) &&
          header.readUInt32BE(24) === crc32(header.subarray(0, 24));
        out.push(intact ? Number(header.readBigUInt64BE(8)) : undefined);
      } finally {
        await handle.close();
      }
    }
    return out;
  }

  private async writeDurably(slot: string, bytes: Buffer): Promise<void> {
    // A freshly made directory must itself be durable in its parent.
    if (await fsp.mkdir(this.dir, { recursive: true })) await syncDir(path.dirname(this.dir));
    const temp = path.join(this.dir, TEMP);
    const handle = await fsp.open(temp, 'w', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, path.join(this.dir, slot));
    await syncDir(this.dir);
  }
}

/** fsync a directory so a rename in it is durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
