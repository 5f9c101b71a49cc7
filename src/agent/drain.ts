// Agent draining (MNT-02): what a DrainSlaveMessage changes for kills and for terminal updates.
import type { Msg } from './types.js';

export class DrainState {
  constructor(
    readonly config: Msg,
    /** When draining started (ms since the epoch). */
    readonly since: number,
  ) {}

  /** The task's kill policy with its grace period capped by max_grace_period. */
  killPolicy(taskPolicy: Msg | undefined): Msg | undefined {
    const maxNs = this.config.max_grace_period?.nanoseconds as number | undefined;
    if (maxNs === undefined) return taskPolicy;
    const own = taskPolicy?.grace_period?.nanoseconds as number | undefined;
    return { grace_period: { nanoseconds: own === undefined ? maxNs : Math.min(own, maxNs) } };
  }

  /**
   * Rewrites a terminal status of a task that ends while the agent drains: reason
   * REASON_AGENT_DRAINING, and TASK_GONE_BY_OPERATOR with mark_gone for partition-aware
   * frameworks. Launches refused because of the drain already carry the reason and keep their state.
   */
  rewriteTerminal(status: Msg, partitionAware: boolean): void {
    if (status.reason === 'REASON_AGENT_DRAINING') return;
    status.reason = 'REASON_AGENT_DRAINING';
    if (this.config.mark_gone === true && partitionAware) status.state = 'TASK_GONE_BY_OPERATOR';
  }
}
