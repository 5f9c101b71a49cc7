// The built-in command executor (CMP-09), running inside the agent: one task, one container
// whose only process besides the task is a tiny /bin/sh supervisor (see containerizer/).
//
// Status updates follow Mesos's mesos-executor:
//   TASK_STARTING, then TASK_RUNNING once the task is forked (container_status.executor_pid is
//   the supervisor's pid); on exit TASK_FINISHED (status 0) or TASK_FAILED, message
//   "Command exited with status N" / "Command terminated with signal <strsignal>";
//   kill: TASK_KILLING first when the framework has TASK_KILLING_STATE, SIGTERM to the
//   container, SIGKILL after the grace period (KILL's kill_policy, else the task's, else 3 s;
//   a repeated kill may shorten the remaining grace, never extend it), then TASK_KILLED;
//   max_completion_time: SIGTERM + SIGKILL at once, no TASK_KILLING, then TASK_FAILED with
//   REASON_MAX_COMPLETION_TIME_REACHED.
// Launch failures (the container could not be started) are reported the way Mesos's agent
// reports a failed executor container: TASK_FAILED, SOURCE_AGENT,
// REASON_CONTAINER_LAUNCH_FAILED, "Failed to launch container: <error>".
//
// Container limitations (an isolator's limit destroyed the container) end the task the way
// Mesos's agent reports them: TASK_FAILED, SOURCE_AGENT, the limitation's reason
// (REASON_CONTAINER_LIMITATION_MEMORY / _DISK) and message.
// Checks (AGT-06): TaskInfo.check results go out as TASK_RUNNING with check_status and
// REASON_TASK_CHECK_STATUS_UPDATED (every later update carries the latest check_status);
// TaskInfo.health_check results as TASK_RUNNING with `healthy` and
// REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; a task that fails `consecutive_failures` health
// checks is killed with its kill policy and its TASK_KILLED carries healthy=false.
//
// Changes against the sketch in the issue: unacknowledged() and resend() were added for
// re-sending; onTerminated() is called after the container has been destroyed (cleaned up);
// `user` for the task is CommandInfo.user, else FrameworkInfo.user (switched only when the agent
// runs as root, and not at all with `switchUser: false`, i.e. --switch_user=false).
import type { Clock, TimerHandle } from '../common/clock.js';
import { uuidBytes } from '../common/ids.js';
import { logger } from '../common/log.js';
import type { Msg } from '../protocol/codec.js';
import { describeStatus, runAsUserPrefix, type Containerizer, type Termination } from '../agent/containerizer/index.js';
import { Checker, HealthChecker, initialCheckStatus } from './checks/index.js';
import { taskEnvironment } from './environment.js';
import { DEFAULT_KILL_GRACE_MS, durationMs, hasCapability } from './kill-policy.js';

export { DEFAULT_KILL_GRACE_MS, durationMs } from './kill-policy.js';

const log = logger('command-executor');

/** --executor_shutdown_grace_period's default. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5000;
/** process::MAX_REAP_INTERVAL() + 1 s: what shutdown leaves to the agent for the forced kill. */
const SHUTDOWN_RESERVE_MS = 2000;

export interface CommandExecutorOptions {
  task: Msg;
  executorInfo: Msg;
  frameworkInfo: Msg;
  agentId: string;
  containerId: string;
  sandbox: string;
  /** Executor environment computed by the agent (MESOS_* and --executor_environment_variables). */
  env: Record<string, string>;
  containerizer: Containerizer;
  clock: Clock;
  sendUpdate: (status: Msg) => void;
  onTerminated: () => void;
  /** --switch_user (default true): run the task as CommandInfo.user / FrameworkInfo.user. */
  switchUser?: boolean;
}

type Phase = 'new' | 'launching' | 'running' | 'terminated';

