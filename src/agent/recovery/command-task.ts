// A command task whose supervisor outlived the agent. The in-agent command executor died with the
// old agent process; this stand-in only watches the re-adopted container (containerizer/recover.ts),
// kills it when asked, and reports how the task ended, the way the command executor would have.
import type { Clock, TimerHandle } from '../../common/clock.js';
import { uuidBytes } from '../../common/ids.js';
import { describeStatus, type Containerizer, type Termination } from '../containerizer/index.js';
import type { CommandExecutorSeam } from '../seams.js';
import type { Msg } from '../types.js';
import { DEFAULT_KILL_GRACE_MS, DEFAULT_SHUTDOWN_GRACE_MS, durationMs } from '../../executor/command-executor.js';
import { hasCapability } from '../../executor/kill-policy.js';
import { Checker, HealthChecker, initialCheckStatus } from '../../executor/checks/index.js';

export interface RecoveredCommandTaskOptions {
  /** The checkpointed v1 Task. */
  task: Msg;
  executorInfo: Msg;
  frameworkInfo: Msg;
  agentId: string;
  containerId: string;
  containerizer: Containerizer;
  clock: Clock;
  /** The task already reached a terminal state before the agent died: report nothing more. */
  terminal: boolean;
  /** The task was being killed when the agent died: the kill (and its escalation) starts over. */
  killing?: boolean;
  /** The task's environment and sandbox: its check and health check run again from here. */
  env: Record<string, string>;
  sandbox: string;
  /** The last check_status the task reported (checks resume from it). */
  checkStatus?: Msg;
  sendUpdate: (status: Msg) => void;
  onTerminated: () => void;
}

export class RecoveredCommandTask implements CommandExecutorSeam {
  private killed = false;
  private done = false;
  private killTimer?: TimerHandle;
  private checker?: Checker;
  private healthChecker?: HealthChecker;
  private checkStatus?: Msg;
  private killedUnhealthy = false;

  constructor(private readonly opts: RecoveredCommandTaskOptions) {}

  start(): void {
    this.opts.containerizer.wait(this.opts.containerId).then(
      (t) => this.reaped(t),
      (e: Error) => this.finish('TASK_FAILED', `Failed to get exit status for Command: ${e.message}`),
    );
    if (this.opts.killing && !this.opts.terminal) {
      this.killWithGrace(durationMs(this.opts.task.kill_policy?.grace_period) ?? DEFAULT_KILL_GRACE_MS, false);
      return;
    }
    if (!this.opts.terminal) this.startChecks();
  }

  /** The old agent's command executor ran the task's checks; they start over here. */
  private startChecks(): void {
    const { task, clock, env, sandbox } = this.opts;
    const prefix = this.opts.containerizer.helperPrefix(this.opts.containerId);
    const common = { clock, env, cwd: sandbox, ...(prefix.length > 0 ? { launchPrefix: prefix } : {}) };
    if (task.check) {
      this.checkStatus = this.opts.checkStatus ?? initialCheckStatus(task.check);
      this.checker = new Checker(task.check, {
        ...common,
        onCheckStatus: (status) => {
          if (this.done || this.killed) return;
          this.checkStatus = status;
          this.update('TASK_RUNNING', undefined, 'REASON_TASK_CHECK_STATUS_UPDATED');
        },
      });
      this.checker.start();
    }
    if (task.health_check) {
      this.healthChecker = new HealthChecker(task.health_check, {
        ...common,
        onHealthChanged: (change) => {
          if (this.done || this.killed) return;
          this.update('TASK_RUNNING', undefined, 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', undefined, change.healthy);
        },
        onUnhealthyKill: () => {
          if (this.done || this.killed) return;
          this.killedUnhealthy = true;
          this.kill();
        },
      });
      this.healthChecker.start();
    }
  }

  private stopChecks(): void {
    this.checker?.stop();
    this.healthChecker?.stop();
  }

  kill(killPolicy?: Msg): void {
    this.killWithGrace(durationMs(killPolicy?.grace_period) ?? durationMs(this.opts.task.kill_policy?.grace_period) ?? DEFAULT_KILL_GRACE_MS);
  }

  shutdown(): void {
    this.killWithGrace(Math.max(0, (durationMs(this.opts.executorInfo.shutdown_grace_period) ?? DEFAULT_SHUTDOWN_GRACE_MS) - 2000));
  }

  acknowledged(): void {}

  private killWithGrace(graceMs: number, announce = true): void {
    if (this.done || this.killed) return;
    this.killed = true;
    this.stopChecks();
    if (announce && !this.opts.terminal && hasCapability(this.opts.frameworkInfo, 'TASK_KILLING_STATE')) this.update('TASK_KILLING');
    this.opts.containerizer.kill(this.opts.containerId, 'SIGTERM');
    this.killTimer = this.opts.clock.setTimeout(() => {
      this.killTimer = undefined;
      this.opts.containerizer.kill(this.opts.containerId, 'SIGKILL');
    }, graceMs);
  }

  private reaped(t: Termination): void {
    if (t.limitation) {
      this.finish('TASK_FAILED', t.limitation.message, t.limitation.reason, 'SOURCE_AGENT');
      return;
    }
    const state = this.killed ? 'TASK_KILLED' : t.status === 0 ? 'TASK_FINISHED' : 'TASK_FAILED';
    this.finish(state, `Command ${describeStatus(t.status)}`);
  }

  private finish(state: string, message: string, reason?: string, source?: string): void {
    if (this.done) return;
    this.done = true;
    this.stopChecks();
    this.opts.clock.clearTimeout(this.killTimer);
    if (!this.opts.terminal) this.update(state, message, reason, source, this.killedUnhealthy ? false : undefined);
    this.opts.containerizer.destroy(this.opts.containerId).finally(() => this.opts.onTerminated());
  }

  private update(state: string, message?: string, reason?: string, source?: string, healthy?: boolean): void {
    const taskId = this.opts.task.task_id;
    const status: Msg = {
      task_id: taskId,
      state,
      source: source ?? 'SOURCE_EXECUTOR',
      uuid: uuidBytes(),
      timestamp: this.opts.clock.now() / 1000,
      agent_id: { value: this.opts.agentId },
      executor_id: this.opts.executorInfo.executor_id,
      container_status: { container_id: { value: this.opts.containerId } },
    };
    if (message !== undefined) status.message = message;
    if (reason !== undefined) status.reason = reason;
    if (healthy !== undefined) status.healthy = healthy;
    // With a check, every update carries the latest check_status, as the command executor's do.
    if (this.checkStatus) status.check_status = this.checkStatus;
    this.opts.sendUpdate(status);
  }
}
