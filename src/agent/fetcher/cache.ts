// The fetcher cache (--fetcher_cache_dir, --fetcher_cache_size): one file per (user, URI),
// least recently used evicted first, and concurrent requests for the same entry share a
// single download. Entries in use are never evicted. An entry larger than the whole cache is
// handed out once and then dropped (Mesos falls back to a direct download for those).
import fs from 'node:fs';
import path from 'node:path';

interface Entry {
  key: string;
  file: string;
  size: number;
  refs: number;
  ready: Promise<void>;
  done: boolean;
}

export interface CacheHandle {
  /** The cached file; read it (copy or extract), do not move it. */
  file: string;
  /** Call once the file has been used. */
  release(): void;
}

export class FetcherCache {
  /** Key -> entry, oldest use first (Map order is the LRU order). */
  private readonly entries = new Map<string, Entry>();
  private next = 1;

  constructor(
    readonly dir: string,
    readonly capacityBytes: number,
  ) {}

  /** Empties the cache directory (Mesos wipes it when the agent starts). */
  async reset(): Promise<void> {
    this.entries.clear();
    await fs.promises.rm(this.dir, { recursive: true, force: true });
    await fs.promises.mkdir(this.dir, { recursive: true });
  }

  /** Bytes held by finished entries. */
  size(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.done && e.size <= this.capacityBytes) n += e.size;
    return n;
  }

  has(user: string | undefined, uri: string): boolean {
    return this.entries.get(keyOf(user, uri))?.done === true;
  }

  /**
   * The cached file for (user, uri), downloading it with `fill(dest)` (which resolves with the
   * size) when it is not there yet. Concurrent callers wait for the same download.
   */
  async acquire(user: string | undefined, uri: string, baseName: string, fill: (dest: string) => Promise<number>): Promise<CacheHandle> {
    const key = keyOf(user, uri);
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry); // most recently used
      entry.refs++;
    } else {
      // The entry is registered before any await, so concurrent callers find it.
      const file = path.join(this.dir, `c${this.next++}-${baseName}`);
      const created: Entry = { key, file, size: 0, refs: 1, done: false, ready: Promise.resolve() };
      created.ready = (async () => {
        try {
          await fs.promises.mkdir(this.dir, { recursive: true });
          created.size = await fill(file);
          created.done = true;
        } catch (e) {
          if (this.entries.get(key) === created) this.entries.delete(key);
          await fs.promises.rm(file, { force: true });
          throw e;
        }
        await this.evict(created);
      })();
      this.entries.set(key, created);
      entry = created;
    }
    const e = entry;
    try {
      await e.ready;
    } catch (err) {
      e.refs--;
      throw err;
    }
    let released = false;
    return {
      file: e.file,
      release: () => {
        if (released) return;
        released = true;
        e.refs--;
        // Too big to keep: drop it once nobody uses it.
        if (e.size > this.capacityBytes && e.refs === 0) this.drop(e);
      },
    };
  }

  /** Evicts least recently used idle entries until the cache fits (never `keep`). */
  private async evict(keep: Entry): Promise<void> {
    if (keep.size > this.capacityBytes) return; // dropped after use instead
    let total = this.size();
    for (const e of [...this.entries.values()]) {
      if (total <= this.capacityBytes) break;
      if (e === keep || e.refs > 0 || !e.done) continue;
      total -= e.size;
      this.drop(e);
    }
  }

  private drop(e: Entry): void {
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    fs.rmSync(e.file, { force: true });
  }
}

function keyOf(user: string | undefined, uri: string): string {
  return `${user ?? ''}\u0000${uri}`;
}
