// The master's bookkeeping records: frameworks, agents, tasks and offers. Plain data with small
// helpers; the Master is the only writer.
import type { TimerHandle } from '../common/clock.js';
import { Resources } from '../resources/index.js';
import type { Msg } from './allocator/allocator.js';

/** Where a framework's events go: one SUBSCRIBE stream. */
export interface EventSink {
  /** Mesos-Stream-Id of an HTTP subscription; `pid:<upid>` for a driver. */
  readonly streamId: string;
  /** The driver's libprocess pid; undefined for HTTP frameworks. */
  readonly pid?: string;
  send(event: Msg): void;
  close(): void;
}

export interface TaskRecord {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  /** Custom executor id; undefined for command tasks. */
  readonly executorId?: string;
  /** The TaskInfo as launched (data stripped), used for the Task views. */
  readonly info: Msg;
  readonly resources: Resources;
  state: string;
  statusUpdateState?: string;
  statusUpdateUuid?: Buffer;
  statuses: Msg[];
  /** Seconds since the epoch, set when the agent became unreachable. */
  unreachableTime?: number;
  /** True once the task's resources went back to the allocator. */
  released: boolean;
  /** The role the task's resources are allocated to. */
  role: string;
  user?: string;
}

export interface OfferRecord {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  readonly resources: Resources;
  readonly message: Msg;
  timer?: TimerHandle;
}

function bump(map: Map<string, Resources>, key: string, r: Resources, sign: 1 | -1): void {
  const cur = map.get(key) ?? Resources.empty();
  const next = sign > 0 ? cur.plus(r) : cur.minus(r);
  if (next.isEmpty()) map.delete(key);
  else map.set(key, next);
}

export class Framework {
  info: Msg;
  connection?: EventSink;
  /** Pid of a driver-based framework (kept while it is disconnected). */
  pid?: string;
  connected = false;
  active = false;
  /** Known only from an agent's re-registration, not yet subscribed. */
  recovered = false;
  readonly tasks = new Map<string, TaskRecord>();
  readonly unreachableTasks = new Map<string, TaskRecord>();
  completedTasks: TaskRecord[] = [];
  readonly offers = new Set<string>();
  /** agentId -> executorId -> ExecutorInfo */
  readonly executors = new Map<string, Map<string, Msg>>();
  /** agentId -> resources of its tasks and executors there. */
  readonly usedByAgent = new Map<string, Resources>();
  suppressedRoles = new Set<string>();
  /** OfferConstraints from SUBSCRIBE/UPDATE_FRAMEWORK (enforced by the allocator). */
  offerConstraints?: Msg;
  registeredTime: number;
  reregisteredTime?: number;
  unregisteredTime?: number;
  failoverTimer?: TimerHandle;
  heartbeatTimer?: TimerHandle;

  constructor(
    readonly id: string,
    info: Msg,
    now: number,
  ) {
    this.info = { ...info, id: { value: id } };
    this.registeredTime = now;
  }

  get name(): string {
    return String(this.info.name ?? '');
  }

  capabilities(): Set<string> {
    return new Set(((this.info.capabilities ?? []) as Msg[]).map((c) => String(c.type)));
  }

  hasCapability(type: string): boolean {
    return this.capabilities().has(type);
  }

  get partitionAware(): boolean {
    return this.hasCapability('PARTITION_AWARE');
  }

  roles(): string[] {
    return frameworkRoles(this.info);
  }

  /** Per-framework counters (`calls/<type>`, `events/<type>`, `offers/...`), published under its prefix. */
  readonly counters = new Map<string, number>();

  count(key: string, by = 1): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  send(event: Msg): void {
    if (!this.connected || !this.connection) return;
    this.connection.send(event);
    if (event.type === 'HEARTBEAT') return;
    this.count('events');
    this.count(`events/${String(event.type).toLowerCase()}`);
  }

  addUsed(agentId: string, r: Resources): void {
    bump(this.usedByAgent, agentId, r, 1);
  }

  removeUsed(agentId: string, r: Resources): void {
    bump(this.usedByAgent, agentId, r, -1);
  }

  totalUsed(): Resources {
    let total = Resources.empty();
    for (const r of this.usedByAgent.values()) total = total.plus(r);
    return total;
  }

  executorsOn(agentId: string): Map<string, Msg> | undefined {
    return this.executors.get(agentId);
  }
}

export function frameworkRoles(info: Msg): string[] {
  const multi = ((info.capabilities ?? []) as Msg[]).some((c) => c.type === 'MULTI_ROLE');
  if (multi) return [...((info.roles ?? []) as string[])];
  return [typeof info.role === 'string' ? info.role : '*'];
}

export class Agent {
  info: Msg;
  pid: string;
  version: string;
  capabilities: string[];
  total: Resources;
  connected = true;
  active = true;
  /** Deactivated by an operator (DEACTIVATE_AGENT): no offers until reactivated. */
  deactivated = false;
  /** DrainInfo while draining (MNT-02): {state: DRAINING|DRAINED, config}. */
  drainInfo?: Msg;
  /** Scheduled maintenance of its machine (Unavailability), shown in offers. */
  unavailability?: Msg;
  registeredTime: number;
  reregisteredTime?: number;
  /**
   * The last re-registration handled in full: its body's digest, what it reported, and the agent
   * state it left. A byte-identical retry while none of that changed is answered without decoding.
   */
  lastReregistration?: { digest: string; reported: Set<string>; total: Resources; info: Msg; capabilities: string[] };
  /** frameworkId -> taskId -> task */
  readonly tasks = new Map<string, Map<string, TaskRecord>>();
  /** frameworkId -> executorId -> ExecutorInfo */
  readonly executors = new Map<string, Map<string, Msg>>();
  readonly usedByFramework = new Map<string, Resources>();
  readonly offers = new Set<string>();
  /** Kills to re-send if the agent re-registers while they are pending. */
  readonly killedTasks = new Map<string, Set<string>>();

  constructor(
    readonly id: string,
    info: Msg,
    pid: string,
    version: string,
    capabilities: string[],
    total: Resources,
    now: number,
  ) {
    this.info = { ...info, id: { value: id } };
    this.pid = pid;
    this.version = version;
    this.capabilities = capabilities;
    this.total = total;
    this.registeredTime = now;
  }

  get hostname(): string {
    return String(this.info.hostname ?? '');
  }

  task(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.tasks.get(frameworkId)?.get(taskId);
  }

  addTask(t: TaskRecord): void {
    let m = this.tasks.get(t.frameworkId);
    if (!m) this.tasks.set(t.frameworkId, (m = new Map()));
    m.set(t.id, t);
  }

  removeTask(t: TaskRecord): void {
    const m = this.tasks.get(t.frameworkId);
    if (!m) return;
    m.delete(t.id);
    if (m.size === 0) this.tasks.delete(t.frameworkId);
  }

  hasExecutor(frameworkId: string, executorId: string): boolean {
    return this.executors.get(frameworkId)?.has(executorId) ?? false;
  }

  addUsed(frameworkId: string, r: Resources): void {
    bump(this.usedByFramework, frameworkId, r, 1);
  }

  removeUsed(frameworkId: string, r: Resources): void {
    bump(this.usedByFramework, frameworkId, r, -1);
  }

  totalUsed(): Resources {
    let total = Resources.empty();
    for (const r of this.usedByFramework.values()) total = total.plus(r);
    return total;
  }

  allTasks(): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const m of this.tasks.values()) out.push(...m.values());
    return out;
  }
}
