// The `files` endpoints (LEG-G03..G06): virtual paths attached to real files or directories,
// browsed, read and downloaded over HTTP the way Mesos's FilesProcess does it.
//
// API notes (against the sketch in the issue):
// - attach(realPath, virtualPath) returns false (and logs) instead of throwing when the real
//   path does not exist or is not readable; it stores the canonical (realpath) form and strips
//   a trailing '/' from the virtual path. Re-attaching a virtual path replaces it.
// - A path that resolves outside its attached root (`..`, symlinks) is answered as Mesos does:
//   400 "'<path>' is inaccessible." (Mesos's FilesError INVALID), not 403.
// - resolve() and the three readers (browse/read/download) are public for in-process use
//   (the v1 operator API's LIST_FILES / READ_FILE).
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { sendJson, sendText, type HttpRequest, type HttpServer } from '../../common/http/server.js';
import { logger } from '../../common/log.js';
import { contentTypeFor } from './mime.js';
import { fileInfoJson, IdNames, type FileInfoJson } from './file-info.js';

export { modeString, type FileInfoJson } from './file-info.js';

const log = logger('files');

/** Mesos caps one read at 16 pages. */
export const MAX_READ_LENGTH = 16 * 4096;

export type Resolved = { kind: 'ok'; path: string } | { kind: 'not-found' } | { kind: 'invalid'; message: string };

export type FilesResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 404 | 500; message: string };

export class Files {
  private readonly paths = new Map<string, string>();

  attach(realPath: string, virtualPath: string): boolean {
    let real: string;
    try {
      real = fs.realpathSync(realPath);
      fs.accessSync(real, fs.constants.R_OK);
    } catch (e) {
      log.warn(`Failed to attach '${realPath}' as '${virtualPath}': ${(e as Error).message}`);
      return false;
    }
    this.paths.set(cleanVirtual(virtualPath), real);
    return true;
  }

  detach(virtualPath: string): void {
    this.paths.delete(cleanVirtual(virtualPath));
  }

  /** virtual -> real, as /files/debug shows it. */
  debug(): Record<string, string> {
    return Object.fromEntries(this.paths);
  }

  install(server: HttpServer): void {
    server.route('/files/browse', (req, res) => this.handleBrowse(req, res));
    server.route('/files/read', (req, res) => this.handleRead(req, res));
    server.route('/files/download', (req, res) => this.handleDownload(req, res));
    server.route('/files/debug', (req, res) => sendJson(res, 200, this.debug(), req));
  }

