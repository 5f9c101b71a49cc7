// Libprocess process addresses: `id@ip:port` (WIRE-01).

export interface UPID {
  readonly id: string;
  readonly ip: string;
  readonly port: number;
}

/** Thrown for a malformed UPID string. */
export class UpidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpidError';
  }
}

// Ids travel unescaped in the request line, so they must not contain whitespace, '/', '@' or control chars.
const ID_RE = /^[^\s/@\x00-\x1f\x7f]+$/;
const HOST_RE = /^[A-Za-z0-9._-]+$/;

/** Parses `slave(1)@10.0.0.2:5051`; also accepts an IPv6 host in brackets (`x@[::1]:5051`). Throws UpidError. */
export function parseUpid(text: string): UPID {
  if (typeof text !== 'string') throw new UpidError('UPID must be a string');
  const at = text.indexOf('@');
  if (at <= 0) throw new UpidError(`Malformed UPID '${text}': expecting 'id@ip:port'`);
  const id = text.slice(0, at);
  if (!ID_RE.test(id)) throw new UpidError(`Malformed UPID '${text}': bad id '${id}'`);
  const address = text.slice(at + 1);
  const colon = address.lastIndexOf(':');
  if (colon <= 0) throw new UpidError(`Malformed UPID '${text}': missing port`);
  let ip = address.slice(0, colon);
  if (ip.startsWith('[') && ip.endsWith(']')) {
    ip = ip.slice(1, -1);
    if (!/^[0-9A-Fa-f:.]+$/.test(ip)) throw new UpidError(`Malformed UPID '${text}': bad IPv6 address`);
  } else if (!HOST_RE.test(ip)) {
    throw new UpidError(`Malformed UPID '${text}': bad host '${ip}'`);
  }
  const portText = address.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) throw new UpidError(`Malformed UPID '${text}': bad port '${portText}'`);
  const port = Number(portText);
  if (port > 65535) throw new UpidError(`Malformed UPID '${text}': port out of range`);
  return { id, ip, port };
}

/** Like parseUpid but returns undefined instead of throwing. */
export function tryParseUpid(text: string): UPID | undefined {
  try {
    return parseUpid(text);
  } catch {
    return undefined;
  }
}

export function formatUpid(u: UPID): string {
  return `${u.id}@${formatAddress(u.ip, u.port)}`;
}

/** `ip:port`, with IPv6 hosts in brackets; also the key of a connection. */
export function formatAddress(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function sameUpid(a: UPID, b: UPID): boolean {
  return a.id === b.id && a.ip === b.ip && a.port === b.port;
}

/** Accepts either form; throws UpidError on a malformed string. */
export function toUpid(to: UPID | string): UPID {
  return typeof to === 'string' ? parseUpid(to) : to;
}
