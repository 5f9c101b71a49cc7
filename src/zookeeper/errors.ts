// ZooKeeper result codes (KeeperException.Code) and the error type every client throws.

export const Codes = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
  /** Ours: the client was closed by its owner. */
  CLOSED: -1000,
} as const;

export type CodeName = keyof typeof Codes;

const NAMES = new Map<number, CodeName>(Object.entries(Codes).map(([k, v]) => [v, k as CodeName]));

export function codeName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN(${code})`;
}

/** A failed ZooKeeper call. `code` is the numeric result code, `name` its symbolic name. */
export class ZkError extends Error {
  readonly codeName: string;
  constructor(
    readonly code: number,
    readonly path?: string,
    /** For multi: the result code of every op, in order. */
    readonly opCodes?: number[],
  ) {
    super(`ZooKeeper ${codeName(code)}${path !== undefined ? ` for '${path}'` : ''}`);
    this.name = 'ZkError';
    this.codeName = codeName(code);
  }

  is(name: CodeName): boolean {
    return this.code === Codes[name];
  }
}

export function isZkError(e: unknown, name?: CodeName): e is ZkError {
  return e instanceof ZkError && (name === undefined || e.code === Codes[name]);
}
