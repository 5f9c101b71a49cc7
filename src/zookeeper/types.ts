// The ZooKeeper seam: what Meseta needs from a ZooKeeper session, implemented by the
// wire client (client.ts) and by the in-memory twin (memory.ts).

export type CreateMode = 'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential';

/** Flags value of each mode on the wire. */
export const CREATE_FLAGS: Record<CreateMode, number> = {
  persistent: 0,
  ephemeral: 1,
  persistent_sequential: 2,
  ephemeral_sequential: 3,
};

export interface Stat {
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** Session id of the owner of an ephemeral node, 0n otherwise. */
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: number;
}

export type WatchEventType = 'created' | 'deleted' | 'data_changed' | 'children_changed' | 'session_expired';

export interface WatchEvent {
  type: WatchEventType;
  path: string;
}

/** One-shot: called once, for the first change after it was set (or when the session ends). */
export type Watcher = (event: WatchEvent) => void;

/**
 * connecting: first connect in progress; connected: requests flow;
 * disconnected: lost the server, reconnecting with the same session;
 * expired: the session is gone (its ephemeral nodes too) — terminal;
 * closed: closed by its owner — terminal.
 */
export type SessionState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export type Op =
  | { op: 'create'; path: string; data?: Buffer; mode?: CreateMode }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'set'; path: string; data: Buffer; version?: number }
  | { op: 'check'; path: string; version?: number };

export type OpResult =
  | { op: 'create'; path: string }
  | { op: 'delete' }
  | { op: 'set'; stat: Stat }
  | { op: 'check' };

export interface ZkClient {
  readonly state: SessionState;
  /** The session id (0n before the first connect). */
  readonly sessionId: bigint;
  /** Negotiated session timeout in ms (the requested one before connecting). */
  readonly sessionTimeoutMs: number;

  /** Resolves once connected (at once if already); rejects if the session ends first. */
  connected(): Promise<void>;
  /** Listens to state changes; returns a function that removes the listener. */
  onState(listener: (state: SessionState) => void): () => void;

  /** Returns the created path (with the sequence suffix for sequential modes). */
  create(path: string, data?: Buffer, mode?: CreateMode): Promise<string>;
  /** Creates every missing ancestor and the node itself as persistent, empty nodes. */
  mkdirp(path: string): Promise<void>;
  delete(path: string, version?: number): Promise<void>;
  /** The node's stat, or undefined; the watcher fires on create, delete or data change. */
  exists(path: string, watcher?: Watcher): Promise<Stat | undefined>;
  getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }>;
  setData(path: string, data: Buffer, version?: number): Promise<Stat>;
  /** Children names (unsorted, as the server lists them) and the parent's stat. */
  getChildren(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: Stat }>;
  /** All or nothing; on failure throws a ZkError whose opCodes give each op's code. */
  multi(ops: Op[]): Promise<OpResult[]>;
  /** Ends the session (its ephemeral nodes go at once). */
  close(): Promise<void>;
}
