// The agent state machine (CMP-04): registers with the master, turns RunTask/KillTask/Shutdown
// messages into executor work, and relays executor status updates reliably to the master.
import type { Clock } from '../common/clock.js';
import { uuidBytes, uuidString, validateIdValue } from '../common/ids.js';
import { logger } from '../common/log.js';
import type { Actor } from '../transport/libprocess.js';
import { formatUpid, type UPID } from '../transport/upid.js';
import { tryParseUpid } from '../transport/upid.js';
import { installDriverExecutors } from './driver-executors.js';
import { commandExecutorInfo, executorEnvironment, shutdownGracePeriodMs } from './executor-info.js';
import { defaultExecutorLaunch } from '../executor/default-executor/command.js';
import { DrainState } from './drain.js';
import { checkpointJournal } from './checkpoint/journal.js';
import { pendingUpdates, type AgentState } from './checkpoint/reader.js';
import { Checkpointer, type RunRef } from './checkpoint/writer.js';
import { ResourcesCheckpoint, applyCheckpointedResources } from './checkpoint/resources.js';
import { Resources } from '../resources/index.js';
import { executorMetaDir, frameworkMetaDir } from './checkpoint/paths.js';
import { RecoveredCommandTask } from './recovery/command-task.js';
import { taskEnvironment } from '../executor/environment.js';
import { GarbageCollector } from './gc.js';
import { commandChannel, reregistrationContents, statusUpdateOf } from './messages.js';
import { createExecutorSandbox, executorDir, executorRunDir, frameworkDir, latestRunVirtualPath } from './paths.js';
import { DEFAULT_TOTAL_PING_TIMEOUT_MS, RegistrationLoop } from './registration.js';
import type { CommandExecutorFactory, FilesSeam } from './seams.js';
import type { Containerizer } from './containerizer/index.js';
import { hasCapability } from '../executor/kill-policy.js';
import { createTask, Executor, Framework, MAX_COMPLETED_FRAMEWORKS, type ExecutorChannel, type TerminationCause } from './state.js';
import { TaskStatusUpdateManager } from './status-updates/manager.js';
import { idValue, isTerminalState, type Msg } from './types.js';

const log = logger('agent');

export const AGENT_VERSION = '1.11.0';

/** What this agent claims to support (AGT-01). */
export const AGENT_CAPABILITIES: Msg[] = [
  { type: 'MULTI_ROLE' },
  { type: 'HIERARCHICAL_ROLE' },
  { type: 'RESERVATION_REFINEMENT' },
  { type: 'AGENT_DRAINING' },
  { type: 'TASK_RESOURCE_LIMITS' },
];

export type AgentStatus = 'DISCONNECTED' | 'RUNNING' | 'TERMINATING';

export interface AgentConfig {
  workDir: string;
  launcherDir: string;
  executorRegistrationTimeoutMs: number;
  executorShutdownGracePeriodMs: number;
  executorReregistrationTimeoutMs: number;
  recoveryTimeoutMs: number;
  registrationBackoffFactorMs: number;
  httpCommandExecutor: boolean;
  switchUser: boolean;
  maxCompletedExecutorsPerFramework: number;
  /** The environment executors start from (--executor_environment_variables, else the agent's). */
  executorBaseEnv: Record<string, string>;
  gcDelayMs: number;
  gcDiskHeadroom: number;
  diskWatchIntervalMs: number;
}

export interface AgentOptions {
  clock: Clock;
  actor: Actor;
  masterPid: string;
  /** AgentInfo without an id: hostname, port, resources, attributes (domain). */
  info: Msg;
  /** `ip:port` executors use to reach the agent. */
  endpoint: string;
  config: AgentConfig;
  containerizer: Containerizer;
  createCommandExecutor: CommandExecutorFactory;
  files?: FilesSeam;
  /** The master told us to shut down (ShutdownMessage). */
  onShutdown?: (message: string) => void;
  random?: () => number;
  /** The running kernel's boot id, checkpointed for checkpointing frameworks (FT-05). */
  bootId?: string;
  /** Re-adopts a container a previous agent process launched (PosixContainerizer.adopt). */
  adoptContainer?: (containerId: string) => { running: boolean };
}

/** Cumulative counters for /metrics/snapshot. */
export interface AgentCounters {
  terminalTasks: Map<string, number>;
  validStatusUpdates: number;
  invalidStatusUpdates: number;
  validFrameworkMessages: number;
  invalidFrameworkMessages: number;
  executorsTerminated: number;
  /** Problems skipped while recovering with --strict=false (slave/recovery_errors). */
  recoveryErrors: number;
}

const M = (name: string) => `mesos.internal.${name}`;

export class Agent {
  readonly clock: Clock;
  readonly actor: Actor;
  readonly startTime: number;
  readonly config: AgentConfig;
  readonly counters: AgentCounters = {
    terminalTasks: new Map(),
    validStatusUpdates: 0,
    invalidStatusUpdates: 0,
    validFrameworkMessages: 0,
    invalidFrameworkMessages: 0,
    executorsTerminated: 0,
    recoveryErrors: 0,
  };
  readonly statusUpdates: TaskStatusUpdateManager;
  readonly gc: GarbageCollector;
  private readonly frameworkMap = new Map<string, Framework>();
  private readonly completed: Framework[] = [];
  private readonly registration: RegistrationLoop;
  private status: AgentStatus = 'DISCONNECTED';
  private id?: string;
  private masterPid: string;
  private masterUpid: UPID;
  private registeredOnce = false;
  private drain?: DrainState;
  /** Changes whenever the agent's total resources change (never, until operations exist). */
  private readonly resourceVersion = uuidBytes();
  private readonly containerizer: Containerizer;
  private readonly files?: FilesSeam;
  /** Waiters for executors to terminate (stop()). */
  private readonly terminationWaiters = new Map<Executor, Array<() => void>>();
  /** FT-05 checkpoints (written for frameworks with checkpoint=true only). */
  private readonly checkpoints: Checkpointer;
  /** Reservations and persistent volumes the master told this agent to checkpoint (any framework). */
  private readonly resourcesCheckpoint: ResourcesCheckpoint;
  private recoveringState = false;
  /** Recovered executors that have not re-subscribed yet (--executor_reregistration_timeout). */
  private readonly awaitingReregistration = new Set<Executor>();
  private reregistrationsDone?: () => void;
  /** Runs of recovered executors that had already ended, for their tasks' last acknowledgements. */
  private readonly finishedRuns = new Map<string, RunRef>();
  /** What was last checkpointed for each framework (framework.info + pid). */
  private readonly frameworkCheckpoints = new WeakMap<Framework, string>();
  /** abandon() was called: this agent acts as if its process had died. */
  private abandoned = false;
  /** False while a detector (--master=zk://) knows no leading master: nothing to register with. */
  private masterKnown = true;
  private startedRegistering = false;