  /**
   * Virtual path -> real path: the longest attached prefix, then the rest below it, canonicalised
   * and required to stay inside the attached directory.
   */
  async resolve(virtualPath: string): Promise<Resolved> {
    const tokens = cleanVirtual(fromUri(virtualPath)).split('/');
    const suffix: string[] = [];
    while (tokens.length > 0) {
      const root = this.paths.get(tokens.join('/'));
      if (root === undefined) {
        suffix.unshift(tokens.pop()!);
        continue;
      }
      let isDir: boolean;
      try {
        isDir = (await fs.promises.stat(root)).isDirectory();
      } catch {
        return { kind: 'not-found' };
      }
      if (!isDir) return suffix.length === 0 ? { kind: 'ok', path: root } : { kind: 'not-found' };
      const joined = suffix.length === 0 ? root : `${root}/${suffix.join('/')}`;
      let real: string;
      try {
        real = await fs.promises.realpath(joined);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'not-found' };
        return { kind: 'invalid', message: `Failed to determine canonical path of '${joined}': ${(e as Error).message}` };
      }
      if (real !== root && !real.startsWith(root.endsWith('/') ? root : `${root}/`)) {
        return { kind: 'invalid', message: `'${joined}' is inaccessible` };
      }
      return { kind: 'ok', path: real };
    }
    return { kind: 'not-found' };
  }

  async browse(virtualPath: string): Promise<FilesResult<FileInfoJson[]>> {
    const resolved = await this.resolve(virtualPath);
    if (resolved.kind !== 'ok') return failure(resolved);
    const base = cleanVirtual(fromUri(virtualPath));
    let entries: string[] = [];
    try {
      entries = await fs.promises.readdir(resolved.path);
    } catch {
      // Not a directory (or unreadable): an empty listing, as Mesos gives.
    }
    entries.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const names = await IdNames.load();
    const listing: FileInfoJson[] = [];
    for (const entry of entries) {
      try {
        const s = await fs.promises.stat(path.join(resolved.path, entry));
        listing.push(fileInfoJson(`${base}/${entry}`, s, names));
      } catch {
        // Vanished or dangling symlink: skipped, as Mesos does.
      }
    }
    return { ok: true, value: listing };
  }

  /** Reads up to `length` bytes (capped) at `offset`; returns the file size with them. */
  async read(virtualPath: string, offset: number, length: number | undefined): Promise<FilesResult<{ size: number; data: Buffer }>> {
    const resolved = await this.resolve(virtualPath);
    if (resolved.kind !== 'ok') return failure(resolved);
    let handle: fs.promises.FileHandle;
    try {
      if ((await fs.promises.stat(resolved.path)).isDirectory()) {
        return { ok: false, status: 400, message: 'Cannot read a directory.\n' };
      }
      handle = await fs.promises.open(resolved.path, OPEN_FLAGS);
    } catch (e) {
      return { ok: false, status: 500, message: `Failed to open file at '${resolved.path}': ${(e as Error).message}.\n` };
    }
    try {
      const size = (await handle.stat()).size;
      if (offset >= size) return { ok: true, value: { size, data: Buffer.alloc(0) } };
      const want = Math.min(length ?? size - offset, MAX_READ_LENGTH);
      if (want <= 0) return { ok: true, value: { size, data: Buffer.alloc(0) } };
      const buffer = Buffer.alloc(want);
      const { bytesRead } = await handle.read(buffer, 0, want, offset);
      return { ok: true, value: { size, data: buffer.subarray(0, bytesRead) } };
    } catch (e) {
      return { ok: false, status: 500, message: `Failed to read file at '${resolved.path}': ${(e as Error).message}.\n` };
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  private async handleBrowse(req: HttpRequest, res: ServerResponse): Promise<void> {
    const virtualPath = pathParam(req, res);
    if (virtualPath === undefined) return;
    const result = await this.browse(virtualPath);
    if (!result.ok) return sendText(res, result.status, result.message);
    sendJson(res, 200, result.value, req);
  }

  private async handleRead(req: HttpRequest, res: ServerResponse): Promise<void> {
    const virtualPath = pathParam(req, res);
    if (virtualPath === undefined) return;
    let offset = -1;
    const offsetText = req.query.get('offset');
    if (offsetText !== null) {
      const n = parseInteger(offsetText);
      if (n === undefined) return sendText(res, 400, `Failed to parse offset: Failed to convert '${offsetText}' to number.\n`);
      if (n < -1) return sendText(res, 400, `Negative offset provided: ${n}.\n`);
      offset = n;
    }
    let length: number | undefined;
    const lengthText = req.query.get('length');
    if (lengthText !== null) {
      const n = parseInteger(lengthText);
      if (n === undefined) return sendText(res, 400, `Failed to parse length: Failed to convert '${lengthText}' to number.\n`);
      if (n < -1) return sendText(res, 400, `Negative length provided: ${n}.\n`);
      if (n > -1) length = n;
    }
    // offset=-1 (or none) asks for the size only: the web UI's pailer starts with it.
    const result = await this.read(virtualPath, offset === -1 ? 0 : offset, offset === -1 ? 0 : length);
    if (!result.ok) return sendText(res, result.status, result.message);
    sendJson(res, 200, { data: result.value.data.toString('utf8'), offset: offset === -1 ? result.value.size : offset }, req);
  }

  private async handleDownload(req: HttpRequest, res: ServerResponse): Promise<void> {
    const virtualPath = pathParam(req, res);
    if (virtualPath === undefined) return;
    const resolved = await this.resolve(virtualPath);
    if (resolved.kind !== 'ok') {
      const f = failure(resolved);
      return sendText(res, f.status, f.message);
    }
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(resolved.path);
    } catch {
      return sendText(res, 404, '');
    }
    if (stat.isDirectory()) return sendText(res, 400, 'Cannot download a directory.\n');
    if (stat.size === 0) {
      res.writeHead(200, downloadHeaders(resolved.path, 0));
      res.end();
      return;
    }
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(resolved.path, OPEN_FLAGS);
    } catch (e) {
      return sendText(res, 500, `Failed to open file at '${resolved.path}': ${(e as Error).message}.\n`);
    }
    // Only the bytes that existed at stat() time: a growing stdout must not overrun Content-Length.
    const stream = handle.createReadStream({ start: 0, end: stat.size - 1 });
    res.writeHead(200, downloadHeaders(resolved.path, stat.size));
    stream.pipe(res);
    stream.once('error', () => res.destroy());
    res.once('close', () => stream.destroy());
  }
}

/** Non-blocking open, so a FIFO in a sandbox cannot wedge a reader. */
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

function downloadHeaders(file: string, size: number): Record<string, string | number> {
  return {
    'Content-Type': contentTypeFor(file),
    'Content-Disposition': `attachment; filename=${path.basename(file)}`,
    'Content-Length': size,
  };
}

function failure(r: Exclude<Resolved, { kind: 'ok' }>): { ok: false; status: 400 | 404; message: string } {
  return r.kind === 'not-found' ? { ok: false, status: 404, message: '' } : { ok: false, status: 400, message: `${r.message}.\n` };
}

function pathParam(req: HttpRequest, res: ServerResponse): string | undefined {
  const p = req.query.get('path');
  if (p === null || p.length === 0) {
    sendText(res, 400, "Expecting 'path=value' in query.\n");
    return undefined;
  }
  return p;
}

/** stout's numify for off_t/ssize_t: a whole decimal number. */
function parseInteger(text: string): number | undefined {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

function fromUri(p: string): string {
  return p.startsWith('file://') ? p.slice('file://'.length) : p;
}

function cleanVirtual(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
