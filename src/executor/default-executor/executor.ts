// The default executor (CMP-10): a v1 HTTP executor that runs every task of every task group
// in a nested container of its own container, launched through the agent operator API.
//
// Group rule: a task that does not finish successfully (fails, is killed, cannot launch) takes
// its whole group down: the other tasks are killed (their kill policy: SIGTERM, SIGKILL after
// the grace period) and end TASK_KILLED. The executor exits once no task is active and every
// status update was acknowledged.
import type { Clock, TimerHandle } from '../../common/clock.js';
import { uuidBytes, uuidString } from '../../common/ids.js';
import { logger } from '../../common/log.js';
import type { Msg } from '../../protocol/codec.js';
import { describeStatus } from '../../agent/containerizer/wait-status.js';
import { DEFAULT_KILL_GRACE_MS, durationMs, hasCapability } from '../kill-policy.js';
import { AgentHttpError, type AgentClient, type Subscription } from './agent-client.js';

const log = logger('default-executor');

/** How long a finished executor waits for its last acknowledgements before exiting anyway. */
const ACK_WAIT_MS = 10_000;
const SIGTERM = 15;
const SIGKILL = 9;

type Phase = 'LAUNCHING' | 'RUNNING' | 'DONE';

interface TaskRun {
  readonly task: Msg;
  readonly taskId: string;
  readonly containerId: Msg;
  readonly group: Group;
  phase: Phase;
  /** We asked it to die (KILL, SHUTDOWN or its group failing): its end is TASK_KILLED. */
  killing: boolean;
  killGraceMs?: number;
  escalation?: TimerHandle;
  /** Some status update of this task was acknowledged. */
  acked: boolean;
}

interface Group {
  readonly runs: TaskRun[];
  killing: boolean;
}

export interface DefaultExecutorOptions {
  client: AgentClient;
  clock: Clock;
  frameworkId: string;
  executorId: string;
  /** MESOS_CHECKPOINT: re-subscribe after a broken connection instead of shutting down. */
  checkpoint: boolean;
  recoveryTimeoutMs: number;
  subscriptionBackoffMaxMs: number;
  exit: (code: number) => void;
}

export class DefaultExecutor {
  private readonly client: AgentClient;
  private readonly clock: Clock;
  private readonly runs = new Map<string, TaskRun>();
  /** UPDATE calls not yet acknowledged, by uuid (hex). */
  private readonly unacked = new Map<string, Msg>();
  private subscription?: Subscription;
  private connected = false;
  private containerId?: Msg;
  private frameworkInfo: Msg = {};
  private shuttingDown = false;
  private exiting = false;
  private disconnectedAt?: number;
  private backoffMs = 0;
  private reconnectTimer?: TimerHandle;
  private ackTimer?: TimerHandle;
  private readonly fwId: Msg;
  private readonly exId: Msg;

  constructor(private readonly opts: DefaultExecutorOptions) {
    this.client = opts.client;
    this.clock = opts.clock;
    this.fwId = { value: opts.frameworkId };
    this.exId = { value: opts.executorId };
  }

  /** True while subscribed to the agent. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Status updates the agent has not acknowledged yet. */
  get unacknowledgedUpdates(): number {
    return this.unacked.size;
  }

  /** Subscribes; rejects if the very first subscription fails. */
  async start(): Promise<void> {
    await this.subscribe();
  }

  // ---- connection ----

  private async subscribe(): Promise<void> {
    const unackedTasks = [...this.runs.values()].filter((r) => !r.acked && r.phase !== 'DONE').map((r) => r.task);
    const call: Msg = {
      type: 'SUBSCRIBE',
      framework_id: this.fwId,
      executor_id: this.exId,
      subscribe: { unacknowledged_tasks: unackedTasks, unacknowledged_updates: [...this.unacked.values()].map((c) => c.update) },
    };
    this.subscription = await this.client.subscribe(
      call,
      (e) => this.onEvent(e),
      (why) => this.disconnected(why),
    );
  }

