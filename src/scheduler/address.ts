// Master addresses as users write them (`host:port`, `http://host:port`, `//host:port/path`).

export interface Endpoint {
  host: string;
  port: number;
  /** Request path, e.g. `/api/v1/scheduler`. */
  path: string;
}

export const SCHEDULER_PATH = '/api/v1/scheduler';

/** Parses a `--master` value into the scheduler endpoint; throws on garbage. */
export function parseMaster(master: string, path = SCHEDULER_PATH): Endpoint {
  let text = master.trim();
  if (text.startsWith('zk://')) throw new Error(`ZooKeeper master URLs are not supported here: '${master}'`);
  if (text.startsWith('//')) text = `http:${text}`;
  else if (!/^[a-z]+:\/\//i.test(text)) text = `http://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`Invalid master address '${master}'`);
  }
  if (url.protocol !== 'http:') throw new Error(`Unsupported scheme in master address '${master}'`);
  const port = url.port === '' ? 5050 : Number(url.port);
  // A bare `host:port` (or a URL with only `/`) means the default scheduler path.
  const given = url.pathname === '/' || url.pathname === '' ? path : url.pathname;
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, path: given };
}

/** Resolves a redirect `Location` (usually protocol-relative `//host:port/path`) against the current endpoint. */
export function resolveLocation(location: string, current: Endpoint): Endpoint {
  const base = `http://${formatHost(current.host)}:${current.port}${current.path}`;
  const url = new URL(location.startsWith('//') ? `http:${location}` : location, base);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 80 : Number(url.port),
    path: url.pathname || SCHEDULER_PATH,
  };
}

export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
