// Helpers shared by every ZkClient implementation.
import { Codes, ZkError } from './errors.js';
import type { ZkClient } from './types.js';

/** Validates an absolute znode path ("/" or "/a/b", no trailing slash, no empty segment). */
export function validatePath(path: string): void {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new ZkError(Codes.BADARGUMENTS, path);
  if (path === '/') return;
  if (path.endsWith('/') || path.includes('//') || path.includes('\0')) throw new ZkError(Codes.BADARGUMENTS, path);
  for (const seg of path.split('/').slice(1)) {
    if (seg === '.' || seg === '..') throw new ZkError(Codes.BADARGUMENTS, path);
  }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** Creates `path` and its missing ancestors as empty persistent nodes. */
export async function mkdirp(client: ZkClient, path: string): Promise<void> {
  validatePath(path);
  if (path === '/') return;
  if (await client.exists(path)) return;
  let prefix = '';
  for (const seg of path.split('/').slice(1)) {
    prefix += `/${seg}`;
    try {
      await client.create(prefix);
    } catch (e) {
      if (!(e instanceof ZkError && e.code === Codes.NODEEXISTS)) throw e;
    }
  }
}
