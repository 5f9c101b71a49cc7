// The fetcher (AGT-05): fetches a task's CommandInfo.uris into its sandbox, one after the
// other, before the task starts. Mesos runs this in a mesos-fetcher process; here it is async
// work inside the agent (downloads are streams, extraction is tar/unzip/gunzip).
//
// Failure: fetch() rejects with "Failed to fetch all URIs for container '<id>': Failed to
// fetch '<uri>': <why>", which the caller reports as TASK_FAILED with
// REASON_CONTAINER_LAUNCH_FAILED and message "Failed to launch container: <that>".
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../common/clock.js';
import { logger } from '../../common/log.js';
import type { Msg } from '../../protocol/codec.js';
import { lookupUser } from '../containerizer/users.js';
import { FetcherCache } from './cache.js';
import { copyLocal, download } from './download.js';
import { extract } from './extract.js';
import { FetchError, archiveKind, destinationName, resolveSource } from './uri.js';

const log = logger('fetcher');

/** --fetcher_cache_size's default: 2GB. */
export const DEFAULT_CACHE_SIZE = 2 * 1024 ** 3;

export interface FetcherOptions {
  clock: Clock;
  /** --fetcher_cache_dir (default /tmp/mesos/fetch). */
  cacheDir?: string;
  /** --fetcher_cache_size in bytes (default 2GB). */
  cacheSize?: number;
  /** --fetcher_stall_timeout (default 1 min). */
  stallTimeoutMs?: number;
  /** --frameworks_home: prefix for relative paths. */
  frameworksHome?: string;
}

export interface FetchRequest {
  containerId: string;
  /** CommandInfo.uris: {value, executable?, extract? (default true), cache?, output_file?}. */
  uris: Msg[];
  sandbox: string;
  /** The task's user: keys the cache and owns the fetched files (when the agent is root). */
  user?: string;
}

export class Fetcher {
  readonly cache: FetcherCache;

  constructor(private readonly opts: FetcherOptions) {
    this.cache = new FetcherCache(opts.cacheDir ?? '/tmp/mesos/fetch', opts.cacheSize ?? DEFAULT_CACHE_SIZE);
  }

  /** Wipes the cache directory; call once when the agent starts. */
  start(): Promise<void> {
    return this.cache.reset();
  }

  async fetch(req: FetchRequest): Promise<void> {
    const owner = req.user !== undefined && isRoot() ? lookupUser(req.user) : undefined;
    if (req.user !== undefined && isRoot() && !owner) {
      throw new FetchError(`Failed to fetch all URIs for container '${req.containerId}': Failed to get user information for '${req.user}'`);
    }
    for (const uri of req.uris ?? []) {
      try {
        await this.fetchOne(uri, req.sandbox, req.user, owner);
      } catch (e) {
        const message = `Failed to fetch '${uri?.value ?? ''}': ${(e as Error).message}`;
        log.warn(`Container ${req.containerId}: ${message}`);
        throw new FetchError(`Failed to fetch all URIs for container '${req.containerId}': ${message}`);
      }
    }
  }

  private async fetchOne(uri: Msg, sandbox: string, user: string | undefined, owner: { uid: number; gid: number } | undefined): Promise<void> {
    const value = typeof uri.value === 'string' ? uri.value : '';
    if (!value) throw new FetchError('URI value is empty');
    const source = resolveSource(value, this.opts.frameworksHome);
    const name = destinationName(value, uri.output_file);
    const dest = path.join(sandbox, name);
    await fs.promises.mkdir(path.dirname(dest), { recursive: true });

    const pull = (to: string) =>
      source.kind === 'http'
        ? download(source.url, to, { clock: this.opts.clock, stallTimeoutMs: this.opts.stallTimeoutMs })
        : copyLocal(source.path, to);

    if (uri.cache === true) {
      const handle = await this.cache.acquire(user, value, path.basename(name), pull);
      try {
        await fs.promises.copyFile(handle.file, dest);
      } finally {
        handle.release();
      }
    } else {
      await pull(dest);
    }

    const before = owner ? new Set(await fs.promises.readdir(sandbox)) : undefined;
    if (uri.executable === true) {
      // Executables are never extracted.
      await fs.promises.chmod(dest, 0o755);
    } else if (uri.extract !== false && archiveKind(name)) {
      await extract(dest, path.dirname(dest));
    }
    if (owner) await chownNew(sandbox, dest, before!, owner);
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Gives the fetched file and whatever extraction added to the task's user. */
async function chownNew(sandbox: string, dest: string, before: Set<string>, owner: { uid: number; gid: number }): Promise<void> {
  await fs.promises.chown(dest, owner.uid, owner.gid);
  for (const entry of await fs.promises.readdir(sandbox)) {
    if (before.has(entry)) continue;
    await chownTree(path.join(sandbox, entry), owner);
  }
}

async function chownTree(p: string, owner: { uid: number; gid: number }): Promise<void> {
  await fs.promises.lchown(p, owner.uid, owner.gid);
  const st = await fs.promises.lstat(p);
  if (!st.isDirectory()) return;
  for (const entry of await fs.promises.readdir(p)) await chownTree(path.join(p, entry), owner);
}

/** One Fetcher per cache directory, for callers that only have options (see fetch()). */
const fetchers = new Map<string, Fetcher>();

/**
 * Fetches `uris` into `sandbox`. Fetchers (and so caches) are shared per cacheDir; the agent
 * may instead own a Fetcher and call fetcher.fetch() itself.
 */
export function fetch(
  uris: Msg[],
  sandbox: string,
  opts: FetcherOptions & { containerId?: string; user?: string },
): Promise<void> {
  const dir = opts.cacheDir ?? '/tmp/mesos/fetch';
  let f = fetchers.get(dir);
  if (!f) {
    f = new Fetcher(opts);
    fetchers.set(dir, f);
  }
  return f.fetch({ containerId: opts.containerId ?? '', uris, sandbox, ...(opts.user !== undefined ? { user: opts.user } : {}) });
}
