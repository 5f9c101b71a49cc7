// The agent's bookkeeping of frameworks, executors and tasks. Only the Agent mutates these; the
// HTTP endpoints read them.
import type { TimerHandle } from '../common/clock.js';
import { idValue, isTerminalState, type Msg } from './types.js';

/** Completed tasks kept per executor and completed executors per framework (AGT-04). */
export const MAX_COMPLETED_TASKS_PER_EXECUTOR = 200;
export const MAX_COMPLETED_FRAMEWORKS = 50;

export type ExecutorKind = 'command' | 'custom';
export type ExecutorPhase = 'REGISTERING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED';

/** What an executor's tasks become when it goes away; set by whoever decides to end it. */
export interface TerminationCause {
  state: string;
  reason: string;
  message: string;
}

/** The live side of an executor: the in-agent command executor or a subscribed v1 HTTP executor. */
export interface ExecutorChannel {
  subscribed(event: Msg): void;
  launch(task: Msg): void;
  launchGroup?(tasks: Msg[]): void;
  kill(taskId: Msg, killPolicy?: Msg): void;
  message(data: Buffer): void;
  acknowledged(taskId: Msg, uuid: Buffer): void;
  shutdown(): void;
  close(): void;
}

/** The v1 Task the agent tracks for a TaskInfo. */
export function createTask(taskInfo: Msg, frameworkId: Msg, agentId: string, state: string): Msg {
  const task: Msg = {
    name: taskInfo.name,
    task_id: taskInfo.task_id,
    framework_id: frameworkId,
    agent_id: { value: agentId },
    state,
    resources: taskInfo.resources ?? [],
    statuses: [],
  };
  // Command tasks have no executor of their own in the Task message (Mesos leaves it unset).
  if (taskInfo.executor) task.executor_id = taskInfo.executor.executor_id;
  for (const k of ['labels', 'discovery', 'container', 'health_check', 'check', 'kill_policy', 'limits']) {
    if (taskInfo[k] !== undefined) task[k] = taskInfo[k];
  }
  const user = taskInfo.command?.user ?? taskInfo.executor?.command?.user;
  if (user !== undefined) task.user = user;
  return task;
}

export class Executor {
  phase: ExecutorPhase = 'REGISTERING';
  /** Tasks waiting for the executor to subscribe, by task id. */
  readonly queuedTasks = new Map<string, Msg>();
  /** Tasks handed to the executor (v1 Task messages), by task id. */
  readonly launchedTasks = new Map<string, Msg>();
  /** Tasks in a terminal state whose terminal update the master has not acknowledged yet. */
  readonly terminatedTasks = new Map<string, Msg>();
  readonly completedTasks: Msg[] = [];
  /** Task groups (task ids) queued for LAUNCH_GROUP once the executor subscribes. */
  readonly pendingGroups: string[][] = [];
  channel?: ExecutorChannel;
  registrationTimer?: TimerHandle;
  shutdownTimer?: TimerHandle;
  termination?: TerminationCause;
  exitStatus?: number;
  readonly startedAt: number;

  constructor(
    readonly id: string,
    readonly frameworkId: string,
    readonly info: Msg,
    readonly containerId: string,
    readonly directory: string,
    readonly kind: ExecutorKind,
    now: number,
  ) {
    this.startedAt = now;
  }

  /** Starts tracking a TaskInfo as a launched (v1) Task. */
  addTask(taskInfo: Msg, frameworkId: Msg, agentId: string): Msg {
    const task = createTask(taskInfo, frameworkId, agentId, 'TASK_STAGING');
    this.queuedTasks.delete(idValue(taskInfo.task_id));
    this.launchedTasks.set(idValue(taskInfo.task_id), task);
    return task;
  }

  task(taskId: string): Msg | undefined {
    return this.launchedTasks.get(taskId) ?? this.terminatedTasks.get(taskId);
  }

  /**
   * Records a status on the task; terminal tasks move to terminatedTasks (a queued task that ends
   * before delivery becomes a Task there). Returns the task if known.
   */
  updateTaskState(status: Msg, frameworkId: Msg, agentId: string): Msg | undefined {
    const taskId = idValue(status.task_id);
    const terminal = isTerminalState(status.state);
    let task = this.task(taskId);
    const queued = this.queuedTasks.get(taskId);
    if (!task && queued && terminal) {
      task = createTask(queued, frameworkId, agentId, status.state);
      this.queuedTasks.delete(taskId);
      this.terminatedTasks.set(taskId, task);
    }
    if (!task) return undefined;
    task.state = status.state;
    const kept: Msg = { ...status };
    delete kept.data; // /state never shows status data
    task.statuses = [...(task.statuses ?? []), kept];
    if (terminal && this.launchedTasks.has(taskId)) {
      this.launchedTasks.delete(taskId);
      this.terminatedTasks.set(taskId, task);
    }
    return task;
  }

  /** The master acknowledged the task's terminal update: it is done. */
  completeTask(taskId: string): void {
    const task = this.terminatedTasks.get(taskId);
    if (!task) return;
    this.terminatedTasks.delete(taskId);
    this.completedTasks.push(task);
    if (this.completedTasks.length > MAX_COMPLETED_TASKS_PER_EXECUTOR) this.completedTasks.shift();
  }

  /** True while tasks are queued, running, or waiting for their terminal update to be acknowledged. */
  get hasIncompleteTasks(): boolean {
    return this.queuedTasks.size > 0 || this.launchedTasks.size > 0 || this.terminatedTasks.size > 0;
  }
}

export class Framework {
  readonly executors = new Map<string, Executor>();
  readonly completedExecutors: Executor[] = [];
  private readonly taskIndex = new Map<string, Executor>();
  /** Set once the master asked to shut the framework down. */
  terminating = false;

  constructor(
    readonly id: string,
    public info: Msg,
    public pid: string | undefined,
  ) {}

  /** The executor that holds a task (queued, launched, or terminal but unacknowledged). */
  executorOfTask(taskId: string): Executor | undefined {
    const e = this.taskIndex.get(taskId);
    if (e && (e.queuedTasks.has(taskId) || e.launchedTasks.has(taskId) || e.terminatedTasks.has(taskId))) return e;
    return undefined;
  }

  /** Records which executor a task went to; lookups stay O(1) with thousands of executors. */
  indexTask(taskId: string, executor: Executor): void {
    this.taskIndex.set(taskId, executor);
  }

  unindexTask(taskId: string, executor: Executor): void {
    if (this.taskIndex.get(taskId) === executor) this.taskIndex.delete(taskId);
  }

  completeExecutor(executor: Executor, maxCompleted: number): void {
    this.executors.delete(executor.id);
    for (const id of [...executor.queuedTasks.keys(), ...executor.launchedTasks.keys(), ...executor.terminatedTasks.keys()]) this.unindexTask(id, executor);
    for (const t of executor.completedTasks) this.unindexTask(idValue(t.task_id), executor);
    this.completedExecutors.push(executor);
    while (this.completedExecutors.length > maxCompleted) this.completedExecutors.shift();
  }

}
