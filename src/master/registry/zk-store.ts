// The registry document kept in ZooKeeper so that whichever master leads next reads what
// the last leader wrote (FT-02 with --zk). Layout under the store path:
//   manifest          JSON {format, size, sha256, chunks:[sha256...]}; its znode version is the
//                     registry version (version = znode version + 1; 0 = nothing stored)
//   chunks/<sha256>   immutable pieces of the document, cut by content (a small change rewrites
//                     one or two pieces) and far below ZooKeeper's 1 MB node limit
// New pieces are written first; one multi then checks the writer's guard node (its election
// member, gone when its session is), swaps the manifest at the expected version and deletes
// pieces nothing refers to. A writer that is no longer current fails that multi and writes nothing.
import { createHash } from 'node:crypto';
import { isZkError, joinPath, type Op, type ZkClient } from '../../zookeeper/index.js';
import { StaleVersionError, type RegistryStore, type StoredDocument } from './store.js';

export { StaleVersionError };

export class RegistryStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryStoreError';
  }
}

export interface ChunkingOptions {
  minBytes: number;
  /** Must be a power of two: the mean distance between content-defined cut points. */
  avgBytes: number;
  maxBytes: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { minBytes: 16 * 1024, avgBytes: 64 * 1024, maxBytes: 256 * 1024 };

export interface ZkRegistryStoreOptions {
  client: ZkClient;
  /** Where the store lives, e.g. `<--zk path>/registry` (not a group member name). */
  path: string;
  /**
   * The writer's guard: the path of a node that exists only while this master leads (its
   * `json.info_` member). Undefined from the function means "not leading": writes fail.
   */
  guard?: () => string | undefined;
  chunking?: ChunkingOptions;
  /** Parallel chunk reads/writes. Default 8. */
  concurrency?: number;
}

interface Manifest {
  format: 1;
  size: number;
  sha256: string;
  chunks: string[];
}

/** What the last store() did (for tests and metrics). */
export interface StoreStats {
  chunks: number;
  written: number;
  deleted: number;
}

const MAX_MANIFEST_BYTES = 512 * 1024;
const MAX_DELETES_PER_COMMIT = 1000;

// A fixed pseudo-random table for the rolling hash (same cut points on every master).
const TABLE = (() => {
  const t = new Uint32Array(256);
  let x = 0x9e3779b9;
  for (let i = 0; i < 256; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    t[i] = x;
  }
  return t;
})();

/**
 * Bytes the rolling hash looks at. Registry entries repeat the same field names agent after
 * agent; a window longer than one entry always spans some bytes unique to an agent, so cut
 * points fall evenly instead of only where a short window happens to see varying bytes.
 */
const WINDOW = 1031;
const OUT_ROT = WINDOW % 32;

const rotl = (v: number, n: number) => (n === 0 ? v : ((v << n) | (v >>> (32 - n))) >>> 0);

/** Content-defined cut points (buzhash over WINDOW bytes): an edit only moves the boundaries near it. */
export function chunkBoundaries(data: Uint8Array, opts: ChunkingOptions = DEFAULT_CHUNKING): number[] {
  const bits = Math.round(Math.log2(opts.avgBytes));
  const mask = bits >= 32 ? 0xffffffff : ((0xffffffff << (32 - bits)) >>> 0);
  const outTable = TABLE.map((v) => rotl(v, OUT_ROT));
  const ends: number[] = [];
  let start = 0;
  while (start < data.length) {
    const limit = Math.min(data.length, start + opts.maxBytes);
    let end = limit;
    const first = start + Math.min(opts.minBytes, limit - start);
    // Warm the window up on the bytes just before the first candidate, so the hash at each
    // position depends only on the WINDOW bytes before it, never on where this chunk began.
    let h = 0;
    const warm = Math.max(0, first - WINDOW);
    for (let i = warm; i < first; i++) {
      h = rotl(h, 1) ^ TABLE[data[i]!]!;
      if (i - WINDOW >= warm) h ^= outTable[data[i - WINDOW]!]!;
    }
    for (let i = first; i < limit; i++) {
      h = (rotl(h, 1) ^ TABLE[data[i]!]! ^ (i - WINDOW >= warm ? outTable[data[i - WINDOW]!]! : 0)) >>> 0;
      if ((h & mask) === 0) {
        end = i + 1;
        break;
      }
    }
    ends.push(end);
    start = end;
  }
  return ends;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class ZkRegistryStore implements RegistryStore {
  private readonly client: ZkClient;
  private readonly manifestPath: string;
  private readonly chunksPath: string;
  private readonly chunking: ChunkingOptions;
  private readonly concurrency: number;
  private ready: Promise<void> | undefined;
  lastStoreStats: StoreStats | undefined;

  constructor(private readonly opts: ZkRegistryStoreOptions) {
    this.client = opts.client;
    this.manifestPath = joinPath(opts.path, 'manifest');
    this.chunksPath = joinPath(opts.path, 'chunks');
    this.chunking = opts.chunking ?? DEFAULT_CHUNKING;
    this.concurrency = opts.concurrency ?? 8;
  }

  private setup(): Promise<void> {
    this.ready ??= this.client.mkdirp(this.chunksPath).catch((e) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async fetch(): Promise<StoredDocument | undefined> {
    await this.setup();
    // A writer may swap the manifest while we read its pieces; then read again.
    for (let attempt = 0; attempt < 5; attempt++) {
      let manifestData: Buffer;
      let znodeVersion: number;
      try {
        const got = await this.client.getData(this.manifestPath);
        manifestData = got.data;
        znodeVersion = got.stat.version;
      } catch (e) {
        if (isZkError(e, 'NONODE')) return undefined;
        throw e;
      }
      const manifest = parseManifest(manifestData);
      const parts: Buffer[] = new Array(manifest.chunks.length);
      let missing = false;
      await eachLimited(manifest.chunks.map((h, i) => [h, i] as const), this.concurrency, async ([hash, i]) => {
        if (missing) return;
        try {
          parts[i] = (await this.client.getData(joinPath(this.chunksPath, hash))).data;
        } catch (e) {
          if (!isZkError(e, 'NONODE')) throw e;
          missing = true;
        }
      });
      if (missing) continue;
      const data = Buffer.concat(parts);
      if (data.length !== manifest.size || sha256(data) !== manifest.sha256) {
        throw new RegistryStoreError(`Registry in ZooKeeper at '${this.opts.path}' is corrupt (size or checksum mismatch)`);
      }
      return { version: znodeVersion + 1, data };
    }
    throw new RegistryStoreError(`Registry in ZooKeeper at '${this.opts.path}' kept changing while being read`);
  }

  async store(data: Buffer, expectedVersion: number): Promise<number> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) throw new RangeError(`Invalid registry version ${expectedVersion}`);
    const guard = this.opts.guard?.();
    if (this.opts.guard && guard === undefined) {
      throw new StaleVersionError('Not the leading master: refusing to write the registry');
    }
    await this.setup();

    const ends = chunkBoundaries(data, this.chunking);
    const pieces = new Map<string, Buffer>();
    const order: string[] = [];
    let start = 0;
    for (const end of ends) {
      const piece = data.subarray(start, end);
      const hash = sha256(piece);
      order.push(hash);
      pieces.set(hash, piece);
      start = end;
    }
    const manifest: Manifest = { format: 1, size: data.length, sha256: sha256(data), chunks: order };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    if (manifestBytes.length > MAX_MANIFEST_BYTES) throw new RegistryStoreError(`Registry too large for ZooKeeper (${data.length} bytes)`);

    const existing = new Set((await this.client.getChildren(this.chunksPath)).children);
    const toWrite = [...pieces.keys()].filter((h) => !existing.has(h));
    await eachLimited(toWrite, this.concurrency, async (hash) => {
      try {
        await this.client.create(joinPath(this.chunksPath, hash), pieces.get(hash));
      } catch (e) {
        if (!isZkError(e, 'NODEEXISTS')) throw e; // same name, same content
      }
    });
    const orphans = [...existing].filter((h) => !pieces.has(h)).slice(0, MAX_DELETES_PER_COMMIT);

    const ops: Op[] = [];
    if (guard !== undefined) ops.push({ op: 'check', path: guard, version: -1 });
    ops.push(expectedVersion === 0
      ? { op: 'create', path: this.manifestPath, data: manifestBytes }
      : { op: 'set', path: this.manifestPath, data: manifestBytes, version: expectedVersion - 1 });
    for (const h of orphans) ops.push({ op: 'delete', path: joinPath(this.chunksPath, h) });

    for (;;) {
      try {
        await this.client.multi(ops);
        this.lastStoreStats = { chunks: order.length, written: toWrite.length, deleted: orphans.length };
        return expectedVersion + 1;
      } catch (e) {
        if (isZkError(e, 'CONNECTIONLOSS')) {
          // The commit may or may not have happened: look before trying again.
          await this.client.connected();
          const now = await this.currentManifest();
          if (now && now.version === expectedVersion + 1 && now.data.equals(manifestBytes)) {
            this.lastStoreStats = { chunks: order.length, written: toWrite.length, deleted: orphans.length };
            return expectedVersion + 1;
          }
          if ((now?.version ?? 0) === expectedVersion) continue;
          throw new StaleVersionError(`Registry changed under us (version ${now?.version ?? 0}, expected ${expectedVersion})`);
        }
        if (!isZkError(e)) throw e;
        if (guard !== undefined && e.path === guard) {
          throw new StaleVersionError(`Lost leadership (${guard} is gone): refusing to write the registry`);
        }
        const now = await this.currentManifest();
        const actual = now?.version ?? 0;
        if (actual !== expectedVersion) {
          throw new StaleVersionError(`Registry version is ${actual}, expected ${expectedVersion}: another master wrote it`);
        }
        throw e;
      }
    }
  }

  private async currentManifest(): Promise<{ version: number; data: Buffer } | undefined> {
    try {
      const got = await this.client.getData(this.manifestPath);
      return { version: got.stat.version + 1, data: got.data };
    } catch (e) {
      if (isZkError(e, 'NONODE')) return undefined;
      throw e;
    }
  }
}

function parseManifest(data: Buffer): Manifest {
  try {
    const m = JSON.parse(data.toString('utf8')) as Manifest;
    if (m.format !== 1 || !Array.isArray(m.chunks) || typeof m.size !== 'number' || typeof m.sha256 !== 'string') throw new Error('unexpected shape');
    return m;
  } catch (e) {
    throw new RegistryStoreError(`Unreadable registry manifest: ${(e as Error).message}`);
  }
}