  constructor(private readonly opts: AgentOptions) {
    this.clock = opts.clock;
    this.actor = opts.actor;
    this.config = opts.config;
    this.startTime = opts.clock.now();
    this.masterPid = opts.masterPid;
    // An empty pid: the master is found by a detector later (newMasterDetected).
    this.masterKnown = opts.masterPid !== '';
    const m = tryParseUpid(opts.masterPid || 'master@0.0.0.0:0');
    if (!m) throw new Error(`Malformed master pid '${opts.masterPid}'`);
    this.masterUpid = m;
    this.containerizer = opts.containerizer;
    this.files = opts.files;
    this.checkpoints = new Checkpointer(opts.config.workDir);
    this.resourcesCheckpoint = new ResourcesCheckpoint(opts.config.workDir);
    this.statusUpdates = new TaskStatusUpdateManager({
      clock: opts.clock,
      forward: (u) => this.forward(u),
      journal: checkpointJournal(this.checkpoints, (fwId, taskId) => this.runOf(fwId, taskId)),
    });
    this.statusUpdates.pause();
    this.gc = new GarbageCollector({
      clock: opts.clock,
      gcDelayMs: opts.config.gcDelayMs,
      diskHeadroom: opts.config.gcDiskHeadroom,
      diskWatchIntervalMs: opts.config.diskWatchIntervalMs,
      workDir: opts.config.workDir,
    });
    this.registration = new RegistrationLoop({
      clock: opts.clock,
      backoffFactorMs: opts.config.registrationBackoffFactorMs,
      attempt: () => this.attemptRegistration(),
      onPingTimeout: () => this.masterLost('no pings from the master'),
      random: opts.random,
    });
  }

  // ---- read-only views (endpoints) ----

  get agentId(): string | undefined {
    return this.id;
  }
  get state(): AgentStatus {
    return this.status;
  }
  get registered(): boolean {
    return this.status === 'RUNNING';
  }
  get master(): string {
    return this.masterPid;
  }
  get pid(): string {
    return this.actor.pid;
  }
  /** The AgentInfo as registered (id included once known). */
  get info(): Msg {
    const info: Msg = { ...this.opts.info };
    if (this.id) info.id = { value: this.id };
    return info;
  }
  get frameworks(): Iterable<Framework> {
    return this.frameworkMap.values();
  }
  get completedFrameworks(): readonly Framework[] {
    return this.completed;
  }
  framework(id: string): Framework | undefined {
    return this.frameworkMap.get(id);
  }
  /** Dynamic reservations and persistent volumes checkpointed on this agent (v1 Resources). */
  get checkpointedResources(): Msg[] {
    return this.resourcesCheckpoint.resources;
  }
  /** The static resources with the checkpointed reservations and volumes applied (/state). */
  get totalResources(): Resources {
    const total = Resources.fromProto(this.opts.info.resources ?? []);
    try {
      return applyCheckpointedResources(total, this.resourcesCheckpoint.resources);
    } catch {
      return total;
    }
  }

  // ---- lifecycle ----

  start(): void {
    this.installHandlers();
    this.startedRegistering = true;
    if (!this.masterKnown) return;
    log.info(`Agent ${this.actor.pid} registering with master ${this.masterPid}`);
    this.registration.start();
  }

  private handlersInstalled = false;

  /** Message handlers; installed before recovery too, so recovered executors can reach the agent. */
  private installHandlers(): void {
    if (this.handlersInstalled) return;
    this.handlersInstalled = true;
    const a = this.actor;
    a.install(M('SlaveRegisteredMessage'), (from, m) => this.onRegistered(from, m, false));
    a.install(M('SlaveReregisteredMessage'), (from, m) => this.onRegistered(from, m, true));
    a.install(M('PingSlaveMessage'), (from, m) => this.onPing(from, m));
    a.install(M('RunTaskMessage'), (from, m) => this.onRunTask(from, m));
    a.install(M('RunTaskGroupMessage'), (from, m) => this.onRunTaskGroup(from, m));
    a.install(M('KillTaskMessage'), (from, m) => this.onKillTask(from, m));
    a.install(M('ShutdownExecutorMessage'), (from, m) => this.onShutdownExecutor(from, m));
    a.install(M('ShutdownFrameworkMessage'), (from, m) => this.onShutdownFramework(from, m));
    a.install(M('FrameworkToExecutorMessage'), (from, m) => this.onFrameworkMessage(from, m));
    a.install(M('UpdateFrameworkMessage'), (from, m) => this.onUpdateFramework(from, m));
    a.install(M('StatusUpdateAcknowledgementMessage'), (from, m) => this.onAcknowledgement(from, m));
    a.install(M('ShutdownMessage'), (from, m) => this.onShutdownMessage(from, m));
    a.install(M('DrainSlaveMessage'), (from, m) => this.onDrain(from, m));
    a.install(M('CheckpointResourcesMessage'), (from, m) => this.onCheckpointResources(from, m));
    installDriverExecutors(this, a);
    a.onExited((peer) => {
      if (peer.ip === this.masterUpid.ip && peer.port === this.masterUpid.port) this.masterLost('the connection to the master broke');
    });
  }

  /**
   * A master detector saw a new leader (a `master@ip:port` pid), or none (undefined): drop the
   * current master and (re-)register with the new one, with the usual backoff (FT-01/FT-04).
   */
  newMasterDetected(pid: string | undefined): void {
    if (this.status === 'TERMINATING') return;
    const upid = pid === undefined ? undefined : tryParseUpid(pid);
    if (pid !== undefined && !upid) {
      log.warn(`Ignoring detected master with a malformed pid '${pid}'`);
      return;
    }
    if (upid && this.masterKnown && pid === this.masterPid && this.startedRegistering && this.status !== 'DISCONNECTED') return;
    this.masterKnown = upid !== undefined;
    if (upid) {
      this.masterPid = pid!;
      this.masterUpid = upid;
      log.info(`New master detected at ${pid}`);
    } else {
      log.warn('Lost the leading master; waiting for a new one to be elected');
    }
    this.status = 'DISCONNECTED';
    this.statusUpdates.pause();
    this.registration.stop();
    if (upid && this.startedRegistering) this.registration.start();
  }

  /** Kills every executor and task this agent started and stops all timers. */
  async stop(): Promise<void> {
    if (this.status === 'TERMINATING') return;
    this.status = 'TERMINATING';
    this.registration.stop();
    const waits: Promise<void>[] = [];
    for (const fw of this.frameworkMap.values()) {
      for (const ex of fw.executors.values()) {
        if (ex.phase === 'TERMINATED') continue;
        waits.push(this.terminated(ex));
        // Executors hear SHUTDOWN, but nobody waits for a grace period: the agent is going away.
        ex.phase = 'TERMINATING';
        ex.channel?.shutdown();
      }
    }
    await Promise.allSettled(this.containerizer.containers().map((c) => this.containerizer.destroy(c, 0)));
    // Executors whose container is gone report back through wait()/onTerminated.
    await Promise.allSettled(waits);
    this.statusUpdates.stop();
    this.gc.stop();
    for (const fw of this.frameworkMap.values()) {
      for (const ex of fw.executors.values()) this.clearExecutorTimers(ex);
    }
  }

  /**
   * SIGTERM/SIGINT, as Mesos: executors of frameworks without checkpointing are shut down (SHUTDOWN,
   * then destroyed once their grace period ran out), while those of checkpointing frameworks are
   * left running for the next agent on this work_dir to recover. Then the agent goes silent.
   */
  async terminate(): Promise<void> {
    if (this.status === 'TERMINATING') return;
    const waits: Promise<void>[] = [];
    const doomed: Array<[Framework, Executor]> = [];
    for (const fw of this.frameworkMap.values()) {
      if (fw.info.checkpoint === true) continue;
      for (const ex of [...fw.executors.values()]) {
        if (ex.phase === 'TERMINATED') continue;
        doomed.push([fw, ex]);
        waits.push(this.terminated(ex));
        this.shutdownExecutor(fw, ex);
      }
    }
    await Promise.allSettled(waits);
    // Whatever outlived its grace (or the safety delay) is destroyed before the agent lets go.
    const left = doomed.filter(([, ex]) => ex.phase !== 'TERMINATED' && this.containerizer.containers().includes(ex.containerId));
    await Promise.allSettled(left.map(([, ex]) => this.containerizer.destroy(ex.containerId, 0)));
    this.abandon();
  }

