// Wiring help for a master with --zk: flag checks, one ZooKeeper session shared by the
// contender, the detector and the registry store, and where each lives in ZooKeeper.
import type { Clock } from '../../common/clock.js';
import { connectZk, joinPath, parseZkUrl, ZkUrlError, type ZkClient, type ZkUrl } from '../../zookeeper/index.js';
import { ZkRegistryStore } from '../registry/zk-store.js';
import { ZooKeeperMasterContender } from './contender.js';
import { ZooKeeperMasterDetector } from './detector.js';
import type { MasterInfo } from './master-info.js';

export class HaFlagsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HaFlagsError';
  }
}

export interface HaConfig {
  url: ZkUrl;
  sessionTimeoutMs: number;
  /** --quorum (kept for drop-in compatibility; the registry in ZooKeeper does not need it). */
  quorum?: number;
}

export interface HaFlagValues {
  zk?: string;
  quorum?: string | number;
  /** Milliseconds (the flag parser's duration value). */
  zk_session_timeout?: number;
  registry?: string;
}

/** Undefined without --zk (standalone master); throws HaFlagsError for bad or missing values. */
export function haConfigFromFlags(flags: HaFlagValues): HaConfig | undefined {
  if (flags.zk === undefined || flags.zk === '') return undefined;
  let url: ZkUrl;
  try {
    url = parseZkUrl(flags.zk);
  } catch (e) {
    if (e instanceof ZkUrlError) throw new HaFlagsError(`Error parsing ZooKeeper URL: ${e.message}`);
    throw e;
  }
  let quorum: number | undefined;
  if (flags.quorum !== undefined && flags.quorum !== '') {
    quorum = Number(flags.quorum);
    if (!Number.isInteger(quorum) || quorum < 1) throw new HaFlagsError(`Invalid --quorum '${flags.quorum}': expecting a positive integer`);
  } else if ((flags.registry ?? 'replicated_log') === 'replicated_log') {
    throw new HaFlagsError('Need to specify --quorum for replicated log based registry when using ZooKeeper');
  }
  const sessionTimeoutMs = flags.zk_session_timeout ?? 10_000;
  if (!(sessionTimeoutMs > 0)) throw new HaFlagsError('--zk_session_timeout must be positive');
  return { url, sessionTimeoutMs, quorum };
}

/** The registry's place: beside the group members, under a name no detector takes for one. */
export function registryPath(groupPath: string): string {
  return joinPath(groupPath, 'registry');
}

export interface MasterElection {
  client: ZkClient;
  contender: ZooKeeperMasterContender;
  detector: ZooKeeperMasterDetector;
  /** Writes only while this master's member node exists. */
  store: ZkRegistryStore;
  close(): Promise<void>;
}

/**
 * Everything a master needs for HA on one session. Call `contender.contend()` once the
 * master can serve; on `lost`, stop leading at once (exit, like Mesos) and never reuse this.
 */
export function createMasterElection(config: HaConfig, info: MasterInfo, opts: { clock?: Clock } = {}): MasterElection {
  const client = connectZk(config.url, { sessionTimeoutMs: config.sessionTimeoutMs, clock: opts.clock });
  const contender = new ZooKeeperMasterContender({ client, path: config.url.path, info, clock: opts.clock });
  const detector = new ZooKeeperMasterDetector({ client, path: config.url.path, clock: opts.clock });
  const store = new ZkRegistryStore({ client, path: registryPath(config.url.path), guard: () => (contender.state === 'elected' ? contender.nodePath : undefined) });
  return {
    client,
    contender,
    detector,
    store,
    async close() {
      detector.close();
      await contender.withdraw();
      await client.close();
    },
  };
}
