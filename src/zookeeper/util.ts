// Helpers shared by every ZkClient implementation.
import { Codes, ZkError } from './errors.js';
import type { SessionState, WatchEventType, Watcher, ZkClient } from './types.js';

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

export type WatchKind = 'data' | 'exist' | 'child';

/** Which one-shot watches an event triggers, as ZooKeeper's client-side watch manager decides. */
const TRIGGERS: Record<WatchEventType, WatchKind[]> = {
  created: ['data', 'exist'],
  data_changed: ['data', 'exist'],
  deleted: ['data', 'exist', 'child'],
  children_changed: ['child'],
  session_expired: [],
};

/** A session's one-shot watches, shared by the wire client and the in-memory twin. */
export class WatchTable {
  private readonly byKind: Record<WatchKind, Map<string, Set<Watcher>>> = { data: new Map(), exist: new Map(), child: new Map() };

  add(kind: WatchKind, path: string, watcher: Watcher): void {
    let set = this.byKind[kind].get(path);
    if (!set) this.byKind[kind].set(path, (set = new Set()));
    set.add(watcher);
  }

  /** The watched paths of one kind (re-armed with SetWatches after a reconnect). */
  paths(kind: WatchKind): string[] {
    return [...this.byKind[kind].keys()];
  }

  /** Removes and returns the watchers an event on `path` triggers. */
  trigger(type: WatchEventType, path: string): Set<Watcher> {
    const out = new Set<Watcher>();
    for (const kind of TRIGGERS[type]) {
      const set = this.byKind[kind].get(path);
      if (!set) continue;
      this.byKind[kind].delete(path);
      for (const w of set) out.add(w);
    }
    return out;
  }

  /** Removes and returns every watcher (the session ended). */
  clear(): Set<Watcher> {
    const out = new Set<Watcher>();
    for (const map of Object.values(this.byKind)) {
      for (const set of map.values()) for (const w of set) out.add(w);
      map.clear();
    }
    return out;
  }
}

export const isTerminal = (state: SessionState): boolean => state === 'expired' || state === 'closed';

/** The error every call gets once a session has ended. */
export function terminalError(state: SessionState, path?: string): ZkError {
  return new ZkError(state === 'expired' ? Codes.SESSIONEXPIRED : Codes.CLOSED, path);
}

/** ZkClient.connected(): resolves once `client` is connected, rejects once its session ends. */
export function untilConnected(client: Pick<ZkClient, 'state' | 'onState'>): Promise<void> {
  if (client.state === 'connected') return Promise.resolve();
  if (isTerminal(client.state)) return Promise.reject(terminalError(client.state));
  return new Promise((resolve, reject) => {
    const off = client.onState((s) => {
      if (s === 'connected') {
        off();
        resolve();
      } else if (isTerminal(s)) {
        off();
        reject(terminalError(s));
      }
    });
  });
}