  private disconnected(why: string): void {
    this.connected = false;
    this.subscription = undefined;
    if (this.exiting) return;
    if (!this.opts.checkpoint) {
      // The agent destroys our nested containers with our own container.
      log.warn(`Disconnected from the agent (${why}); checkpointing is disabled, exiting`);
      this.finish(1);
      return;
    }
    log.warn(`Disconnected from the agent (${why}); re-subscribing`);
    this.disconnectedAt ??= this.clock.now();
    this.backoffMs = 0;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const max = Math.max(1, this.opts.subscriptionBackoffMaxMs);
    this.backoffMs = Math.min(max, this.backoffMs === 0 ? Math.min(max, 250) : this.backoffMs * 2);
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.disconnectedAt !== undefined && this.clock.now() - this.disconnectedAt > this.opts.recoveryTimeoutMs) {
        log.error('Could not re-subscribe within the recovery timeout; exiting');
        this.finish(1);
        return;
      }
      this.subscribe().catch((e: Error) => {
        log.warn(`Re-subscription failed: ${e.message}`);
        this.scheduleReconnect();
      });
    }, this.backoffMs);
  }

  // ---- events ----

  private onEvent(e: Msg): void {
    switch (e.type) {
      case 'SUBSCRIBED':
        this.connected = true;
        this.disconnectedAt = undefined;
        this.containerId = e.subscribed?.container_id;
        this.frameworkInfo = e.subscribed?.framework_info ?? {};
        log.info(`Subscribed to the agent; executor container ${this.containerId?.value}`);
        return;
      case 'LAUNCH_GROUP':
        void this.launchGroup((e.launch_group?.task_group?.tasks as Msg[] | undefined) ?? []);
        return;
      case 'LAUNCH':
        log.error(`LAUNCH is not supported by the default executor (task ${e.launch?.task?.task_id?.value}); use LAUNCH_GROUP`);
        return;
      case 'KILL':
        this.kill(String(e.kill?.task_id?.value ?? ''), e.kill?.kill_policy);
        return;
      case 'ACKNOWLEDGED':
        this.acknowledged(e.acknowledged);
        return;
      case 'SHUTDOWN':
        log.info('Received SHUTDOWN');
        this.shutdown();
        this.maybeFinish();
        return;
      case 'ERROR':
        log.error(`Error from the agent: ${e.error?.message}`);
        return;
      default:
        return; // HEARTBEAT, MESSAGE
    }
  }

  private acknowledged(ack: Msg | undefined): void {
    const uuid = Buffer.from(ack?.uuid ?? []).toString('hex');
    const call = this.unacked.get(uuid);
    if (!call) return;
    this.unacked.delete(uuid);
    const run = this.runs.get(String(ack?.task_id?.value ?? ''));
    if (run) run.acked = true;
    this.maybeFinish();
  }

  // ---- task groups ----

  private async launchGroup(tasks: Msg[]): Promise<void> {
    if (tasks.length === 0) return;
    const group: Group = { runs: [], killing: this.shuttingDown };
    for (const task of tasks) {
      const taskId = String(task.task_id?.value ?? '');
      const containerId: Msg = { value: uuidString(), parent: this.containerId };
      const run: TaskRun = { task, taskId, containerId, group, phase: 'LAUNCHING', killing: group.killing, acked: false };
      group.runs.push(run);
      this.runs.set(taskId, run);
    }
    if (this.shuttingDown) {
      for (const run of group.runs) this.done(run, 'TASK_KILLED', { message: 'Executor is shutting down' });
      return;
    }
    for (const run of group.runs) this.update(run, 'TASK_STARTING');
    const results = await Promise.allSettled(group.runs.map((run) => this.launchContainer(run)));
    let failed = false;
    results.forEach((r, i) => {
      const run = group.runs[i]!;
      if (r.status === 'rejected') {
        failed = true;
        const message = `Failed to launch container: ${(r.reason as Error)?.message ?? r.reason}`;
        log.warn(`Task ${run.taskId}: ${message}`);
        this.done(run, 'TASK_FAILED', { message, reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
        return;
      }
      run.phase = 'RUNNING';
      if (!run.killing) this.update(run, 'TASK_RUNNING');
      void this.waitContainer(run);
      // A kill that came while the container was launching is carried out now.
      if (run.killing) this.signal(run);
    });
    if (failed) this.killGroup(group);
    this.maybeFinish();
  }

  private async launchContainer(run: TaskRun): Promise<void> {
    const launch: Msg = { container_id: run.containerId, command: run.task.command ?? {} };
    if (run.task.container?.type === 'MESOS' || (run.task.container && run.task.container.type === undefined)) launch.container = run.task.container;
    await this.client.operatorCall({ type: 'LAUNCH_CONTAINER', launch_container: launch });
    log.info(`Launched task ${run.taskId} in nested container ${run.containerId.value}`);
  }

  private async waitContainer(run: TaskRun): Promise<void> {
    for (;;) {
      try {
        const r = await this.client.operatorCall({ type: 'WAIT_CONTAINER', wait_container: { container_id: run.containerId } }, { long: true });
        this.waited(run, r.response?.wait_container ?? {});
        return;
      } catch (e) {
        if (e instanceof AgentHttpError && e.status === 404) {
          this.waited(run, { message: 'Container is gone' });
          return;
        }
        if (this.exiting || run.phase === 'DONE') return;
        // The agent is unreachable for now: ask again shortly.
        await new Promise<void>((r) => this.clock.setTimeout(r, 1_000));
      }
    }
  }

  /** A task's container ended: its terminal update, and the group rule. */
  private waited(run: TaskRun, wait: Msg): void {
    if (run.phase === 'DONE') return;
    this.clock.clearTimeout(run.escalation);
    const status = typeof wait.exit_status === 'number' ? wait.exit_status : undefined;
    if (run.killing) {
      this.done(run, 'TASK_KILLED', { message: status === undefined ? 'Task killed' : `Command ${describeStatus(status)}` });
    } else if (wait.reason !== undefined || wait.state !== undefined) {
      const extra: Msg = { message: String(wait.message ?? 'Container limitation') };
      if (wait.reason) extra.reason = wait.reason;
      if (wait.limitation) extra.limitation = wait.limitation;
      this.done(run, wait.state ?? 'TASK_FAILED', extra);
    } else if (status === 0) {
      this.done(run, 'TASK_FINISHED', { message: 'Command exited with status 0' });
    } else {
      this.done(run, 'TASK_FAILED', { message: status === undefined ? String(wait.message ?? 'Unknown exit status') : `Command ${describeStatus(status)}` });
    }
    const finished = !run.killing && status === 0 && wait.reason === undefined && wait.state === undefined;
    if (!finished && !run.group.killing) {
      log.info(`Task ${run.taskId} did not finish successfully; killing the rest of its group`);
      this.killGroup(run.group);
    }
    this.maybeFinish();
  }

  private done(run: TaskRun, state: string, extra: Msg = {}): void {
    if (run.phase === 'DONE') return;
    run.phase = 'DONE';
    this.clock.clearTimeout(run.escalation);
    this.update(run, state, extra);
  }

  // ---- kills ----

  /** KILL of one task: it and, by the group rule, the rest of its group are killed. */
  private kill(taskId: string, killPolicy: Msg | undefined): void {
    const run = this.runs.get(taskId);
    if (!run || run.phase === 'DONE') {
      log.warn(`Ignoring kill of unknown or finished task ${taskId}`);
      return;
    }
    this.killRun(run, killPolicy);
    this.killGroup(run.group);
  }

  private killGroup(group: Group): void {
    group.killing = true;
    for (const run of group.runs) if (run.phase !== 'DONE' && !run.killing) this.killRun(run, undefined);
  }

  private killRun(run: TaskRun, killPolicy: Msg | undefined): void {
    if (run.killing) return;
    run.killing = true;
    const grace = durationMs(killPolicy?.grace_period) ?? durationMs(run.task.kill_policy?.grace_period);
    run.killGraceMs = grace !== undefined && grace >= 0 ? grace : DEFAULT_KILL_GRACE_MS;
    if (hasCapability(this.frameworkInfo, 'TASK_KILLING_STATE')) this.update(run, 'TASK_KILLING');
    if (run.phase === 'RUNNING') this.signal(run);
  }

  /** SIGTERM now, SIGKILL once the grace period is over (no grace: SIGKILL at once). */
  private signal(run: TaskRun): void {
    const grace = run.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const send = (signal: number) =>
      this.client
        .operatorCall({ type: 'KILL_CONTAINER', kill_container: { container_id: run.containerId, signal } })
        .catch((e: Error) => log.warn(`Failed to signal task ${run.taskId}: ${e.message}`));
    if (grace <= 0) {
      void send(SIGKILL);
      return;
    }
    void send(SIGTERM);
    run.escalation = this.clock.setTimeout(() => {
      run.escalation = undefined;
      if (run.phase !== 'DONE') void send(SIGKILL);
    }, grace);
  }

  private shutdown(): void {
    this.shuttingDown = true;
    for (const run of this.runs.values()) {
      if (run.phase === 'DONE') continue;
      this.killGroup(run.group);
    }
  }

  // ---- status updates ----

  private update(run: TaskRun, state: string, extra: Msg = {}): void {
    const uuid = uuidBytes();
    const status: Msg = {
      task_id: run.task.task_id,
      state,
      source: 'SOURCE_EXECUTOR',
      uuid,
      timestamp: this.clock.now() / 1000,
      executor_id: this.exId,
      container_status: { container_id: run.containerId },
      ...extra,
    };
    const call: Msg = { type: 'UPDATE', framework_id: this.fwId, executor_id: this.exId, update: { status } };
    this.unacked.set(uuid.toString('hex'), call);
    if (!this.connected) return; // resent with the next SUBSCRIBE
    this.client.executorCall(call).catch((e: Error) => log.warn(`Failed to send ${state} for task ${run.taskId}: ${e.message}`));
  }

  // ---- exiting ----

  private active(): boolean {
    for (const run of this.runs.values()) if (run.phase !== 'DONE') return true;
    return false;
  }

  /** Exits once no task is active (and we had work or were told to stop) and updates are acknowledged. */
  private maybeFinish(): void {
    if (this.exiting || this.active()) return;
    if (this.runs.size === 0 && !this.shuttingDown) return;
    if (this.unacked.size === 0) {
      this.finish(0);
      return;
    }
    this.ackTimer ??= this.clock.setTimeout(() => {
      log.warn(`Exiting with ${this.unacked.size} unacknowledged status updates`);
      this.finish(0);
    }, ACK_WAIT_MS);
  }

  private finish(code: number): void {
    if (this.exiting) return;
    this.exiting = true;
    this.clock.clearTimeout(this.reconnectTimer);
    this.clock.clearTimeout(this.ackTimer);
    if (code === 0) log.info('No active task groups left; exiting');
    this.subscription?.close();
    this.client.close();
    this.opts.exit(code);
  }
}