export class CommandExecutor {
  private phase: Phase = 'new';
  private supervisorPid?: number;
  private killed = false;
  private killedByMaxCompletion = false;
  /** Grace asked for while the task was still being launched. */
  private pendingKillGrace?: number;
  private killStartedAt = 0;
  private killDeadline = 0;
  private killTimer?: TimerHandle;
  private completionTimer?: TimerHandle;
  private readonly pending = new Map<string, Msg>();
  private checker?: Checker;
  private healthChecker?: HealthChecker;
  /** Latest CheckStatusInfo (tasks with a check only). */
  private checkStatus?: Msg;
  /** The task was killed because its health checks failed. */
  private killedUnhealthy = false;

  constructor(private readonly opts: CommandExecutorOptions) {}

  get pid(): number | undefined {
    return this.supervisorPid;
  }

  get terminated(): boolean {
    return this.phase === 'terminated';
  }

  start(): void {
    if (this.phase !== 'new') return;
    this.phase = 'launching';
    const { task } = this.opts;
    this.update('TASK_STARTING');

    const completion = durationMs(task.max_completion_time);
    if (completion !== undefined && completion > 0) {
      this.completionTimer = this.opts.clock.setTimeout(() => this.completionTimedOut(), completion);
    }

    const command: Msg = { ...(task.command ?? {}) };
    delete command.environment; // already merged into the environment, with Mesos's precedence
    const user = this.taskUser();
    this.opts.containerizer
      .launch({
        containerId: this.opts.containerId,
        sandbox: this.opts.sandbox,
        command,
        env: taskEnvironment(task, this.opts.env, this.opts.sandbox),
        // The container's limits: the task's resources plus the executor's own.
        resources: [...((task.resources as Msg[] | undefined) ?? []), ...((this.opts.executorInfo.resources as Msg[] | undefined) ?? [])],
        ...(user ? { user } : {}),
      })
      .then(
        ({ pid }) => this.launched(pid),
        (e: Error) => this.launchFailed(e),
      );
  }

  /** KILL from the framework; `killPolicy` (from the KILL) overrides the task's. */
  kill(killPolicy?: Msg): void {
    const grace =
      durationMs(killPolicy?.grace_period) ?? durationMs(this.opts.task.kill_policy?.grace_period) ?? DEFAULT_KILL_GRACE_MS;
    this.killWithGrace(grace);
  }

  /** Executor shutdown: kill the task within the executor's shutdown grace period. */
  shutdown(): void {
    const total = durationMs(this.opts.executorInfo.shutdown_grace_period) ?? DEFAULT_SHUTDOWN_GRACE_MS;
    if (this.phase === 'new') {
      this.phase = 'terminated';
      this.opts.onTerminated();
      return;
    }
    this.killWithGrace(Math.max(0, total - SHUTDOWN_RESERVE_MS));
  }

  acknowledged(uuid: Buffer): void {
    this.pending.delete(Buffer.from(uuid).toString('hex'));
  }

  /** Updates sent and not yet acknowledged, oldest first. */
  unacknowledged(): Msg[] {
    return [...this.pending.values()];
  }

  /** Sends every unacknowledged update again (e.g. after the agent re-registered). */
  resend(): void {
    for (const status of this.pending.values()) this.opts.sendUpdate(status);
  }

  private launched(pid: number): void {
    this.supervisorPid = pid;
    if (this.phase !== 'launching') return;
    this.phase = 'running';
    log.info(`Forked command of task ${this.taskIdValue()} under supervisor ${pid}`);
    this.opts.containerizer.wait(this.opts.containerId).then(
      (t) => this.reaped(t),
      (e: Error) => this.finish('TASK_FAILED', `Failed to get exit status for Command: ${e.message}`),
    );
    const { task } = this.opts;
    if (task.check) this.checkStatus = initialCheckStatus(task.check);
    this.update('TASK_RUNNING', { executorPid: pid });
    if (this.pendingKillGrace !== undefined) {
      const grace = this.pendingKillGrace;
      this.pendingKillGrace = undefined;
      this.killWithGrace(grace);
      return;
    }
    this.startChecks();
  }

