// MasterInfo as masters publish it in ZooKeeper and detectors read it back.
import { decodeProto, encodeJson, fromJson, type Msg } from '../../protocol/codec.js';
import { parseUpid } from '../../transport/upid.js';
import { MESOS_VERSION } from '../constants.js';

/** A v1 `MasterInfo` message object (proto field names). */
export type MasterInfo = Msg;

/** Labels of group members in ZooKeeper (`<label>_<seq>`). */
export const MASTER_INFO_JSON_LABEL = 'json.info';
export const MASTER_INFO_LABEL = 'info';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * The legacy `MasterInfo.ip`: the IPv4 address's network-order bytes read as a
 * little-endian uint32 (what `in_addr.s_addr` holds on x86), e.g. 127.0.0.1 -> 16777343.
 */
export function ipToNetworkOrder(ip: string): number {
  const m = IPV4.exec(ip);
  if (!m) return 0;
  const b = m.slice(1, 5).map(Number);
  if (b.some((x) => x > 255)) return 0;
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

export function networkOrderToIp(n: number): string {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

export interface MasterInfoFields {
  id: string;
  /** IPv4 address the master is reachable at. */
  ip: string;
  port: number;
  hostname?: string;
  version?: string;
  capabilities?: string[];
  domain?: Msg;
}

/** MasterInfo the way a Mesos master fills it in. */
export function createMasterInfo(f: MasterInfoFields): MasterInfo {
  const hostname = f.hostname ?? f.ip;
  const info: MasterInfo = {
    id: f.id,
    ip: ipToNetworkOrder(f.ip),
    port: f.port,
    pid: `master@${f.ip}:${f.port}`,
    hostname,
    version: f.version ?? MESOS_VERSION,
    address: { hostname, ip: f.ip, port: f.port },
  };
  if (f.domain) info.domain = f.domain;
  info.capabilities = (f.capabilities ?? ['AGENT_UPDATE', 'AGENT_DRAINING', 'QUOTA_V2']).map((type) => ({ type }));
  return info;
}

/** MasterInfo for a master known only by its UPID (`master@ip:port`), as old detectors did. */
export function masterInfoFromPid(pid: string, id = pid): MasterInfo {
  const upid = parseUpid(pid);
  return {
    id,
    ip: ipToNetworkOrder(upid.ip),
    port: upid.port,
    pid,
    hostname: upid.ip,
    version: MESOS_VERSION,
    address: { hostname: upid.ip, ip: upid.ip, port: upid.port },
  };
}

/** The `json.info_` znode body: Mesos JSON of MasterInfo. */
export function encodeMasterInfoJson(info: MasterInfo): Buffer {
  return Buffer.from(encodeJson('mesos.v1.MasterInfo', info), 'utf8');
}

export class MasterInfoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterInfoError';
  }
}

/** Reads a member's data according to its label (json.info, info, or none = plain UPID). */
export function decodeMasterInfo(label: string | undefined, data: Buffer, sequence: number): MasterInfo {
  try {
    if (label === undefined) return masterInfoFromPid(data.toString('utf8').trim(), `${data.toString('utf8').trim()}-${sequence}`);
    if (label === MASTER_INFO_LABEL) return decodeProto('mesos.v1.MasterInfo', data);
    if (label === MASTER_INFO_JSON_LABEL) return fromJson('mesos.v1.MasterInfo', JSON.parse(data.toString('utf8')));
  } catch (e) {
    throw new MasterInfoError(`Failed to parse the data of the leading master (label '${label ?? ''}'): ${(e as Error).message}`);
  }
  throw new MasterInfoError(`Failed to parse data of unknown label '${label}'`);
}

/** Same master, same advertised info. */
export function sameMasterInfo(a: MasterInfo | undefined, b: MasterInfo | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return encodeJson('mesos.v1.MasterInfo', a) === encodeJson('mesos.v1.MasterInfo', b);
}

/** `host:port` of a MasterInfo (address first, then the pid), for redirects and clients. */
export function masterAddress(info: MasterInfo): { host: string; port: number } {
  const port = Number(info.address?.port ?? info.port);
  const host = info.address?.hostname || info.hostname || info.address?.ip || networkOrderToIp(Number(info.ip));
  return { host, port };
}
