// `--zk` / `--master` values: zk://[user:password@]host1:port1,host2:port2/path, or
// file:///some/file holding such a value (Mesos reads flag files the same way).
import fs from 'node:fs';
import { parseServers, type ZkAuth, type ZkServerAddress } from './client.js';

export class ZkUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZkUrlError';
  }
}

export interface ZkUrl {
  servers: ZkServerAddress[];
  /** The servers as given (`h1:p1,h2:p2`). */
  serversText: string;
  /** Group path, absolute, without a trailing slash ("/" for the root). */
  path: string;
  /** Digest credentials (`user:password`) from the URL, if any. */
  auth?: ZkAuth;
}

export type ReadFile = (path: string) => string;
const readUtf8: ReadFile = (p) => fs.readFileSync(p, 'utf8');

/** Reads a `file://` value (absolute path after the scheme), trimmed. */
export function readFileValue(text: string, readFile: ReadFile = readUtf8): string {
  const file = text.slice('file://'.length);
  if (!file.startsWith('/')) throw new ZkUrlError(`Expecting an absolute path in '${text}'`);
  try {
    return readFile(file).trim();
  } catch (e) {
    throw new ZkUrlError(`Failed to read '${file}': ${(e as Error).message}`);
  }
}

export function isZkUrl(text: string): boolean {
  return text.startsWith('zk://');
}

/** Parses a zk:// URL (or a file:// holding one). Throws ZkUrlError with a message fit for a flag error. */
export function parseZkUrl(input: string, readFile: ReadFile = readUtf8): ZkUrl {
  let text = input.trim();
  if (text.startsWith('file://')) text = readFileValue(text, readFile);
  if (!text.startsWith('zk://')) throw new ZkUrlError(`Expecting 'zk://' at the beginning of the URL '${text}'`);
  let rest = text.slice('zk://'.length);
  let auth: ZkAuth | undefined;
  const slash = rest.indexOf('/');
  const at = rest.indexOf('@');
  if (at >= 0 && (slash < 0 || at < slash)) {
    const credentials = rest.slice(0, at);
    if (!credentials.includes(':') || credentials.startsWith(':')) {
      throw new ZkUrlError(`Expecting 'user:password' credentials in the URL '${text}'`);
    }
    auth = { scheme: 'digest', credentials };
    rest = rest.slice(at + 1);
  }
  const pathStart = rest.indexOf('/');
  if (pathStart < 0) throw new ZkUrlError(`Expecting a path after the servers in the URL '${text}' (e.g. zk://host:2181/mesos)`);
  const serversText = rest.slice(0, pathStart);
  let servers: ZkServerAddress[];
  try {
    servers = parseServers(serversText);
  } catch (e) {
    throw new ZkUrlError(`${(e as Error).message} in the URL '${text}'`);
  }
  let path = rest.slice(pathStart);
  while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (path.includes('//') || path.split('/').some((s) => s === '.' || s === '..')) {
    throw new ZkUrlError(`Invalid ZooKeeper path '${path}' in the URL '${text}'`);
  }
  return { servers, serversText, path, auth };
}

/** The URL back as text (credentials masked), for logs. */
export function formatZkUrl(url: ZkUrl): string {
  return `zk://${url.auth ? `${url.auth.credentials.split(':')[0]}:***@` : ''}${url.serversText}${url.path}`;
}