  /** CommandInfo.user, else FrameworkInfo.user; none with --switch_user=false. */
  private taskUser(): string | undefined {
    if (this.opts.switchUser === false) return undefined;
    const { task, frameworkInfo } = this.opts;
    return ((task.command?.user as string | undefined) ?? (frameworkInfo.user as string | undefined)) || undefined;
  }

  private startChecks(): void {
    const { task, clock, sandbox } = this.opts;
    const env = taskEnvironment(task, this.opts.env, sandbox);
    // COMMAND checks run where Mesos's executor runs them: inside the container (its cgroups and
    // namespaces), as the task's user.
    let launchPrefix = this.opts.containerizer.helperPrefix(this.opts.containerId);
    if (launchPrefix.length === 0) {
      try {
        launchPrefix = runAsUserPrefix(this.taskUser());
      } catch {
        // The launch already switched to this user; a lookup failing now leaves checks as they are.
      }
    }
    const prefix = launchPrefix.length > 0 ? { launchPrefix } : {};
    if (task.check) {
      this.checker = new Checker(task.check, {
        clock,
        env,
        cwd: sandbox,
        ...prefix,
        onCheckStatus: (status) => {
          if (this.phase !== 'running' || this.killed) return;
          this.checkStatus = status;
          this.update('TASK_RUNNING', { reason: 'REASON_TASK_CHECK_STATUS_UPDATED' });
        },
      });
      this.checker.start();
    }
    if (task.health_check) {
      this.healthChecker = new HealthChecker(task.health_check, {
        clock,
        env,
        cwd: sandbox,
        ...prefix,
        onHealthChanged: (change) => {
          if (this.phase !== 'running' || this.killed) return;
          this.update('TASK_RUNNING', { reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', healthy: change.healthy });
        },
        onUnhealthyKill: () => {
          if (this.phase !== 'running' || this.killed) return;
          log.info(`Killing task ${this.taskIdValue()}: it failed ${task.health_check.consecutive_failures ?? 3} health checks in a row`);
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

  private launchFailed(e: Error): void {
    if (this.phase !== 'launching') return;
    this.phase = 'terminated';
    this.clearTimers();
    this.update('TASK_FAILED', {
      message: `Failed to launch container: ${e.message}`,
      reason: 'REASON_CONTAINER_LAUNCH_FAILED',
      source: 'SOURCE_AGENT',
    });
    this.opts.containerizer.destroy(this.opts.containerId).finally(() => this.opts.onTerminated());
  }

  private killWithGrace(graceMs: number): void {
    const grace = Math.max(0, graceMs);
    switch (this.phase) {
      case 'terminated':
        return;
      case 'new':
        // Never launched: nothing to signal.
        this.phase = 'terminated';
        this.update('TASK_KILLED', { message: 'Task killed before it was launched' });
        this.opts.onTerminated();
        return;
      case 'launching':
        this.pendingKillGrace = Math.min(this.pendingKillGrace ?? Infinity, grace);
        return;
      case 'running':
        break;
    }
    const now = this.opts.clock.now();
    if (this.killed) {
      // A repeated kill may bring the SIGKILL forward, never push it back.
      if (this.killStartedAt + grace >= this.killDeadline) return;
      this.killDeadline = this.killStartedAt + grace;
      this.opts.clock.clearTimeout(this.killTimer);
      this.scheduleEscalation(Math.max(0, this.killDeadline - now));
      return;
    }
    this.killed = true;
    this.stopChecks();
    this.opts.clock.clearTimeout(this.completionTimer);
    this.completionTimer = undefined;
    if (!this.killedByMaxCompletion && hasCapability(this.opts.frameworkInfo, 'TASK_KILLING_STATE')) {
      this.update('TASK_KILLING');
    }
    this.opts.containerizer.kill(this.opts.containerId, 'SIGTERM');
    this.killStartedAt = now;
    this.killDeadline = now + grace;
    this.scheduleEscalation(grace);
  }

  private scheduleEscalation(ms: number): void {
    if (ms <= 0) {
      this.escalate();
      return;
    }
    this.killTimer = this.opts.clock.setTimeout(() => {
      this.killTimer = undefined;
      this.escalate();
    }, ms);
  }

  private escalate(): void {
    if (this.phase !== 'running') return;
    log.info(`Task ${this.taskIdValue()} did not terminate in time; sending SIGKILL`);
    this.opts.containerizer.kill(this.opts.containerId, 'SIGKILL');
  }

  private completionTimedOut(): void {
    this.completionTimer = undefined;
    if (this.phase === 'terminated' || this.killed) return;
    log.info(`Killing task ${this.taskIdValue()}: it exceeded its max_completion_time`);
    this.killedByMaxCompletion = true;
    if (this.phase === 'launching') {
      this.pendingKillGrace = 0;
      return;
    }
    this.killWithGrace(0);
  }

  private reaped(t: Termination): void {
    if (t.limitation) {
      // The agent's view (Mesos sends this from the agent, not the executor).
      this.finish('TASK_FAILED', t.limitation.message, t.limitation.reason, 'SOURCE_AGENT');
      return;
    }
    let state: string;
    let reason: string | undefined;
    if (this.killedByMaxCompletion) {
      state = 'TASK_FAILED';
      reason = 'REASON_MAX_COMPLETION_TIME_REACHED';
    } else if (this.killed) {
      state = 'TASK_KILLED';
    } else if (t.status === 0) {
      state = 'TASK_FINISHED';
    } else {
      state = 'TASK_FAILED';
    }
    this.finish(state, `Command ${describeStatus(t.status)}`, reason);
  }

  private finish(state: string, message: string, reason?: string, source?: string): void {
    if (this.phase === 'terminated') return;
    this.phase = 'terminated';
    this.clearTimers();
    this.update(state, {
      message,
      ...(reason ? { reason } : {}),
      ...(source ? { source } : {}),
      ...(this.killedUnhealthy ? { healthy: false } : {}),
    });
    this.opts.containerizer.destroy(this.opts.containerId).finally(() => this.opts.onTerminated());
  }

  private clearTimers(): void {
    this.stopChecks();
    this.opts.clock.clearTimeout(this.killTimer);
    this.opts.clock.clearTimeout(this.completionTimer);
    this.killTimer = undefined;
    this.completionTimer = undefined;
  }

  private taskIdValue(): string {
    return String(this.opts.task.task_id?.value ?? '');
  }

  private update(
    state: string,
    extra: { message?: string; reason?: string; source?: string; executorPid?: number; healthy?: boolean } = {},
  ): void {
    const uuid = uuidBytes();
    const status: Msg = {
      task_id: { value: this.taskIdValue() },
      state,
      source: extra.source ?? 'SOURCE_EXECUTOR',
      uuid,
      timestamp: this.opts.clock.now() / 1000,
      agent_id: { value: this.opts.agentId },
      executor_id: this.opts.executorInfo.executor_id ?? { value: this.taskIdValue() },
    };
    if (extra.message !== undefined) status.message = extra.message;
    if (extra.reason !== undefined) status.reason = extra.reason;
    if (extra.healthy !== undefined) status.healthy = extra.healthy;
    // With a check, every update carries the latest check_status (empty before the first result).
    if (this.checkStatus) status.check_status = this.checkStatus;
    status.container_status = { container_id: { value: this.opts.containerId } };
    if (extra.executorPid !== undefined) status.container_status.executor_pid = extra.executorPid;
    this.pending.set(uuid.toString('hex'), status);
    this.opts.sendUpdate(status);
  }
}
