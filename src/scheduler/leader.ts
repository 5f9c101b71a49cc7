// The leading master for a scheduler whose master is `zk://...` or `file://...` (FT-01): a
// detector watches the group; subscriptions go to whoever leads when they are opened.
import type { Clock } from '../common/clock.js';
import { createDetector, masterAddress, type MasterDetector, type MasterInfo } from '../master/election/index.js';
import { type Endpoint, SCHEDULER_PATH } from './address.js';

/** True for master values that need a detector (`zk://`, `file://`). */
export function isDetectedMaster(master: string): boolean {
  const text = master.trim();
  return text.startsWith('zk://') || text.startsWith('file://');
}

export function leaderEndpoint(info: MasterInfo, path = SCHEDULER_PATH): Endpoint {
  const { host, port } = masterAddress(info);
  return { host, port, path };
}

export class DetectedLeader {
  private readonly detector: MasterDetector;
  private leader: MasterInfo | undefined;

  constructor(master: string, opts: { clock?: Clock; sessionTimeoutMs?: number } = {}) {
    this.detector = createDetector(master, opts);
    this.detector.onChange((leader) => (this.leader = leader));
  }

  /** The current leader's scheduler endpoint; waits while no master leads. Rejects once closed. */
  async endpoint(path = SCHEDULER_PATH): Promise<Endpoint> {
    let leader = this.leader;
    if (!leader) {
      // The ZooKeeper client's retry timers are unref'ed; a CLI waiting only for a leader must not
      // see its process end meanwhile. This handle only keeps the event loop alive.
      const keepAlive = setInterval(() => undefined, 60_000);
      try {
        while (!leader) leader = await this.detector.detect(undefined);
      } finally {
        clearInterval(keepAlive);
      }
    }
    this.leader = leader;
    return leaderEndpoint(leader, path);
  }

  /** Called with the new leader's endpoint (undefined: none) on every change. */
  onChange(listener: (endpoint: Endpoint | undefined) => void, path = SCHEDULER_PATH): () => void {
    return this.detector.onChange((leader) => listener(leader ? leaderEndpoint(leader, path) : undefined));
  }

  close(): void {
    this.detector.close();
  }
}
