// Request and response records of the ZooKeeper client protocol (jute layouts, op codes).
import { JuteReader, JuteWriter } from './jute.js';
import { CREATE_FLAGS, type Op, type OpResult, type Stat, type WatchEventType } from './types.js';

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getChildren: 8,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  auth: 100,
  setWatches: 101,
  closeSession: -11,
  error: -1,
} as const;

/** Reserved xids the server uses for non-request traffic. */
export const Xid = { notification: -1, ping: -2, auth: -4, setWatches: -8 } as const;

export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

export interface Acl {
  perms: number;
  scheme: string;
  id: string;
}

export const OPEN_ACL_UNSAFE: Acl[] = [{ perms: Perms.ALL, scheme: 'world', id: 'anyone' }];
/** What Mesos uses when it authenticates: everyone may read, the creator may do anything. */
export const EVERYONE_READ_CREATOR_ALL: Acl[] = [
  { perms: Perms.READ, scheme: 'world', id: 'anyone' },
  { perms: Perms.ALL, scheme: 'auth', id: '' },
];

export interface ConnectRequest {
  lastZxidSeen: bigint;
  timeoutMs: number;
  sessionId: bigint;
  password: Buffer;
}

export function writeConnectRequest(r: ConnectRequest): Buffer {
  const w = new JuteWriter(64);
  w.int(0).long(r.lastZxidSeen).int(r.timeoutMs).long(r.sessionId).buffer(r.password).bool(false);
  return w.frame();
}

export interface ConnectResponse {
  timeoutMs: number;
  sessionId: bigint;
  password: Buffer;
}

export function readConnectResponse(frame: Buffer): ConnectResponse {
  const r = new JuteReader(frame);
  r.int(); // protocol version
  const timeoutMs = r.int();
  const sessionId = r.long();
  const password = r.buffer() ?? Buffer.alloc(16);
  return { timeoutMs, sessionId, password };
}

export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.longNumber(),
    mzxid: r.longNumber(),
    ctime: r.longNumber(),
    mtime: r.longNumber(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.longNumber(),
  };
}

export function writeAcl(w: JuteWriter, acl: readonly Acl[]): void {
  w.int(acl.length);
  for (const a of acl) w.int(a.perms).string(a.scheme).string(a.id);
}

/** Starts a request frame body: header (xid, type). */
export function header(xid: number, type: number): JuteWriter {
  return new JuteWriter().int(xid).int(type);
}

function writeOpBody(w: JuteWriter, op: Op, acl: readonly Acl[]): void {
  switch (op.op) {
    case 'create':
      w.string(op.path).buffer(op.data ?? Buffer.alloc(0));
      writeAcl(w, acl);
      w.int(CREATE_FLAGS[op.mode ?? 'persistent']);
      return;
    case 'delete':
      w.string(op.path).int(op.version ?? -1);
      return;
    case 'set':
      w.string(op.path).buffer(op.data).int(op.version ?? -1);
      return;
    case 'check':
      w.string(op.path).int(op.version ?? -1);
      return;
  }
}

const OP_TYPE: Record<Op['op'], number> = { create: OpCode.create, delete: OpCode.delete, set: OpCode.setData, check: OpCode.check };

export function writeMulti(w: JuteWriter, ops: readonly Op[], acl: readonly Acl[]): void {
  for (const op of ops) {
    w.int(OP_TYPE[op.op]).bool(false).int(-1);
    writeOpBody(w, op, acl);
  }
  w.int(-1).bool(true).int(-1);
}

export type MultiOutcome = { ok: true; results: OpResult[] } | { ok: false; codes: number[] };

export function readMulti(r: JuteReader): MultiOutcome {
  const results: OpResult[] = [];
  const codes: number[] = [];
  let failed = false;
  for (;;) {
    const type = r.int();
    const done = r.bool();
    const err = r.int();
    if (done) break;
    switch (type) {
      case OpCode.create:
        results.push({ op: 'create', path: r.string() });
        codes.push(0);
        break;
      case OpCode.create2:
        results.push({ op: 'create', path: r.string() });
        readStat(r);
        codes.push(0);
        break;
      case OpCode.delete:
        results.push({ op: 'delete' });
        codes.push(0);
        break;
      case OpCode.setData:
        results.push({ op: 'set', stat: readStat(r) });
        codes.push(0);
        break;
      case OpCode.check:
        results.push({ op: 'check' });
        codes.push(0);
        break;
      case OpCode.error:
        codes.push(r.int());
        failed = true;
        break;
      default:
        codes.push(err);
        failed = true;
    }
  }
  return failed ? { ok: false, codes } : { ok: true, results };
}

const EVENT_TYPES: Record<number, WatchEventType> = {
  1: 'created',
  2: 'deleted',
  3: 'data_changed',
  4: 'children_changed',
};

export interface Notification {
  type: WatchEventType | undefined;
  state: number;
  path: string;
}

export function readNotification(r: JuteReader): Notification {
  const type = r.int();
  const state = r.int();
  const path = r.string();
  return { type: EVENT_TYPES[type], state, path };
}
