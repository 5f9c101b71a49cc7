// Deciding what an agent starting on an existing work_dir recovers (FT-05): read meta/, check the
// boot id and --reconfiguration_policy, and apply --strict to whatever could not be read.
import fs from 'node:fs';
import { logger } from '../../common/log.js';
import type { Msg } from '../../protocol/codec.js';
import { latestAgentLink, meta } from '../checkpoint/paths.js';
import { readCheckpoints, type AgentState } from '../checkpoint/reader.js';
import { incompatibility } from './compatibility.js';

export { currentBootId } from './boot-id.js';
export { RecoveredCommandTask } from './command-task.js';

const log = logger('recovery');

export class RecoveryError extends Error {
  override name = 'RecoveryError';
}

export interface RecoveryPlan {
  /** The checkpointed agent to continue as (absent: register as a new agent). */
  agent?: AgentState;
  /** meta/boot_id differs from the running kernel's: nothing the old agent started is alive. */
  rebooted: boolean;
  /** Checkpoints that could not be read and were skipped (--strict=false). */
  errors: number;
}

export interface PlanOptions {
  workDir: string;
  /** The AgentInfo built from this start's flags (no id). */
  info: Msg;
  bootId: string;
  strict: boolean;
  reconfigurationPolicy: string;
}

export function planRecovery(opts: PlanOptions): RecoveryPlan {
  const state = readCheckpoints(opts.workDir);
  if (state.errors.length > 0) {
    const text = state.errors.join('; ');
    if (opts.strict) throw new RecoveryError(`Recovery failed: ${text}. Restart with --strict=false to recover what can be read`);
    for (const e of state.errors) log.warn(`Recovery error (ignored, --strict=false): ${e}`);
  }
  const rebooted = state.bootId !== undefined && state.bootId !== opts.bootId;
  const errors = state.errors.length;
  if (!state.agent) return { rebooted, errors };
  const why = incompatibility(state.agent.info, opts.info, opts.reconfigurationPolicy);
  if (why) {
    const text =
      `Incompatible agent info detected (--reconfiguration_policy=${opts.reconfigurationPolicy}): ${why}. ` +
      `Either restore the previous flags, or remove ${latestAgentLink(opts.workDir)} to start as a new agent`;
    if (opts.strict) throw new RecoveryError(text);
    log.error(`${text}; continuing as a new agent (--strict=false)`);
    return { rebooted, errors: errors + 1 };
  }
  if (rebooted) log.warn(`The host rebooted since agent ${state.agent.id} checkpointed; its executors are gone`);
  return { agent: state.agent, rebooted, errors };
}

/** --recover=cleanup: once everything recovered is dead, the checkpoints go too. */
export function removeCheckpoints(workDir: string): void {
  fs.rmSync(meta(workDir), { recursive: true, force: true });
}
