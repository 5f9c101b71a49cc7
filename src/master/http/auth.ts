// HTTP Basic authentication (MNT-04) for the master's endpoints: --credentials holds the principals,
// --authenticate_http_frameworks guards the scheduler API, --authenticate_http_readonly/readwrite
// the operator endpoints. Failures answer 401 with Mesos's realm in WWW-Authenticate.
import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { HttpRequest } from '../../common/http/server.js';

export const REALM_SCHEDULER = 'mesos-master-scheduler';
export const REALM_READONLY = 'mesos-master-readonly';
export const REALM_READWRITE = 'mesos-master-readwrite';

export class CredentialsError extends Error {}

/**
 * `--credentials`: a path (optionally `file://`) to JSON `{"credentials": [{"principal", "secret"}]}`
 * or to text lines `principal secret`.
 */
export function loadCredentials(spec: string): Map<string, string> {
  const path = spec.startsWith('file://') ? spec.slice('file://'.length) : spec;
  let text: string;
  if (existsSync(path)) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new CredentialsError(`Failed to read credentials file '${path}': ${(e as Error).message}`);
    }
  } else if (/^\s*\{/.test(spec) || /\s/.test(spec.trim())) {
    // The flag parser already replaced `file://...` by the file's content.
    text = spec;
  } else {
    throw new CredentialsError(`Failed to read credentials file '${path}': no such file`);
  }
  const out = new Map<string, string>();
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new CredentialsError(`Failed to parse credentials file '${path}': ${(e as Error).message}`);
    }
    const list = (parsed as { credentials?: unknown }).credentials;
    if (!Array.isArray(list)) throw new CredentialsError(`Credentials file '${path}' has no 'credentials' array`);
    for (const c of list as Array<Record<string, unknown>>) {
      if (typeof c?.principal !== 'string') throw new CredentialsError(`Credentials file '${path}': a credential lacks 'principal'`);
      out.set(c.principal, typeof c.secret === 'string' ? c.secret : '');
    }
    return out;
  }
  for (const line of trimmed.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[0]) out.set(parts[0], parts[1] ?? '');
  }
  return out;
}

export type AuthResult = { principal?: string } | { unauthorized: true };

/** One realm's Basic authenticator; `enabled` false lets every request through without a principal. */
export class BasicAuth {
  constructor(
    readonly realm: string,
    readonly enabled: boolean,
    private readonly credentials: Map<string, string>,
  ) {}

  check(req: HttpRequest): AuthResult {
    const header = req.header('authorization');
    if (!header) return this.enabled ? { unauthorized: true } : {};
    const m = /^Basic\s+(\S+)$/i.exec(header);
    if (!m) return this.enabled ? { unauthorized: true } : {};
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const principal = colon >= 0 ? decoded.slice(0, colon) : decoded;
    const secret = colon >= 0 ? decoded.slice(colon + 1) : '';
    if (this.credentials.get(principal) !== secret || !this.credentials.has(principal)) {
      return this.enabled ? { unauthorized: true } : {};
    }
    return { principal };
  }

  /** Answers 401 and returns undefined, or returns the (possibly absent) principal. */
  authenticate(req: HttpRequest, res: ServerResponse): { principal?: string } | undefined {
    const r = this.check(req);
    if ('unauthorized' in r) {
      res.writeHead(401, { 'WWW-Authenticate': `Basic realm="${this.realm}"`, 'Content-Length': 0 });
      res.end();
      return undefined;
    }
    return r;
  }
}

export interface MasterAuth {
  scheduler: BasicAuth;
  readonly: BasicAuth;
  readwrite: BasicAuth;
}

export function masterAuth(opts: { credentials?: string; frameworks: boolean; readonly: boolean; readwrite: boolean }): MasterAuth {
  const creds = opts.credentials ? loadCredentials(opts.credentials) : new Map<string, string>();
  if ((opts.frameworks || opts.readonly || opts.readwrite) && !opts.credentials) {
    throw new CredentialsError('HTTP authentication needs --credentials for the basic authenticator');
  }
  return {
    scheduler: new BasicAuth(REALM_SCHEDULER, opts.frameworks, creds),
    readonly: new BasicAuth(REALM_READONLY, opts.readonly, creds),
    readwrite: new BasicAuth(REALM_READWRITE, opts.readwrite, creds),
  };
}

export function noAuth(): MasterAuth {
  return masterAuth({ frameworks: false, readonly: false, readwrite: false });
}
