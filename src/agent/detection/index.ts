// Following the leading master (FT-01) for an agent whose --master is `zk://...` or `file://...`:
// a detector watches the group and each change of leader is handed to the agent, which then
// (re-)registers with the new master. A plain `host:port` master needs none of this.
import type { Clock } from '../../common/clock.js';
import { logger } from '../../common/log.js';
import { createDetector, type MasterDetector, type MasterInfo, networkOrderToIp } from '../../master/election/index.js';
import { formatAddress } from '../../transport/upid.js';
import { isZkUrl, parseZkUrl, readFileValue } from '../../zookeeper/index.js';

const log = logger('agent');

/** True when --master names a detector source rather than one master. */
export function needsDetection(masterFlag: string): boolean {
  const text = masterFlag.trim();
  return text.startsWith('zk://') || text.startsWith('file://');
}

/** The `master@ip:port` pid to talk to for a detected MasterInfo. */
export function leaderPid(info: MasterInfo): string | undefined {
  if (typeof info.pid === 'string' && info.pid.includes('@')) return info.pid;
  const ip = info.address?.ip ?? (typeof info.ip === 'number' ? networkOrderToIp(info.ip) : undefined);
  const port = info.address?.port ?? info.port;
  if (!ip || !port) return undefined;
  return `master@${formatAddress(ip, Number(port))}`;
}

/**
 * An IP that says which network the masters are on, for choosing the agent's advertised IP
 * before any master is known: the first ZooKeeper server (or the file's master).
 */
export function masterHostHint(masterFlag: string): string {
  let text = masterFlag.trim();
  if (text.startsWith('file://')) text = readFileValue(text);
  if (isZkUrl(text)) return parseZkUrl(text).servers[0]?.host ?? '0.0.0.0';
  const address = text.slice(text.indexOf('@') + 1);
  return address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
}

export interface LeaderFollower {
  readonly detector: MasterDetector;
  close(): void;
}

/** Anything that can be told about a new leading master (the Agent, emulated agents). */
export interface MasterListener {
  newMasterDetected(pid: string | undefined): void;
}

/**
 * Creates the detector for `masterFlag` and forwards every change of leader to `target`
 * (undefined while no master leads). Throws for a value no detector understands.
 */
export function followLeader(masterFlag: string, target: MasterListener, opts: { clock?: Clock; sessionTimeoutMs?: number } = {}): LeaderFollower {
  const detector = createDetector(masterFlag, { clock: opts.clock, sessionTimeoutMs: opts.sessionTimeoutMs });
  let closed = false;
  let told: string | undefined | null = null;
  const tell = (leader: MasterInfo | undefined) => {
    if (closed) return;
    const pid = leader ? leaderPid(leader) : undefined;
    if (leader && !pid) log.warn('Detected a leading master without an address; waiting for another');
    // detect() and onChange may both report the first leader.
    if (pid === told) return;
    told = pid;
    target.newMasterDetected(pid);
  };
  detector.onChange(tell);
  // The first answer (the listener only hears changes after it).
  detector.detect().then(tell, (e: Error) => {
    if (!closed) log.warn(`Master detection failed: ${e.message}`);
  });
  return {
    detector,
    close() {
      closed = true;
      detector.close();
    },
  };
}
