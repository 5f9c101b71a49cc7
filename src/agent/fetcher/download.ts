// http(s) downloads with redirects and a stall timeout on the Clock, and local copies.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { formatDuration } from '../../common/units.js';
import { FetchError } from './uri.js';

export interface DownloadOptions {
  clock: Clock;
  /** --fetcher_stall_timeout: abort when no byte arrived for this long (default 1 min). */
  stallTimeoutMs?: number;
  maxRedirects?: number;
}

/** Downloads `url` to `dest` (written to dest.part, then renamed). Resolves with the size. */
export async function download(url: string, dest: string, opts: DownloadOptions): Promise<number> {
  const part = `${dest}.part`;
  try {
    const size = await get(url, part, opts, opts.maxRedirects ?? 10);
    await fs.promises.rename(part, dest);
    return size;
  } catch (e) {
    await fs.promises.rm(part, { force: true });
    throw e;
  }
}

function get(url: string, dest: string, opts: DownloadOptions, redirectsLeft: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return reject(new FetchError(`Invalid URI '${url}'`));
    }
    const client = u.protocol === 'https:' ? https : http;
    const stallMs = opts.stallTimeoutMs ?? 60_000;
    let timer: TimerHandle | undefined;
    let settled = false;
    const finish = (err: Error | undefined, size?: number) => {
      if (settled) return;
      settled = true;
      opts.clock.clearTimeout(timer);
      if (err) reject(err);
      else resolve(size!);
    };
    const req = client.get(u, { headers: { 'User-Agent': 'meseta-fetcher' } });
    const armStall = () => {
      opts.clock.clearTimeout(timer);
      timer = opts.clock.setTimeout(() => {
        req.destroy(new FetchError(`Download stalled: no data for ${formatDuration(stallMs)}`));
      }, stallMs);
    };
    armStall();
    req.on('error', (e) => finish(e instanceof FetchError ? e : new FetchError(`Failed to download '${url}': ${e.message}`)));
    req.on('response', (res) => {
      const code = res.statusCode ?? 0;
      if (code >= 300 && code < 400 && res.headers.location) {
        res.resume();
        opts.clock.clearTimeout(timer);
        if (redirectsLeft <= 0) return finish(new FetchError(`Too many redirects downloading '${url}'`));
        let next: string;
        try {
          next = new URL(res.headers.location, u).toString();
        } catch {
          return finish(new FetchError(`Invalid redirect location '${res.headers.location}'`));
        }
        settled = true; // the redirected request owns the outcome now
        get(next, dest, opts, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (code < 200 || code >= 300) {
        res.resume();
        return finish(new FetchError(`Error downloading resource, received HTTP return code ${code}`));
      }
      const out = fs.createWriteStream(dest);
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        armStall();
      });
      res.on('error', (e) => {
        out.destroy();
        finish(e instanceof FetchError ? e : new FetchError(`Failed to download '${url}': ${e.message}`));
      });
      res.on('aborted', () => finish(new FetchError(`Failed to download '${url}': connection closed early`)));
      out.on('error', (e) => {
        req.destroy();
        finish(new FetchError(`Failed to write '${dest}': ${e.message}`));
      });
      out.on('finish', () => {
        if (res.complete) finish(undefined, size);
        else finish(new FetchError(`Failed to download '${url}': connection closed early`));
      });
      res.pipe(out);
    });
  });
}

/** Copies a local file. */
export async function copyLocal(src: string, dest: string): Promise<number> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(src);
  } catch {
    throw new FetchError(`Failed to copy '${src}': the file does not exist`);
  }
  if (!st.isFile()) throw new FetchError(`Failed to copy '${src}': not a regular file`);
  await fs.promises.copyFile(src, dest);
  return st.size;
}
