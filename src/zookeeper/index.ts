// ZooKeeper for Meseta: the ZkClient seam, its wire client and in-memory twin, URLs.
import type { Clock } from '../common/clock.js';
import { WireZkClient } from './client.js';
import type { ZkClient } from './types.js';
import type { ZkUrl } from './url.js';

export * from './types.js';
export * from './errors.js';
export { WireZkClient, MAX_PACKET_BYTES, parseServers, type ZkServerAddress, type ZkAuth, type WireZkClientOptions } from './client.js';
export { InMemoryZk, InMemoryZkClient, MAX_DATA_BYTES } from './memory.js';
export { parseZkUrl, formatZkUrl, isZkUrl, readFileValue, ZkUrlError, type ZkUrl } from './url.js';
export { mkdirp, joinPath, basename, parentOf } from './util.js';

/** Opens a session on the ensemble named by a parsed --zk URL. */
export function connectZk(url: ZkUrl, opts: { sessionTimeoutMs?: number; clock?: Clock } = {}): ZkClient {
  return new WireZkClient({ servers: url.servers, auth: url.auth, sessionTimeoutMs: opts.sessionTimeoutMs, clock: opts.clock });
}