  /** SIGUSR1, as Mesos: the agent leaves the cluster (UnregisterSlaveMessage), then stops everything. */
  async shutdown(): Promise<void> {
    if (this.status === 'TERMINATING') return;
    if (this.id && this.masterKnown) {
      log.info(`Unregistering from master ${this.masterPid} and shutting down`);
      this.actor.send(this.masterPid, M('UnregisterSlaveMessage'), { slave_id: { value: this.id } });
    }
    await this.stop();
  }

  /**
   * Goes silent as if the agent process had been killed (tests of recovery): timers stop and
   * nothing more is sent or checkpointed, but no executor or task is touched.
   */
  abandon(): void {
    this.abandoned = true;
    this.status = 'TERMINATING';
    this.registration.stop();
    this.statusUpdates.stop();
    this.gc.stop();
    for (const fw of this.frameworkMap.values()) {
      for (const ex of fw.executors.values()) this.clearExecutorTimers(ex);
    }
  }

  /** Resolves when the executor terminated (or after a safety delay, so stop() never hangs). */
  private terminated(executor: Executor): Promise<void> {
    const done = new Promise<void>((resolve) => {
      const list = this.terminationWaiters.get(executor) ?? [];
      list.push(resolve);
      this.terminationWaiters.set(executor, list);
    });
    const safety = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5_000);
      t.unref();
      void done.then(() => clearTimeout(t));
    });
    return Promise.race([done, safety]);
  }

  // ---- registration (AGT-01) ----

  private isFromMaster(from: UPID): boolean {
    return from.id === this.masterUpid.id && from.port === this.masterUpid.port;
  }

  private attemptRegistration(): void {
    if (this.status !== 'DISCONNECTED' || !this.masterKnown) return;
    this.actor.link(this.masterPid);
    const info = this.info;
    if (!this.id) {
      this.actor.send(this.masterPid, M('RegisterSlaveMessage'), {
        slave: info,
        version: AGENT_VERSION,
        agent_capabilities: AGENT_CAPABILITIES,
        resource_version_uuid: { value: this.resourceVersion },
        checkpointed_resources: this.resourcesCheckpoint.resources,
      });
      return;
    }
    this.actor.send(this.masterPid, M('ReregisterSlaveMessage'), {
      slave: info,
      ...reregistrationContents(this.frameworkMap.values(), this.id),
      version: AGENT_VERSION,
      agent_capabilities: AGENT_CAPABILITIES,
      resource_version_uuid: { value: this.resourceVersion },
      checkpointed_resources: this.resourcesCheckpoint.resources,
    });
  }

  private onRegistered(from: UPID, m: Msg, reregistered: boolean): void {
    if (!this.isFromMaster(from)) {
      log.warn(`Ignoring registration reply from ${formatUpid(from)}: not the master ${this.masterPid}`);
      return;
    }
    if (this.status === 'TERMINATING') return;
    const id = idValue(m.slave_id);
    if (this.id && id !== this.id) {
      log.error(`Master answered with agent id ${id}, but this agent is ${this.id}; shutting down`);
      this.opts.onShutdown?.(`Registered with an unexpected agent id ${id}`);
      return;
    }
    const timeoutSecs = m.connection?.total_ping_timeout_seconds;
    const pingTimeout = typeof timeoutSecs === 'number' && timeoutSecs > 0 ? timeoutSecs * 1000 : DEFAULT_TOTAL_PING_TIMEOUT_MS;
    if (this.status === 'RUNNING') {
      this.registration.registered(pingTimeout);
      return;
    }
    this.id = id;
    this.status = 'RUNNING';
    this.registeredOnce = true;
    this.checkpoint(() => {
      this.checkpoints.agent(this.info);
      if (this.opts.bootId) this.checkpoints.bootId(this.opts.bootId);
    });
    this.registration.registered(pingTimeout);
    log.info(`${reregistered ? 'Re-registered' : 'Registered'} with master ${this.masterPid}; given agent ID ${id}`);
    if (reregistered) this.reconcile((m.reconciliations as Msg[] | undefined) ?? []);
    this.statusUpdates.resume();
  }

  /** Tasks the master believes are here but the agent does not know about are reported gone. */
  private reconcile(reconciliations: Msg[]): void {
    for (const r of reconciliations) {
      const frameworkId = idValue(r.framework_id);
      const fw = this.frameworkMap.get(frameworkId);
      for (const s of (r.statuses as Msg[] | undefined) ?? []) {
        const taskId = idValue(s.task_id);
        if (fw?.executorOfTask(taskId)) continue;
        const state = this.partitionAware(fw?.info ?? r.framework) ? 'TASK_DROPPED' : 'TASK_LOST';
        this.agentUpdate(r.framework_id, undefined, s.task_id, state, 'REASON_RECONCILIATION', 'Reconciliation: task unknown to the agent');
      }
    }
  }

  private onPing(from: UPID, m: Msg): void {
    if (this.status === 'TERMINATING') return;
    if (m.connected === false && this.status === 'RUNNING') {
      // A one-way partition: the master lost us while we think we are registered.
      this.masterLost('the master considers this agent disconnected');
    } else if (this.status === 'RUNNING') {
      this.registration.pinged();
    }
    this.actor.send(from, M('PongSlaveMessage'), {});
  }

  private masterLost(why: string): void {
    if (this.status === 'TERMINATING') return;
    if (this.status === 'DISCONNECTED' && this.registration.retrying) return;
    if (!this.masterKnown) return;
    log.warn(`Master ${this.masterPid} lost (${why}); re-registering`);
    this.status = 'DISCONNECTED';
    this.statusUpdates.pause();
    this.registration.start();
  }

  private onShutdownMessage(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    const message = typeof m.message === 'string' ? m.message : '';
    log.warn(`Agent asked to shut down by ${formatUpid(from)}${message ? `: ${message}` : ''}`);
    this.opts.onShutdown?.(message);
  }

  // ---- launching (TSK-03) ----

  private partitionAware(frameworkInfo: Msg | undefined): boolean {
    return frameworkInfo !== undefined && hasCapability(frameworkInfo, 'PARTITION_AWARE');
  }

  private ensureFramework(info: Msg, pid: string | undefined): Framework {
    const id = idValue(info.id);
    let fw = this.frameworkMap.get(id);
    if (!fw) {
      fw = new Framework(id, info, pid);
      this.frameworkMap.set(id, fw);
    } else {
      fw.info = info;
      if (pid) fw.pid = pid;
    }
    return fw;
  }

  private onRunTask(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    const frameworkInfo: Msg = { ...m.framework };
    if (!frameworkInfo.id && m.framework_id) frameworkInfo.id = m.framework_id;
    const task = m.task as Msg;
    if (this.status !== 'RUNNING' || !this.id) {
      log.warn(`Ignoring task ${idValue(task?.task_id)}: the agent is not registered`);
      return;
    }
    // launch_executor=false: the master expects the executor to be running already.
    if (m.launch_executor === false && task.executor) {
      const ex = this.frameworkMap.get(idValue(frameworkInfo.id))?.executors.get(idValue(task.executor.executor_id));
      if (!ex || ex.phase === 'TERMINATING' || ex.phase === 'TERMINATED') {
        const fw = this.ensureFramework(frameworkInfo, typeof m.pid === 'string' ? m.pid : undefined);
        this.dropTask(fw, task, 'No running executor to launch the task on');
        this.maybeRemoveFramework(fw);
        return;
      }
    }
    this.runTasks(frameworkInfo, typeof m.pid === 'string' ? m.pid : undefined, [task], task.executor, false);
  }

  private onRunTaskGroup(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    if (this.status !== 'RUNNING' || !this.id) return;
    const tasks = ((m.task_group?.tasks as Msg[] | undefined) ?? []).map((t) => ({ ...t, executor: m.executor }));
    this.runTasks({ ...m.framework }, undefined, tasks, m.executor, true);
  }

  private runTasks(frameworkInfo: Msg, pid: string | undefined, tasks: Msg[], executorGiven: Msg | undefined, group: boolean): void {
    const fw = this.ensureFramework(frameworkInfo, pid);
    const frameworkId = frameworkInfo.id as Msg;
    if (fw.terminating) {
      for (const t of tasks) this.dropTask(fw, t, 'Framework is terminating');
      return;
    }
    if (this.drain) {
      for (const t of tasks) this.dropTask(fw, t, 'Agent is draining', 'REASON_AGENT_DRAINING');
      this.maybeRemoveFramework(fw);
      return;
    }
    const first = tasks[0];
    if (!first) return;
    const executorInfo: Msg = executorGiven
      ? { ...executorGiven, framework_id: executorGiven.framework_id ?? frameworkId }
      : commandExecutorInfo(first, frameworkId, this.config.launcherDir);
    const executorId = idValue(executorInfo.executor_id);
    const existing = fw.executors.get(executorId);
    if (existing) {
      if (existing.phase === 'TERMINATING' || existing.phase === 'TERMINATED' || existing.kind === 'command') {
        for (const t of tasks) this.dropTask(fw, t, `Executor ${executorId} is ${existing.kind === 'command' ? 'already in use' : 'terminating'}`);
        return;
      }
      this.checkpointFramework(fw);
      for (const t of tasks) {
        fw.indexTask(idValue(t.task_id), existing);
        this.checkpointTask(fw, existing, createTask(t, fw.info.id, this.id!, 'TASK_STAGING'));
        if (existing.phase === 'REGISTERING') existing.queuedTasks.set(idValue(t.task_id), t);
        else this.deliver(fw, existing, t, group ? tasks : undefined);
      }
      // A group queued for a registering executor is delivered as one LAUNCH_GROUP.
      if (group && existing.phase === 'REGISTERING') existing.pendingGroups.push(tasks.map((t) => idValue(t.task_id)));
      return;
    }
    this.launchExecutor(fw, executorInfo, tasks, executorGiven ? 'custom' : 'command', group);
  }

  /** TASK_DROPPED (partition-aware) or TASK_LOST for a task the agent cannot take. */
  private dropTask(fw: Framework, task: Msg, message: string, reason = 'REASON_EXECUTOR_TERMINATED'): void {
    const state = this.partitionAware(fw.info) ? 'TASK_DROPPED' : 'TASK_LOST';
    this.agentUpdate(fw.info.id, task.executor?.executor_id, task.task_id, state, reason, message);
  }

  private launchExecutor(fw: Framework, executorInfo: Msg, tasks: Msg[], kind: 'command' | 'custom', group: boolean): void {
    const agentId = this.id!;
    const executorId = idValue(executorInfo.executor_id);
    const containerId = uuidString();
    // Ids become path components of the sandbox: never let one escape the work_dir.
    const invalid = validateIdValue('Executor ID', executorId) ?? validateIdValue('Framework ID', fw.id);
    if (invalid) {
      for (const t of tasks) this.agentUpdate(fw.info.id, executorInfo.executor_id, t.task_id, 'TASK_FAILED', 'REASON_CONTAINER_LAUNCH_FAILED', invalid);
      this.maybeRemoveFramework(fw);
      return;
    }
    // A new run brings these directories back into use.
    this.gc.unschedule(frameworkDir(this.config.workDir, agentId, fw.id));
    this.gc.unschedule(executorDir(this.config.workDir, agentId, fw.id, executorId));
    this.gc.unschedule(frameworkMetaDir(this.config.workDir, agentId, fw.id));
    this.gc.unschedule(executorMetaDir(this.config.workDir, agentId, fw.id, executorId));
    let directory: string;
    try {
      directory = createExecutorSandbox(this.config.workDir, agentId, fw.id, executorId, containerId);
    } catch (e) {
      for (const t of tasks) {
        this.agentUpdate(fw.info.id, executorInfo.executor_id, t.task_id, 'TASK_FAILED', 'REASON_CONTAINER_LAUNCH_FAILED', `Failed to create the sandbox: ${(e as Error).message}`);
      }
      this.maybeRemoveFramework(fw);
      return;
    }
    this.files?.attach(directory, directory);
    this.files?.attach(directory, latestRunVirtualPath(fw.id, executorId));

    const executor = new Executor(executorId, fw.id, executorInfo, containerId, directory, kind, this.clock.now());
    fw.executors.set(executorId, executor);
    this.checkpointFramework(fw);
    this.checkpoint(fw, () => this.checkpoints.executor(this.runRef(executor), executorInfo));
    for (const t of tasks) this.checkpointTask(fw, executor, createTask(t, fw.info.id, agentId, 'TASK_STAGING'));
    const graceMs = shutdownGracePeriodMs(executorInfo, this.config.executorShutdownGracePeriodMs);
    const env = executorEnvironment({
      frameworkId: fw.id,
      executorInfo,
      directory,
      agentId,
      agentPid: this.actor.pid,
      agentEndpoint: this.opts.endpoint,
      checkpoint: fw.info.checkpoint === true,
      httpCommandExecutor: this.config.httpCommandExecutor,
      shutdownGracePeriodMs: graceMs,
      recoveryTimeoutMs: this.config.recoveryTimeoutMs,
      subscriptionBackoffMaxMs: this.config.executorReregistrationTimeoutMs,
      baseEnv: this.config.executorBaseEnv,
    });
    const user = this.config.switchUser ? ((executorInfo.command?.user as string | undefined) ?? (fw.info.user as string | undefined)) : undefined;

    if (kind === 'command') {
      const task = tasks[0]!;
      executor.phase = 'RUNNING';
      fw.indexTask(idValue(task.task_id), executor);
      executor.addTask(task, fw.info.id, agentId);
      const ce = this.opts.createCommandExecutor({
        task,
        executorInfo,
        frameworkInfo: fw.info,
        agentId,
        containerId,
        sandbox: directory,
        env,
        containerizer: this.containerizer,
        clock: this.clock,
        sendUpdate: (status) => this.executorStatus(fw, executor, status),
        onTerminated: () => this.executorTerminated(fw, executor),
        switchUser: this.config.switchUser,
      });
      executor.channel = commandChannel(ce);
      try {
        ce.start();
      } catch (e) {
        executor.termination = { state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: `Failed to launch the task: ${(e as Error).message}` };
        this.executorTerminated(fw, executor);
      }
      return;
    }

    for (const t of tasks) {
      fw.indexTask(idValue(t.task_id), executor);
      executor.queuedTasks.set(idValue(t.task_id), t);
    }
    if (group) executor.pendingGroups.push(tasks.map((t) => idValue(t.task_id)));
    // CMP-10: a DEFAULT executor names no command; the agent runs mesos-default-executor.
    const builtin = executorInfo.type === 'DEFAULT' && !executorInfo.command ? defaultExecutorLaunch(this.config.launcherDir) : undefined;
    const launchCommand: Msg = builtin?.command ?? executorInfo.command ?? {};
    const launchEnv = builtin ? { ...env, ...builtin.env } : env;
    executor.registrationTimer = this.clock.setTimeout(() => this.registrationTimedOut(fw, executor), this.config.executorRegistrationTimeoutMs);
    this.containerizer
      .launch({ containerId, sandbox: directory, command: launchCommand, env: launchEnv, user, resources: [...((executorInfo.resources as Msg[] | undefined) ?? []), ...tasks.flatMap((t) => (t.resources as Msg[] | undefined) ?? [])] })
      .then(
        ({ pid }) => {
          this.checkpoint(fw, () => this.checkpoints.forkedPid(this.runRef(executor), pid));
          if (this.status === 'TERMINATING') {
            // The agent stopped while the container was being started.
            void this.containerizer.destroy(containerId, 0);
          }
          log.info(`Launched executor '${executorId}' of framework ${fw.id} in container ${containerId}`);
          this.containerizer.wait(containerId).then(
            (t) => this.executorTerminated(fw, executor, t.status),
            () => this.executorTerminated(fw, executor),
          );
        },
        (e: unknown) => {
          executor.termination ??= {
            state: 'TASK_FAILED',
            reason: 'REASON_CONTAINER_LAUNCH_FAILED',
            message: `Failed to launch container: ${(e as Error)?.message ?? e}`,
          };
          this.executorTerminated(fw, executor);
        },
      );
  }

  private registrationTimedOut(fw: Framework, executor: Executor): void {
    executor.registrationTimer = undefined;
    if (executor.phase !== 'REGISTERING') return;
    log.warn(`Executor '${executor.id}' of framework ${fw.id} did not subscribe within ${this.config.executorRegistrationTimeoutMs}ms; destroying it`);
    executor.termination = {
      state: 'TASK_FAILED',
      reason: 'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
      message: 'Executor did not register within the registration timeout',
    };
    executor.phase = 'TERMINATING';
    this.destroyContainer(fw, executor);
  }

  private destroyContainer(fw: Framework, executor: Executor): void {
    this.containerizer.destroy(executor.containerId, 0).then(
      () => {
        // wait() normally reports the end; this covers a container that never started.
        if (!this.containerizer.containers().includes(executor.containerId)) this.executorTerminated(fw, executor);
      },
      (e: unknown) => log.warn(`Failed to destroy container ${executor.containerId}: ${(e as Error)?.message ?? e}`),
    );
  }

  /** Hands a task to a subscribed executor. */
  private deliver(fw: Framework, executor: Executor, task: Msg, group?: Msg[]): void {
    executor.addTask(task, fw.info.id, this.id!);
    if (group) {
      // Deliver the whole group once, when its last task is added.
      const ids = group.map((t) => idValue(t.task_id));
      if (ids[ids.length - 1] !== idValue(task.task_id)) return;
      // Tasks of a group never name their executor on the wire; the agent added it for bookkeeping.
      executor.channel?.launchGroup?.(
        group.map((t) => {
          const { executor: _executor, ...rest } = t;
          return rest;
        }),
      );
      return;
    }
    executor.channel?.launch(task);
  }

  // ---- executor API (EXE-10..13) ----

  /** SUBSCRIBE from an executor: it gets SUBSCRIBED, then every queued task. */
  executorSubscribed(fw: Framework, executor: Executor, channel: ExecutorChannel): void {
    if (executor.channel && executor.channel !== channel) executor.channel.close();
    executor.channel = channel;
    this.clock.clearTimeout(executor.registrationTimer);
    executor.registrationTimer = undefined;
    // Driver executors are reconnected through their libprocess pid, HTTP ones re-subscribe.
    const driverPid = (channel as { pid?: unknown }).pid;
    if (typeof driverPid === 'string') this.checkpoint(fw, () => this.checkpoints.libprocessPid(this.runRef(executor), driverPid));
    else this.checkpoint(fw, () => this.checkpoints.httpMarker(this.runRef(executor)));
    channel.subscribed(this.subscribedEvent(fw, executor));
    this.reregistered(executor);
    if (executor.phase === 'TERMINATING' || executor.phase === 'TERMINATED') {
      channel.shutdown();
      return;
    }
    executor.phase = 'RUNNING';
    const queued = [...executor.queuedTasks.values()];
    const grouped = new Set(executor.pendingGroups.flat());
    for (const t of queued) if (!grouped.has(idValue(t.task_id))) this.deliver(fw, executor, t);
    for (const ids of executor.pendingGroups.splice(0)) {
      const group = ids.map((id) => executor.queuedTasks.get(id)).filter((t): t is Msg => t !== undefined);
      for (const t of group) this.deliver(fw, executor, t, group);
    }
  }

  private subscribedEvent(fw: Framework, executor: Executor): Msg {
    return {
      executor_info: executor.info,
      framework_info: fw.info,
      agent_info: this.info,
      container_id: { value: executor.containerId },
    };
  }

  /** The executor's stream went away; a non-checkpointing executor is expected to exit on its own. */
  executorDisconnected(executor: Executor, channel: ExecutorChannel): void {
    if (executor.channel === channel) executor.channel = undefined;
  }

  /** UPDATE from an executor (already validated by the API layer). */
  executorStatus(fw: Framework, executor: Executor, status: Msg): void {
    if (this.abandoned) return;
    const st: Msg = {
      ...status,
      // HTTP and driver executors are validated to say SOURCE_EXECUTOR; the in-agent command
      // executor reports its container launch failures as SOURCE_AGENT, like Mesos's agent.
      source: status.source ?? 'SOURCE_EXECUTOR',
      agent_id: { value: this.id },
      executor_id: executor.info.executor_id,
    };
    if (typeof st.timestamp !== 'number') st.timestamp = this.clock.now() / 1000;
    const forked = st.container_status?.executor_pid;
    if (executor.kind === 'command' && typeof forked === 'number') this.checkpoint(fw, () => this.checkpoints.forkedPid(this.runRef(executor), forked));
    const update = statusUpdateOf(fw.info.id, executor.info.executor_id, this.id!, st);
    const result = this.statusUpdate(fw, executor, update);
    if (result) executor.channel?.acknowledged(st.task_id, st.uuid);
  }

  /** MESSAGE from an executor: relayed to the scheduler through the master. */
  executorMessage(fw: Framework, executor: Executor, data: Buffer): void {
    this.actor.send(this.masterPid, M('ExecutorToFrameworkMessage'), {
      slave_id: { value: this.id },
      framework_id: fw.info.id,
      executor_id: executor.info.executor_id,
      data,
    });
  }

  // ---- status updates (TSK-04) ----

  /** Records the state on the task and hands the update to the manager; true if accepted or a duplicate. */
  private statusUpdate(fw: Framework, executor: Executor | undefined, update: Msg): boolean {
    const status = update.status as Msg;
    // A resent update (same uuid) was rewritten and recorded the first time.
    if (!this.statusUpdates.seen(fw.id, idValue(status.task_id), status.uuid)) {
      if (this.drain && isTerminalState(status.state)) this.drain.rewriteTerminal(status, this.partitionAware(fw.info));
      executor?.updateTaskState(status, fw.info.id, this.id!);
    }
    const r = this.statusUpdates.update(update);
    if (r.kind === 'rejected') {
      this.counters.invalidStatusUpdates++;
      log.warn(`Rejected status update ${status.state} for task ${idValue(status.task_id)}: ${r.error}`);
      return false;
    }
    if (r.kind === 'accepted') {
      this.counters.validStatusUpdates++;
      if (isTerminalState(status.state)) this.counters.terminalTasks.set(status.state, (this.counters.terminalTasks.get(status.state) ?? 0) + 1);
    }
    return true;
  }

  /** An update the agent itself generates (source AGENT, fresh uuid). */
  private agentUpdate(frameworkId: Msg, executorId: Msg | undefined, taskId: Msg, state: string, reason: string, message: string): void {
    const uuid = uuidBytes();
    const status: Msg = {
      task_id: taskId,
      state,
      message,
      source: 'SOURCE_AGENT',
      reason,
      agent_id: { value: this.id },
      timestamp: this.clock.now() / 1000,
      uuid,
    };
    if (executorId) status.executor_id = executorId;
    const fw = this.frameworkMap.get(idValue(frameworkId));
    const executor = fw?.executorOfTask(idValue(taskId));
    const update = statusUpdateOf(frameworkId, executorId, this.id ?? '', status);
    if (fw) this.statusUpdate(fw, executor, update);
    else this.statusUpdates.update(update);
  }

  private forward(update: Msg): void {
    const fw = this.frameworkMap.get(idValue(update.framework_id));
    const task = fw?.executorOfTask(idValue(update.status?.task_id))?.task(idValue(update.status?.task_id));
    if (task) {
      task.status_update_state = update.status.state;
      task.status_update_uuid = update.uuid;
      update.latest_state = task.state;
    }
    this.actor.send(this.masterPid, M('StatusUpdateMessage'), { update, pid: this.actor.pid });
  }

  private onAcknowledgement(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    const frameworkId = idValue(m.framework_id);
    const taskId = idValue(m.task_id);
    const r = this.statusUpdates.acknowledge(frameworkId, taskId, Buffer.from(m.uuid ?? []));
    if (!r.ok) {
      log.warn(`Ignoring acknowledgement: ${r.error}`);
      return;
    }
    const fw = this.frameworkMap.get(frameworkId);
    const executor = fw?.executorOfTask(taskId);
    if (!fw || !executor) {
      this.checkDrained();
      return;
    }
    const task = executor.task(taskId);
    if (r.terminal && task && isTerminalState(task.state)) {
      executor.completeTask(taskId);
      fw.unindexTask(taskId, executor);
    }
    this.maybeRemoveExecutor(fw, executor);
    this.checkDrained();
  }

  // ---- kills and shutdowns (AGT-07) ----

  private onKillTask(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    const frameworkId = idValue(m.framework_id);
    const fw = this.frameworkMap.get(frameworkId);
    if (!fw) {
      log.warn(`Ignoring kill of task ${idValue(m.task_id)}: no such framework ${frameworkId}`);
      return;
    }
    this.killTask(fw, m.task_id, m.kill_policy);
  }

  private killTask(fw: Framework, taskIdMsg: Msg, killPolicy: Msg | undefined): void {
    const taskId = idValue(taskIdMsg);
    const executor = fw.executorOfTask(taskId);
    if (!executor) {
      const state = this.partitionAware(fw.info) ? 'TASK_DROPPED' : 'TASK_LOST';
      this.agentUpdate(fw.info.id, undefined, taskIdMsg, state, 'REASON_EXECUTOR_TERMINATED', 'Cannot find executor');
      return;
    }
    if (executor.queuedTasks.has(taskId)) {
      const message = executor.phase === 'REGISTERING' ? 'Unregistered executor' : 'Killed before delivery to the executor';
      // A task group is atomic: killing one queued task kills the whole group.
      const group = executor.pendingGroups.find((ids) => ids.includes(taskId)) ?? [taskId];
      for (const id of group) {
        const queued = executor.queuedTasks.get(id);
        if (queued) this.agentUpdate(fw.info.id, executor.info.executor_id, queued.task_id, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', message);
      }
      // An executor left with nothing to run is not worth waiting for.
      if (executor.phase === 'REGISTERING' && executor.queuedTasks.size === 0 && executor.launchedTasks.size === 0) {
        this.shutdownExecutor(fw, executor);
      }
      return;
    }
    if (executor.phase === 'TERMINATING' || executor.phase === 'TERMINATED') {
      log.warn(`Ignoring kill of task ${taskId}: executor '${executor.id}' is terminating`);
      return;
    }
    const task = executor.launchedTasks.get(taskId);
    if (!task) return; // already terminal
    executor.channel?.kill(taskIdMsg, killPolicy);
  }

  // ---- draining (MNT-02) ----

  private onDrain(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    const drain = new DrainState(m.config ?? {}, this.clock.now());
    this.drain = drain;
    log.info('Draining: killing every task');
    for (const fw of [...this.frameworkMap.values()]) {
      for (const ex of [...fw.executors.values()]) {
        for (const t of [...ex.queuedTasks.values(), ...ex.launchedTasks.values()]) {
          this.killTask(fw, t.task_id, drain.killPolicy(t.kill_policy));
        }
      }
    }
    this.checkDrained();
  }

  /** The drain ends once no task is left and every update was acknowledged. */
  private checkDrained(): void {
    if (!this.drain) return;
    for (const fw of this.frameworkMap.values()) if (fw.executors.size > 0) return;
    if (this.statusUpdates.pendingCount() > 0) return;
    log.info('Agent finished draining');
    this.drain = undefined;
  }

  /** DrainConfig and start time while draining, for /state. */
  get draining(): DrainState | undefined {
    return this.drain;
  }

  private onShutdownExecutor(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    const fw = this.frameworkMap.get(idValue(m.framework_id));
    const executor = fw?.executors.get(idValue(m.executor_id));
    if (!fw || !executor) return;
    this.shutdownExecutor(fw, executor);
  }

  private onShutdownFramework(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    const fw = this.frameworkMap.get(idValue(m.framework_id));
    if (!fw) return;
    this.shutdownFramework(fw);
  }

  shutdownFramework(fw: Framework): void {
    fw.terminating = true;
    for (const ex of [...fw.executors.values()]) this.shutdownExecutor(fw, ex);
    this.maybeRemoveFramework(fw);
  }

  /** SHUTDOWN to the executor, then a forced destroy after its shutdown grace period. */
  shutdownExecutor(fw: Framework, executor: Executor): void {
    if (executor.phase === 'TERMINATING' || executor.phase === 'TERMINATED') return;
    log.info(`Shutting down executor '${executor.id}' of framework ${fw.id}`);
    const wasRegistering = executor.phase === 'REGISTERING';
    executor.phase = 'TERMINATING';
    this.clock.clearTimeout(executor.registrationTimer);
    executor.registrationTimer = undefined;
    if (wasRegistering || !executor.channel) {
      this.destroyContainer(fw, executor);
      return;
    }
    executor.channel.shutdown();
    if (executor.kind === 'custom') {
      const grace = shutdownGracePeriodMs(executor.info, this.config.executorShutdownGracePeriodMs);
      executor.shutdownTimer = this.clock.setTimeout(() => {
        executor.shutdownTimer = undefined;
        if (executor.phase !== 'TERMINATED') this.destroyContainer(fw, executor);
      }, grace);
    }
  }

  private onFrameworkMessage(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    const fw = this.frameworkMap.get(idValue(m.framework_id));
    const executor = fw?.executors.get(idValue(m.executor_id));
    if (!fw || !executor || executor.phase !== 'RUNNING' || !executor.channel) {
      this.counters.invalidFrameworkMessages++;
      log.warn(`Dropping framework message for executor '${idValue(m.executor_id)}': not running`);
      return;
    }
    this.counters.validFrameworkMessages++;
    executor.channel.message(Buffer.from(m.data ?? []));
  }

  private onUpdateFramework(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from)) return;
    const fw = this.frameworkMap.get(idValue(m.framework_id));
    if (!fw) return;
    if (typeof m.pid === 'string' && m.pid !== '') fw.pid = m.pid;
    if (m.framework_info) fw.info = { ...m.framework_info, id: fw.info.id };
    this.checkpointFramework(fw);
  }

  // ---- executor termination ----

  private executorTerminated(fw: Framework, executor: Executor, waitStatus?: number): void {
    if (executor.phase === 'TERMINATED') return;
    const wasRunning = executor.phase !== 'REGISTERING';
    executor.phase = 'TERMINATED';
    executor.exitStatus = waitStatus;
    this.counters.executorsTerminated++;
    this.clearExecutorTimers(executor);
    executor.channel?.close();
    executor.channel = undefined;
    const cause: TerminationCause = executor.termination ?? {
      state: 'TASK_FAILED',
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: wasRunning ? 'Executor terminated' : 'Executor terminated before it registered',
    };
    if (this.status !== 'TERMINATING' && this.id) {
      const open = [...executor.queuedTasks.values(), ...executor.launchedTasks.values()];
      for (const t of open) {
        this.agentUpdate(fw.info.id, executor.info.executor_id, t.task_id, cause.state, cause.reason, cause.message);
      }
      if (executor.kind === 'custom') {
        this.actor.send(this.masterPid, M('ExitedExecutorMessage'), {
          slave_id: { value: this.id },
          framework_id: fw.info.id,
          executor_id: executor.info.executor_id,
          status: waitStatus ?? 0,
        });
      }
    }
    // A run whose executor is gone is not recovered again (its tasks' updates still are).
    if (this.status !== 'TERMINATING') this.checkpoint(fw, () => this.checkpoints.executorCompleted(this.runRef(executor)));
    this.reregistered(executor);
    const waiters = this.terminationWaiters.get(executor);
    this.terminationWaiters.delete(executor);
    for (const w of waiters ?? []) w();
    this.maybeRemoveExecutor(fw, executor);
  }

  private clearExecutorTimers(executor: Executor): void {
    this.clock.clearTimeout(executor.registrationTimer);
    this.clock.clearTimeout(executor.shutdownTimer);
    executor.registrationTimer = executor.shutdownTimer = undefined;
  }

  private maybeRemoveExecutor(fw: Framework, executor: Executor): void {
    if (executor.phase !== 'TERMINATED') return;
    // A framework being shut down has nobody left to acknowledge its tasks' last updates.
    if (executor.hasIncompleteTasks && !fw.terminating) return;
    if (fw.executors.get(executor.id) !== executor) return;
    fw.completeExecutor(executor, this.config.maxCompletedExecutorsPerFramework);
    if (this.id) {
      const virtual = latestRunVirtualPath(fw.id, executor.id);
      this.gc.schedule(executorDir(this.config.workDir, this.id, fw.id, executor.id), () => {
        this.files?.detach(executor.directory);
        this.files?.detach(virtual);
      });
      // Checkpoints go with the sandbox (FT-05: only the latest run is ever recovered).
      if (fw.info.checkpoint === true) this.gc.schedule(executorMetaDir(this.config.workDir, this.id, fw.id, executor.id));
    }
    this.maybeRemoveFramework(fw);
    this.checkDrained();
  }

  private maybeRemoveFramework(fw: Framework): void {
    if (fw.executors.size > 0) return;
    this.frameworkMap.delete(fw.id);
    if (this.id) this.gc.schedule(frameworkDir(this.config.workDir, this.id, fw.id));
    if (this.id && fw.info.checkpoint === true) this.gc.schedule(frameworkMetaDir(this.config.workDir, this.id, fw.id));
    // A framework shut down by the master has no scheduler left to acknowledge anything.
    if (fw.terminating) this.statusUpdates.cleanupFramework(fw.id);
    this.completed.push(fw);
    while (this.completed.length > MAX_COMPLETED_FRAMEWORKS) this.completed.shift();
  }

  /** True once the agent registered at least once. */
  get everRegistered(): boolean {
    return this.registeredOnce;
  }

  // ---- checkpointing and recovery (FT-05) ----

  /**
   * The reservations and volumes a previous agent on this work_dir checkpointed, sent again with
   * the next (re-)registration. Throws on a corrupt checkpoint.
   */
  recoverResources(): Msg[] {
    const resources = this.resourcesCheckpoint.recover();
    if (resources.length > 0) log.info(`Recovered ${resources.length} checkpointed resource(s) (reservations, persistent volumes)`);
    return resources;
  }

  /** The master's word on this agent's reservations and volumes after an operation. */
  private onCheckpointResources(from: UPID, m: Msg): void {
    if (!this.isFromMaster(from) || this.status === 'TERMINATING') return;
    const resources = (m.resources as Msg[] | undefined) ?? [];
    try {
      this.resourcesCheckpoint.update(resources);
      log.info(`Checkpointed ${resources.length} resource(s) (reservations, persistent volumes)`);
    } catch (e) {
      log.error(`Failed to checkpoint resources: ${(e as Error).message}`);
    }
  }

  /** True from recover() until every recovered executor re-subscribed or timed out. */
  get recovering(): boolean {
    return this.recoveringState;
  }

  private runRef(executor: Executor): RunRef {
    return { agentId: this.id!, frameworkId: executor.frameworkId, executorId: executor.id, containerId: executor.containerId };
  }

  /** Where a task's updates are journaled; undefined unless its framework checkpoints. */
  private runOf(frameworkId: string, taskId: string): RunRef | undefined {
    if (!this.id) return undefined;
    const fw = this.frameworkMap.get(frameworkId);
    const executor = fw?.info.checkpoint === true ? fw.executorOfTask(taskId) : undefined;
    return executor ? this.runRef(executor) : this.finishedRuns.get(`${frameworkId}\u0000${taskId}`);
  }

  /** Runs a checkpoint write (for a checkpointing framework, when one is given); failures are logged. */
  private checkpoint(fwOrWrite: Framework | (() => void), write?: () => void): void {
    if (typeof fwOrWrite !== 'function' && fwOrWrite.info.checkpoint !== true) return;
    if (!this.id) return;
    try {
      (write ?? (fwOrWrite as () => void))();
    } catch (e) {
      log.error(`Failed to checkpoint: ${(e as Error).message}`);
    }
  }

  private checkpointFramework(fw: Framework): void {
    // Launches repeat it for every executor: write only what changed.
    const key = JSON.stringify([fw.info, fw.pid]);
    if (this.frameworkCheckpoints.get(fw) === key) return;
    this.checkpoint(fw, () => {
      this.checkpoints.framework(this.id!, fw.info, fw.pid);
      this.frameworkCheckpoints.set(fw, key);
    });
  }

  private checkpointTask(fw: Framework, executor: Executor, task: Msg): void {
    this.checkpoint(fw, () => this.checkpoints.task(this.runRef(executor), task));
  }

  /**
   * Rebuilds the checkpointed frameworks, executors, tasks and status update streams, re-adopts
   * running containers and gives HTTP executors --executor_reregistration_timeout to re-subscribe.
   * Resolves once recovery is over; start() then re-registers under the recovered id.
   */
  async recover(state: AgentState, opts: { rebooted: boolean }): Promise<void> {
    this.id = state.id;
    this.recoveringState = true;
    this.installHandlers();
    for (const fwState of state.frameworks) {
      const fw = new Framework(fwState.id, { ...fwState.info, id: { value: fwState.id } }, fwState.pid);
      for (const exState of fwState.executors) {
        const run = exState.latest;
        if (!run) continue;
        // Streams are rebuilt for every task of the latest run, finished executors included.
        for (const t of run.tasks) this.statusUpdates.recover(fw.id, t.id, t.updates, t.acks);
        if (run.completed) {
          const ref = { agentId: state.id, frameworkId: fw.id, executorId: exState.id, containerId: run.containerId };
          for (const t of run.tasks) if (this.statusUpdates.hasPending(fw.id, t.id)) this.finishedRuns.set(`${fw.id}\u0000${t.id}`, ref);
          this.gc.schedule(executorMetaDir(this.config.workDir, state.id, fw.id, exState.id));
          this.gc.schedule(executorDir(this.config.workDir, state.id, fw.id, exState.id));
          continue;
        }
        this.recoverExecutor(fw, exState.id, exState.info, run, opts.rebooted);
      }
      if (fw.executors.size > 0) this.frameworkMap.set(fw.id, fw);
    }
    if (this.awaitingReregistration.size > 0) {
      await new Promise<void>((resolve) => (this.reregistrationsDone = resolve));
    }
    this.recoveringState = false;
    log.info(`Finished recovery of agent ${state.id}`);
  }

  private recoverExecutor(fw: Framework, executorId: string, info: Msg, run: NonNullable<AgentState['frameworks'][number]['executors'][number]['latest']>, rebooted: boolean): void {
    const tasks = run.tasks.filter((t) => t.info);
    const kind = tasks.length > 0 && tasks.every((t) => !t.info!.executor_id) ? 'command' : 'custom';
    const directory = executorRunDir(this.config.workDir, this.id!, fw.id, executorId, run.containerId);
    const executor = new Executor(executorId, fw.id, info, run.containerId, directory, kind, this.clock.now());
    executor.phase = 'RUNNING';
    fw.executors.set(executorId, executor);
    this.files?.attach(directory, directory);
    this.files?.attach(directory, latestRunVirtualPath(fw.id, executorId));
    let terminal = false;
    for (const t of tasks) {
      const taskId = t.id;
      fw.indexTask(taskId, executor);
      executor.launchedTasks.set(taskId, { ...t.info!, state: 'TASK_STAGING', statuses: [] });
      for (const u of t.updates) executor.updateTaskState(u.status, fw.info.id, this.id!);
      const task = executor.task(taskId)!;
      if (t.updates.length > 0) {
        const last = t.updates[t.updates.length - 1]!;
        task.status_update_state = last.status?.state;
        task.status_update_uuid = last.uuid;
      }
      if (isTerminalState(task.state)) {
        terminal = true;
        // Acknowledged terminal tasks are done; the others wait for their acknowledgement.
        if (pendingUpdates(t).length === 0) executor.completeTask(taskId);
      }
    }
    const adopt = this.opts.adoptContainer;
    if (rebooted || !adopt) {
      const partitionAware = this.partitionAware(fw.info);
      executor.termination = { state: partitionAware ? 'TASK_GONE' : 'TASK_LOST', reason: 'REASON_EXECUTOR_TERMINATED', message: 'Abnormal executor termination: unknown container' };
      // Reported after the recovery loop, with the status update manager in place.
      queueMicrotask(() => this.executorTerminated(fw, executor));
      return;
    }
    const adopted = adopt(run.containerId);
    log.info(`Recovered executor '${executorId}' of framework ${fw.id} (container ${run.containerId} ${adopted.running ? 'running' : 'exited'})`);
    if (kind === 'command') {
      const task = tasks[0]!.info!;
      const env = executorEnvironment({
        frameworkId: fw.id,
        executorInfo: info,
        directory,
        agentId: this.id!,
        agentPid: this.actor.pid,
        agentEndpoint: this.opts.endpoint,
        checkpoint: true,
        httpCommandExecutor: this.config.httpCommandExecutor,
        shutdownGracePeriodMs: shutdownGracePeriodMs(info, this.config.executorShutdownGracePeriodMs),
        recoveryTimeoutMs: this.config.recoveryTimeoutMs,
        subscriptionBackoffMaxMs: this.config.executorReregistrationTimeoutMs,
        baseEnv: this.config.executorBaseEnv,
      });
      const checkStatus = [...tasks[0]!.updates].reverse().find((u) => u.status?.check_status)?.status.check_status;
      const ce = new RecoveredCommandTask({
        task,
        executorInfo: info,
        frameworkInfo: fw.info,
        agentId: this.id!,
        containerId: run.containerId,
        containerizer: this.containerizer,
        clock: this.clock,
        terminal,
        killing: executor.task(idValue(task.task_id))?.state === 'TASK_KILLING',
        // The Task has no CommandInfo; the command executor's info carries its environment.
        env: taskEnvironment({ ...task, command: info.command }, env, directory),
        sandbox: directory,
        ...(checkStatus ? { checkStatus } : {}),
        sendUpdate: (status) => this.executorStatus(fw, executor, status),
        onTerminated: () => this.executorTerminated(fw, executor),
      });
      executor.channel = commandChannel(ce);
      ce.start();
      return;
    }
    this.containerizer.wait(run.containerId).then(
      (t) => this.executorTerminated(fw, executor, t.status),
      () => this.executorTerminated(fw, executor),
    );
    if (!adopted.running) return;
    // An HTTP executor re-subscribes on its own; a driver executor is asked to reconnect.
    executor.phase = 'REGISTERING';
    this.awaitingReregistration.add(executor);
    if (run.libprocessPid && !run.http) this.actor.send(run.libprocessPid, M('ReconnectExecutorMessage'), { slave_id: { value: this.id } });
    executor.registrationTimer = this.clock.setTimeout(() => {
      executor.registrationTimer = undefined;
      if (executor.phase !== 'REGISTERING') return;
      log.warn(`Executor '${executorId}' of framework ${fw.id} did not re-subscribe within ${this.config.executorReregistrationTimeoutMs}ms; destroying it`);
      const partitionAware = this.partitionAware(fw.info);
      executor.termination = {
        state: partitionAware ? 'TASK_GONE' : 'TASK_LOST',
        reason: 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT',
        message: 'Executor did not reregister within the reregistration timeout',
      };
      executor.phase = 'TERMINATING';
      this.reregistered(executor);
      this.destroyContainer(fw, executor);
    }, this.config.executorReregistrationTimeoutMs);
  }

  /** A recovered executor re-subscribed, timed out or ended: recovery may be over. */
  private reregistered(executor: Executor): void {
    if (!this.awaitingReregistration.delete(executor)) return;
    if (this.awaitingReregistration.size === 0) this.reregistrationsDone?.();
  }
}
