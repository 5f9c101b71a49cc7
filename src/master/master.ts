// The Meseta master: owns frameworks, agents, tasks and offers; the allocator decides, the master acts.
// HTTP (scheduler API, endpoints) and libprocess (agents) feed it through the methods below.
import type { Clock } from '../common/clock.js';
import { agentIdFor, frameworkIdFor } from '../common/ids.js';
import { logger } from '../common/log.js';
import { Resources } from '../resources/index.js';
import type { Allocator, Msg } from './allocator/allocator.js';
import { DEFAULT_REFUSE_SECONDS, HEARTBEAT_INTERVAL_MS, HTTP_FRAMEWORK_PID, MAX_REFUSE_SECONDS } from './constants.js';
import { AgentHealth, type ObserverActor, PONG } from './health.js';
import { agentModel, frameworkModel, taskModel } from './model.js';
import { type MachineId, MaintenanceBook, machineMatches } from './maintenance.js';
import { OfferBook } from './offers.js';
import { SPECULATIVE_OPERATIONS, allocateOperation, applyCheckpointed, checkpointedResources, validateOperation } from './operations.js';
import { checkQuotaUpdate, isRemoval, toAllocatorQuota, validateQuotaConfig } from './quota.js';
import { Agent, type EventSink, Framework, type OfferRecord, type TaskRecord, frameworkRoles } from './records.js';
import { parseUpid } from '../transport/upid.js';
import { reconcileExplicit, reconcileImplicit, type ReconcileView } from './reconciliation.js';
import { afterAdmission, isAdmitting } from './admission.js';
import { AgentRemovals, type RemovalRate, exceedsRemovalLimit } from './removals.js';
import { isTerminalState, masterStatus } from './task-states.js';
import {
  allocatedResources, canonicalJson, validateFrameworkInfo, validateFrameworkUpdate, validateOffers, validateTask,
} from './tasks/validation.js';

const log = logger('master');

/** Message names of the agent protocol (WIRE-03). */
export const MSG = {
  registerSlave: 'mesos.internal.RegisterSlaveMessage',
  reregisterSlave: 'mesos.internal.ReregisterSlaveMessage',
  unregisterSlave: 'mesos.internal.UnregisterSlaveMessage',
  slaveRegistered: 'mesos.internal.SlaveRegisteredMessage',
  slaveReregistered: 'mesos.internal.SlaveReregisteredMessage',
  statusUpdate: 'mesos.internal.StatusUpdateMessage',
  statusUpdateAck: 'mesos.internal.StatusUpdateAcknowledgementMessage',
  exitedExecutor: 'mesos.internal.ExitedExecutorMessage',
  executorToFramework: 'mesos.internal.ExecutorToFrameworkMessage',
  frameworkToExecutor: 'mesos.internal.FrameworkToExecutorMessage',
  runTask: 'mesos.internal.RunTaskMessage',
  runTaskGroup: 'mesos.internal.RunTaskGroupMessage',
  killTask: 'mesos.internal.KillTaskMessage',
  shutdownFramework: 'mesos.internal.ShutdownFrameworkMessage',
  shutdownExecutor: 'mesos.internal.ShutdownExecutorMessage',
  updateFramework: 'mesos.internal.UpdateFrameworkMessage',
  shutdown: 'mesos.internal.ShutdownMessage',
  drainSlave: 'mesos.internal.DrainSlaveMessage',
  checkpointResources: 'mesos.internal.CheckpointResourcesMessage',
  pong: PONG,
  updateSlave: 'mesos.internal.UpdateSlaveMessage',
} as const;

export type { ObserverActor };

/** What the master needs from libprocess. */
export interface MasterTransport {
  send(to: string, name: string, msg: Msg): void;
  link(to: string): void;
  spawnObserver(onPong: (from: string) => void): ObserverActor;
}

export interface MasterSettings {
  agentPingTimeoutMs: number;
  maxAgentPingTimeouts: number;
  offerTimeoutMs?: number;
  maxCompletedFrameworks: number;
  maxCompletedTasksPerFramework: number;
  maxUnreachableTasksPerFramework: number;
  rolesWhitelist?: Set<string>;
  /** --agent_reregister_timeout: how long agents recovered from the registry may take to come back. */
  agentReregisterTimeoutMs?: number;
  /** Static role weights from --weights. */
  weights?: Record<string, number>;
  /** --agent_removal_rate_limit (unset: no limit). */
  agentRemovalRate?: RemovalRate;
  /** --recovery_agent_removal_limit as a fraction (default 1 = 100%). */
  recoveryAgentRemovalLimit?: number;
}

/** The registry operations the master uses (the Registrar of src/master/registry). */
export interface RegistryPort {
  admitAgent(agentInfo: Msg): Promise<boolean>;
  updateAgent(agentInfo: Msg): Promise<boolean>;
  markUnreachable(agentId: string, timeMs: number): Promise<boolean>;
  markReachable(agentInfo: Msg): Promise<boolean>;
  markGone(agentId: string, timeMs: number): Promise<boolean>;
  removeAgent(agentId: string): Promise<boolean>;
  deactivateAgent(agentId: string): Promise<boolean>;
  reactivateAgent(agentId: string): Promise<boolean>;
  drainAgent(agentId: string, config: Msg): Promise<boolean>;
  markAgentDrained(agentId: string): Promise<boolean>;
  updateWeights(weightInfos: Msg[]): Promise<boolean>;
  updateSchedule(schedule: Msg): Promise<boolean>;
  startMaintenance(machineIds: Msg[]): Promise<boolean>;
  stopMaintenance(machineIds: Msg[]): Promise<boolean>;
  updateQuota(quotaConfigs: Msg[]): Promise<boolean>;
  metrics?(): Record<string, number>;
}

export interface MasterOptions {
  id: string;
  info: Msg;
  clock: Clock;
  allocator: Allocator;
  transport: MasterTransport;
  settings: MasterSettings;
  /** Flag values as /flags reports them. */
  flags: Record<string, string>;
  /** Where agent membership and weights are persisted (FT-02); none keeps them in memory only. */
  registry?: RegistryPort;
}

/** Terminal states counted by `master/tasks_<state>` counters. */
const COUNTED_STATES = new Set([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
]);

export class Master {
  readonly id: string;
  readonly info: Msg;
  readonly startTime: number;
  /** When this master became the leader (undefined while it is not). */
  electedTime?: number;
  /** Whether this master leads (standalone masters always do; with --zk once elected and recovered). */
  leading = true;
  /** The leading master's MasterInfo as detected (ZooKeeper); this master's own info while it leads. */
  private detectedLeader?: Msg;
  readonly clock: Clock;
  readonly settings: MasterSettings;
  readonly flagValues: Record<string, string>;

  private readonly allocator: Allocator;
  private readonly transport: MasterTransport;
  private readonly frameworksById = new Map<string, Framework>();
  private readonly completed: Framework[] = [];
  private readonly agentsById = new Map<string, Agent>();
  private readonly agentsByPid = new Map<string, Agent>();
  private readonly unreachable = new Map<string, { time: number; info: Msg }>();
  private readonly gone = new Map<string, number>();
  /** Agents admitted in the registry that have not re-registered with this master yet (FT-03). */
  private readonly recovered = new Map<string, { info: Msg; deactivated: boolean; drainInfo?: Msg }>();
  private reregisterTimer?: ReturnType<Clock['setTimeout']>;
  /** How many admitted agents the registry held at recovery (the removal limit's base). */
  private recoveredTotal = 0;
  private readonly removals: AgentRemovals;
  private readonly registry?: RegistryPort;
  private readonly offerBook: OfferBook;
  private readonly health: AgentHealth;
  private nextFrameworkId = 0;
  private nextAgentId = 0;
  private stopped = false;
  readonly counters = new Map<string, number>();
  private readonly operatorListeners = new Set<(event: Msg) => void>();
  /** Role weights (--weights, then UPDATE_WEIGHTS); the allocator is told of every change. */
  private readonly roleWeights = new Map<string, number>();
  /** QuotaConfig by role (UPDATE_QUOTA); the allocator enforces them. */
  private readonly quotaConfigs = new Map<string, Msg>();
  private readonly maintenance = new MaintenanceBook();
  /** Outstanding inverse offers (MNT-01), by id. */
  private readonly inverseOffers = new Map<string, { frameworkId: string; agentId: string }>();

  constructor(opts: MasterOptions) {
    this.id = opts.id;
    this.info = opts.info;
    this.clock = opts.clock;
    this.allocator = opts.allocator;
    this.transport = opts.transport;
    this.settings = opts.settings;
    this.flagValues = opts.flags;
    this.registry = opts.registry;
    this.startTime = this.clock.now();
    this.electedTime = this.startTime;
    for (const [role, w] of Object.entries(this.settings.weights ?? {})) this.roleWeights.set(role, w);
    this.offerBook = new OfferBook(this.id, this.clock, this.settings.offerTimeoutMs, (id) => this.rescindOffer(id, true));
    this.health = new AgentHealth({
      clock: this.clock,
      pingTimeoutMs: this.settings.agentPingTimeoutMs,
      maxPingTimeouts: this.settings.maxAgentPingTimeouts,
      spawn: (onPong) => this.transport.spawnObserver(onPong),
      lookup: (id) => this.agentsById.get(id),
      onUnreachable: (id) => this.agentUnhealthy(id),
      onPong: (id) => this.removals.cancel(id),
    });
    this.removals = new AgentRemovals(this.clock, {
      scheduled: () => this.inc('master/slave_unreachable_scheduled'),
      completed: () => this.inc('master/slave_unreachable_completed'),
      canceled: () => this.inc('master/slave_unreachable_canceled'),
    }, this.settings.agentRemovalRate);
  }

  // ---------------------------------------------------------------- views

  get frameworks(): Iterable<Framework> {
    return this.frameworksById.values();
  }
  get completedFrameworks(): readonly Framework[] {
    return this.completed;
  }
  get agents(): Iterable<Agent> {
    return this.agentsById.values();
  }
  get unreachableAgents(): ReadonlyMap<string, { time: number; info: Msg }> {
    return this.unreachable;
  }
  get leaderInfo(): Msg | undefined {
    return this.leading ? this.info : this.detectedLeader;
  }

  /** The detector saw a (new) leader, or none. */
  setDetectedLeader(leader: Msg | undefined): void {
    this.detectedLeader = leader;
  }

  /** HA: not leading until elected and the registry is recovered. */
  setLeading(leading: boolean): void {
    this.leading = leading;
    this.electedTime = leading ? this.clock.now() : undefined;
  }

  /** AgentInfos of agents known from the registry that have not re-registered yet. */
  get recoveredAgents(): Msg[] {
    return [...this.recovered.values()].map((r) => r.info);
  }
  registryMetrics(): Record<string, number> {
    return this.registry?.metrics?.() ?? {};
  }

  /**
   * Starts from the recovered registry (FT-03): admitted agents wait --agent_reregister_timeout to
   * re-register, unreachable and gone agents and the weights are remembered.
   */
  recover(registry: Msg): void {
    for (const s of (registry.slaves?.slaves ?? []) as Msg[]) {
      const id: string | undefined = s.info?.id?.value;
      if (id) this.recovered.set(id, { info: s.info, deactivated: s.deactivated === true, drainInfo: s.drain_info });
    }
    this.recoveredTotal = this.recovered.size;
    for (const u of (registry.unreachable?.slaves ?? []) as Msg[]) {
      if (u.id?.value) this.unreachable.set(u.id.value, { time: Number(u.timestamp?.nanoseconds ?? 0) / 1e6, info: { id: u.id } });
    }
    for (const g of (registry.gone?.slaves ?? []) as Msg[]) {
      if (g.id?.value) this.gone.set(g.id.value, Number(g.timestamp?.nanoseconds ?? 0) / 1e6);
    }
    const weights = ((registry.weights ?? []) as Msg[]).map((w) => ({ role: String(w.info?.role), weight: Number(w.info?.weight) }));
    if (weights.length > 0) {
      for (const w of weights) this.roleWeights.set(w.role, w.weight);
      this.allocator.updateWeights(weights);
    }
    const schedule = ((registry.schedules ?? []) as Msg[])[0];
    if (schedule) this.maintenance.setSchedule(schedule);
    const down = ((registry.machines?.machines ?? []) as Msg[]).filter((m) => m.info?.mode === 'DOWN').map((m) => m.info.id as MachineId);
    if (down.length > 0) this.maintenance.markDown(down);
    const quotas = new Map<string, ReturnType<typeof toAllocatorQuota>>();
    for (const c of (registry.quota_configs ?? []) as Msg[]) {
      this.quotaConfigs.set(String(c.role), c);
      quotas.set(String(c.role), toAllocatorQuota(c));
    }
    // Allocation may pause until enough agents are back when quotas exist (ALC-10).
    const recover = (this.allocator as unknown as { recover?: (n: number, q: typeof quotas) => void }).recover;
    if (typeof recover === 'function') recover.call(this.allocator, this.recovered.size, quotas);
    else for (const [role, q] of quotas) this.allocator.updateQuota(role, q);
    if (this.recovered.size > 0) {
      log.info(`Recovered ${this.recovered.size} agent(s) from the registry; waiting for them to re-register`);
      this.reregisterTimer = this.clock.setTimeout(() => this.recoveredAgentsTimeout(), this.settings.agentReregisterTimeoutMs ?? 600_000);
    }
  }

  /** Recovered agents that did not come back in time become unreachable. */
  private recoveredAgentsTimeout(): void {
    this.reregisterTimer = undefined;
    const limit = this.settings.recoveryAgentRemovalLimit ?? 1;
    if (exceedsRemovalLimit(this.recovered.size, this.recoveredTotal, limit)) {
      // The safety valve: so many missing agents smell of a network problem, not dead machines.
      log.error(
        `Post-recovery agent removal limit exceeded! After --agent_reregister_timeout ${this.recovered.size} of ` +
          `${this.recoveredTotal} agents (${((100 * this.recovered.size) / this.recoveredTotal).toFixed(1)}%) recovered from the registry ` +
          `did not re-register: ${[...this.recovered.keys()].join(', ')}. The configured --recovery_agent_removal_limit is ` +
          `${limit * 100}%; they are NOT marked unreachable. Investigate, or raise the limit and restart the master.`,
      );
      return;
    }
    for (const id of this.recovered.keys()) {
      // Same rate limit as health-check removals (Mesos's --agent_removal_rate_limit).
      this.removals.scheduleUnreachable(id, () => {
        const r = this.recovered.get(id);
        if (!r) return; // it came back meanwhile
        this.recovered.delete(id);
        const now = this.clock.now();
        log.warn(`Agent ${id} did not re-register within --agent_reregister_timeout; marking it unreachable`);
        this.unreachable.set(id, { time: now, info: r.info });
        this.persist('mark unreachable', this.registry?.markUnreachable(id, now));
        this.inc('master/recovery_slave_removals');
      });
    }
  }

  /** Registry GC dropped these agents. */
  pruneAgents(pruned: { unreachable: string[]; gone: string[] }): void {
    for (const id of pruned.unreachable) this.unreachable.delete(id);
    for (const id of pruned.gone) this.gone.delete(id);
  }

  /** Registry writes are not awaited: the master's state moves on, failures are logged. */
  private persist(what: string, op: Promise<boolean> | undefined): void {
    op?.catch((e) => log.error(`Registry operation '${what}' failed: ${(e as Error).message}`));
  }
  get offers(): Iterable<OfferRecord> {
    return this.offerBook.values();
  }
  framework(id: string | undefined): Framework | undefined {
    return id === undefined ? undefined : this.frameworksById.get(id);
  }
  agent(id: string | undefined): Agent | undefined {
    return id === undefined ? undefined : this.agentsById.get(id);
  }
  offer(id: string): OfferRecord | undefined {
    return this.offerBook.get(id);
  }
  /** The allocator's own metrics, when it publishes any. */
  allocatorMetrics(): Record<string, number> {
    const fn = (this.allocator as unknown as { metrics?: () => Record<string, number> }).metrics;
    return typeof fn === 'function' ? fn.call(this.allocator) : {};
  }

  private nowSeconds(): number {
    return this.clock.now() / 1000;
  }

  get weights(): ReadonlyMap<string, number> {
    return this.roleWeights;
  }

  /** UPDATE_WEIGHTS / PUT /weights. */
  updateWeights(weights: Array<{ role: string; weight: number }>): void {
    for (const { role, weight } of weights) this.roleWeights.set(role, weight);
    this.allocator.updateWeights(weights);
    this.persist('update weights', this.registry?.updateWeights(weights.map(({ role, weight }) => ({ role, weight }))));
  }

  get quotas(): ReadonlyMap<string, Msg> {
    return this.quotaConfigs;
  }

  /** UPDATE_QUOTA (all or nothing): returns an error for a 400, or undefined. */
  updateQuota(configs: Msg[], force: boolean): string | undefined {
    const seen = new Set<string>();
    for (const c of configs) {
      const err = validateQuotaConfig(c);
      if (err) return `Invalid QuotaConfig: ${err}`;
      if (seen.has(String(c.role))) return `Invalid QuotaConfig: role '${c.role}' appears more than once`;
      seen.add(String(c.role));
    }
    if (!force) {
      const err = checkQuotaUpdate(configs, {
        capacity: this.clusterCapacity(),
        consumed: (role) => this.consumedBy(role),
        current: this.quotaConfigs,
      });
      if (err) return err;
    }
    for (const c of configs) {
      const role = String(c.role);
      if (isRemoval(c)) this.quotaConfigs.delete(role);
      else this.quotaConfigs.set(role, c);
      this.allocator.updateQuota(role, toAllocatorQuota(c));
    }
    this.persist('update quota', this.registry?.updateQuota(configs));
    return undefined;
  }

  private clusterCapacity(): Map<string, number> {
    let total = Resources.empty();
    for (const a of this.agentsById.values()) total = total.plus(a.total);
    return total.scalarsOnly().quantities();
  }

  /** Quota consumption: the role's reservations plus its unreserved allocations. */
  private consumedBy(role: string): Map<string, number> {
    let consumed = Resources.empty();
    for (const a of this.agentsById.values()) {
      consumed = consumed.plus(a.total.reserved(role));
      for (const used of a.usedByFramework.values()) {
        const mine = used.allocations().get(role);
        if (mine) consumed = consumed.plus(mine.unreserved().unallocate());
      }
    }
    return consumed.scalarsOnly().quantities();
  }

  // ---------------------------------------------------------------- maintenance (MNT-01)

  get maintenanceSchedule(): Msg {
    return this.maintenance.current;
  }

  /** ClusterStatus: draining machines with the frameworks' inverse offer answers, and down machines. */
  maintenanceStatus(): Msg {
    const statuses = this.allocator.getInverseOfferStatuses?.() ?? new Map<string, Map<string, Msg>>();
    const draining = this.maintenance.drainingMachines().map((id) => {
      const list: Msg[] = [];
      for (const agent of this.agentsById.values()) {
        if (!machineMatchesAgent(id, agent)) continue;
        for (const s of statuses.get(agent.id)?.values() ?? []) list.push(s);
      }
      return list.length > 0 ? { id, statuses: list } : { id };
    });
    return { draining_machines: draining, down_machines: this.maintenance.downMachines() };
  }

  /** UPDATE_MAINTENANCE_SCHEDULE / POST /maintenance/schedule. */
  updateMaintenanceSchedule(schedule: Msg): string | undefined {
    const err = this.maintenance.validateSchedule(schedule);
    if (err) return err;
    this.maintenance.setSchedule(schedule);
    this.persist('update maintenance schedule', this.registry?.updateSchedule(this.maintenance.current));
    for (const agent of this.agentsById.values()) this.refreshUnavailability(agent);
    return undefined;
  }

  /** START_MAINTENANCE / POST /machine/down: the machines' agents are shut down and removed. */
  startMaintenance(machines: MachineId[]): string | undefined {
    const err = this.maintenance.validateDown(machines);
    if (err) return err;
    this.maintenance.markDown(machines);
    this.persist('start maintenance', this.registry?.startMaintenance(machines));
    for (const agent of [...this.agentsById.values()]) {
      if (!machines.some((m) => machineMatchesAgent(m, agent))) continue;
      if (agent.connected) this.transport.send(agent.pid, MSG.shutdown, { message: "Operator initiated 'Machine DOWN'" });
      this.removeAgent(agent, 'the machine is DOWN for maintenance', 'removed');
    }
    return undefined;
  }

  /** STOP_MAINTENANCE / POST /machine/up: the machines leave the schedule and may register again. */
  stopMaintenance(machines: MachineId[]): string | undefined {
    const err = this.maintenance.validateUp(machines);
    if (err) return err;
    this.maintenance.markUp(machines);
    this.persist('stop maintenance', this.registry?.stopMaintenance(machines));
    return undefined;
  }

  /** An agent's scheduled unavailability changed (or it just registered): tell the allocator. */
  private refreshUnavailability(agent: Agent): void {
    const next = this.maintenance.unavailabilityFor(agent.hostname, parseUpid(agent.pid).ip);
    if (canonicalJson(next ?? null) === canonicalJson(agent.unavailability ?? null)) return;
    agent.unavailability = next;
    for (const [id, io] of [...this.inverseOffers]) if (io.agentId === agent.id) this.rescindInverseOffer(id);
    this.allocator.updateUnavailability?.(agent.id, next);
  }

  /** The allocator's inverse offer callback: one INVERSE_OFFERS event per framework. */
  onInverseOffers(frameworkId: string, agentIds: string[]): void {
    const fw = this.frameworksById.get(frameworkId);
    if (!fw || !fw.connected || fw.pid !== undefined) return; // drivers never get inverse offers
    const list: Msg[] = [];
    for (const agentId of agentIds) {
      const agent = this.agentsById.get(agentId);
      if (!agent?.unavailability) continue;
      const id = this.offerBook.nextId();
      const addr = parseUpid(agent.pid);
      this.inverseOffers.set(id, { frameworkId, agentId });
      list.push({
        id: { value: id },
        url: { scheme: 'http', address: { hostname: agent.hostname, ip: addr.ip, port: addr.port }, path: `/${addr.id}` },
        framework_id: { value: frameworkId },
        agent_id: { value: agentId },
        unavailability: agent.unavailability,
      });
    }
    if (list.length > 0) fw.send({ type: 'INVERSE_OFFERS', inverse_offers: { inverse_offers: list } });
  }

  /** ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS. */
  respondToInverseOffers(fw: Framework, ids: string[], accept: boolean, filters: Msg | undefined): void {
    for (const id of ids) {
      const io = this.inverseOffers.get(id);
      if (!io || io.frameworkId !== fw.id) {
        log.warn(`Framework ${fw.id}: ignoring answer to unknown inverse offer ${id}`);
        continue;
      }
      this.inverseOffers.delete(id);
      const status = { status: accept ? 'ACCEPT' : 'DECLINE', framework_id: { value: fw.id }, timestamp: { nanoseconds: this.clock.now() * 1e6 } };
      this.allocator.updateInverseOffer?.(io.agentId, fw.id, status, refuseSeconds(filters));
    }
  }

  private rescindInverseOffer(id: string): void {
    const io = this.inverseOffers.get(id);
    if (!io) return;
    this.inverseOffers.delete(id);
    this.allocator.updateInverseOffer?.(io.agentId, io.frameworkId);
    this.frameworksById.get(io.frameworkId)?.send({ type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: { value: id } } });
  }

  /** Operator API SUBSCRIBE: `fn` sees every master Event (TASK_ADDED, AGENT_REMOVED, ...). */
  onOperatorEvent(fn: (event: Msg) => void): () => void {
    this.operatorListeners.add(fn);
    return () => this.operatorListeners.delete(fn);
  }

  /** Builds the event only when someone listens. */
  private emit(build: () => Msg): void {
    if (this.operatorListeners.size === 0) return;
    const event = build();
    for (const fn of [...this.operatorListeners]) fn(event);
  }

  private frameworkEvent(fw: Framework, type: 'FRAMEWORK_ADDED' | 'FRAMEWORK_UPDATED'): void {
    const key = type === 'FRAMEWORK_ADDED' ? 'framework_added' : 'framework_updated';
    this.emit(() => ({ type, [key]: { framework: frameworkModel(this, fw) } }));
  }

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  private countTaskState(status: Msg): void {
    const state = String(status.state);
    if (COUNTED_STATES.has(state)) this.inc(`master/tasks_${state.slice(5).toLowerCase()}`);
    const source = String(status.source ?? 'SOURCE_MASTER').slice(7).toLowerCase();
    const reason = status.reason ? String(status.reason).toLowerCase() : undefined;
    if (isTerminalState(state) && reason) {
      this.inc(`master/${state.toLowerCase()}/source_${source}/${reason}`);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const fw of this.frameworksById.values()) {
      this.clock.clearInterval(fw.heartbeatTimer);
      this.clock.clearTimeout(fw.failoverTimer);
      const sink = fw.connection;
      fw.connection = undefined;
      fw.connected = false;
      sink?.close();
    }
    this.offerBook.close();
    this.health.close();
    this.removals.close();
    this.clock.clearTimeout(this.reregisterTimer);
    this.allocator.close();
  }

  // ---------------------------------------------------------------- frameworks

  /** SUBSCRIBE on an open stream: answers SUBSCRIBED or ERROR (then closes) on `sink`. */
  subscribe(sink: EventSink, subscribe: Msg): void {
    const info: Msg = subscribe.framework_info ?? {};
    const countCall = (fw: Framework) => {
      fw.count('calls');
      fw.count('calls/subscribe');
    };
    const suppressed: string[] = [...((subscribe.suppressed_roles ?? []) as string[])];
    const fail = (message: string) => {
      sink.send({ type: 'ERROR', error: { message } });
      sink.close();
    };
    const err = validateFrameworkInfo(info, suppressed, this.settings.rolesWhitelist) ?? this.validateOfferConstraints(info, subscribe.offer_constraints);
    if (err) return fail(err);
    const requestedId: string | undefined = info.id?.value;
    if (requestedId !== undefined && this.completed.some((f) => f.id === requestedId)) return fail('Framework has been removed');

    const existing = requestedId !== undefined ? this.frameworksById.get(requestedId) : undefined;
    if (!existing) {
      const id = requestedId ?? frameworkIdFor(this.id, this.nextFrameworkId++);
      const fw = new Framework(id, info, this.clock.now());
      fw.suppressedRoles = new Set(suppressed);
      this.frameworksById.set(id, fw);
      countCall(fw);
      this.attach(fw, sink);
      fw.active = true;
      this.allocator.addFramework(id, fw.info, new Map(fw.usedByAgent), true, suppressed);
      this.setOfferConstraints(fw, subscribe.offer_constraints);
      log.info(`Framework ${id} (${fw.name}) subscribed`);
      this.frameworkEvent(fw, 'FRAMEWORK_ADDED');
      return;
    }

    // Re-subscription (failover) of a framework the master knows.
    const fw = existing;
    countCall(fw);
    const updateErr = validateFrameworkUpdate(fw.info, { ...info, user: fw.info.user, checkpoint: fw.info.checkpoint });
    if (updateErr) return fail(updateErr);
    const old = fw.connection;
    // A driver retrying its registration from the same pid is not a failover.
    if (old && old !== sink && old.streamId !== sink.streamId) {
      fw.connection = undefined;
      old.send({ type: 'ERROR', error: { message: 'Framework failed over' } });
      old.close();
    }
    this.clock.clearTimeout(fw.failoverTimer);
    fw.failoverTimer = undefined;
    this.applyFrameworkInfo(fw, { ...info, user: fw.info.user, checkpoint: fw.info.checkpoint }, suppressed);
    fw.reregisteredTime = this.clock.now();
    fw.unregisteredTime = undefined;
    const wasRecovered = fw.recovered;
    fw.recovered = false;
    this.attach(fw, sink);
    for (const offerId of [...fw.offers]) this.rescindOffer(offerId, true);
    if (wasRecovered) {
      this.allocator.addFramework(fw.id, fw.info, new Map(fw.usedByAgent), true, suppressed);
    } else if (!fw.active) {
      this.allocator.activateFramework(fw.id);
    }
    this.setOfferConstraints(fw, subscribe.offer_constraints);
    fw.active = true;
    log.info(`Framework ${fw.id} (${fw.name}) re-subscribed`);
    this.frameworkEvent(fw, wasRecovered ? 'FRAMEWORK_ADDED' : 'FRAMEWORK_UPDATED');
  }

  private attach(fw: Framework, sink: EventSink): void {
    fw.connection = sink;
    fw.connected = true;
    fw.pid = sink.pid;
    if (sink.pid !== undefined) this.transport.link(sink.pid);
    sink.send({
      type: 'SUBSCRIBED',
      subscribed: { framework_id: { value: fw.id }, heartbeat_interval_seconds: HEARTBEAT_INTERVAL_MS / 1000, master_info: this.info },
    });
    this.clock.clearInterval(fw.heartbeatTimer);
    const heartbeat = () => fw.send({ type: 'HEARTBEAT' });
    heartbeat();
    fw.heartbeatTimer = this.clock.setInterval(heartbeat, HEARTBEAT_INTERVAL_MS);
  }

  /** Updates a framework's info and suppressed roles, telling the allocator and the agents. */
  private applyFrameworkInfo(fw: Framework, info: Msg, suppressed: string[]): void {
    const oldRoles = new Set(fw.roles());
    fw.info = { ...info, id: { value: fw.id } };
    const newRoles = new Set(fw.roles());
    const oldSuppressed = fw.suppressedRoles;
    fw.suppressedRoles = new Set(suppressed);
    // Offers to roles the framework left are no longer valid.
    for (const offerId of [...fw.offers]) {
      const o = this.offerBook.get(offerId);
      if (o && !newRoles.has(o.role)) this.rescindOffer(offerId, true);
    }
    if (!fw.recovered) this.allocator.updateFramework(fw.id, fw.info, suppressed);
    const unsuppressed = [...oldSuppressed].filter((r) => !fw.suppressedRoles.has(r) && newRoles.has(r));
    const added = [...newRoles].filter((r) => !oldRoles.has(r) && !fw.suppressedRoles.has(r));
    if (!fw.recovered && (unsuppressed.length > 0 || added.length > 0)) this.allocator.reviveOffers(fw.id, [...unsuppressed, ...added]);
    // Every agent hears of it (as in Mesos), so later launches there use the new info.
    for (const agent of this.agentsById.values()) {
      if (agent.connected) {
        this.transport.send(agent.pid, MSG.updateFramework, { framework_id: { value: fw.id }, pid: fw.pid ?? HTTP_FRAMEWORK_PID, framework_info: fw.info });
      }
    }
  }

  /** Offer constraints (SCH-10): roles among the framework's, and compilable by the allocator. */
  private validateOfferConstraints(info: Msg, constraints: Msg | undefined): string | undefined {
    if (constraints === undefined) return undefined;
    const roles = new Set(frameworkRoles(info));
    for (const role of Object.keys(constraints.role_constraints ?? {})) {
      if (!roles.has(role)) return `Offer constraints specify \`role_constraints\` for a role '${role}', which is not in the framework's roles`;
    }
    try {
      // Unknown framework id: the allocator only compiles (and so validates) the constraints.
      this.allocator.updateOfferConstraints?.('', constraints);
    } catch (e) {
      return `Offer constraints are not valid: ${(e as Error).message}`;
    }
    return undefined;
  }

  private setOfferConstraints(fw: Framework, constraints: Msg | undefined): void {
    fw.offerConstraints = constraints;
    if (!fw.recovered) this.allocator.updateOfferConstraints?.(fw.id, constraints);
  }

  /** UPDATE_FRAMEWORK (SCH-26): returns an error message for a 400, or undefined. */
  updateFramework(fw: Framework, update: Msg): string | undefined {
    const info: Msg = update.framework_info ?? {};
    const suppressed: string[] = [...((update.suppressed_roles ?? []) as string[])];
    const err =
      validateFrameworkInfo(info, suppressed, this.settings.rolesWhitelist) ??
      validateFrameworkUpdate(fw.info, info) ??
      this.validateOfferConstraints(info, update.offer_constraints);
    if (err) return err;
    this.applyFrameworkInfo(fw, info, suppressed);
    this.setOfferConstraints(fw, update.offer_constraints);
    this.frameworkEvent(fw, 'FRAMEWORK_UPDATED');
    return undefined;
  }

  /** The SUBSCRIBE stream of `fw` closed (client went away). */
  streamClosed(fw: Framework, sink: EventSink): void {
    if (fw.connection !== sink || this.stopped) return;
    fw.connection = undefined;
    fw.connected = false;
    this.clock.clearInterval(fw.heartbeatTimer);
    fw.heartbeatTimer = undefined;
    fw.unregisteredTime = this.clock.now();
    this.deactivate(fw);
    this.frameworkEvent(fw, 'FRAMEWORK_UPDATED');
    const timeoutSecs = Number(fw.info.failover_timeout ?? 0);
    log.info(`Framework ${fw.id} disconnected; failover timeout ${timeoutSecs}s`);
    if (!(timeoutSecs > 0)) {
      this.removeFramework(fw);
      return;
    }
    fw.failoverTimer = this.clock.setTimeout(() => {
      fw.failoverTimer = undefined;
      if (!fw.connected && this.frameworksById.get(fw.id) === fw) {
        log.info(`Framework ${fw.id} failover timeout expired`);
        this.removeFramework(fw);
      }
    }, Math.min(timeoutSecs * 1000, 2 ** 31 - 1));
  }

  /** A driver's DeactivateFrameworkMessage: no offers until it re-registers. */
  deactivateFramework(fw: Framework): void {
    this.inc('master/messages_deactivate_framework');
    this.deactivate(fw);
  }

  private deactivate(fw: Framework): void {
    if (fw.active) {
      fw.active = false;
      this.allocator.deactivateFramework(fw.id);
    }
    for (const offerId of [...fw.offers]) this.rescindOffer(offerId, false);
  }

  /** TEARDOWN, failover timeout: kill everything of the framework and forget it. */
  removeFramework(fw: Framework): void {
    if (this.frameworksById.get(fw.id) !== fw) return;
    log.info(`Removing framework ${fw.id} (${fw.name})`);
    this.clock.clearTimeout(fw.failoverTimer);
    this.clock.clearInterval(fw.heartbeatTimer);
    this.deactivate(fw);
    for (const agent of this.agentsById.values()) {
      if (agent.connected) this.transport.send(agent.pid, MSG.shutdownFramework, { framework_id: { value: fw.id } });
    }
    for (const task of [...fw.tasks.values()]) {
      if (!isTerminalState(task.state)) {
        const status = masterStatus({
          taskId: task.id, state: 'TASK_KILLED', reason: 'REASON_FRAMEWORK_REMOVED', message: `Framework ${fw.id} removed`,
          agentId: task.agentId, executorId: task.executorId, nowSeconds: this.nowSeconds(),
        });
        this.updateTask(task, status, undefined);
      }
      this.removeTask(task);
    }
    for (const [agentId, execs] of [...fw.executors]) {
      for (const execId of [...execs.keys()]) this.removeExecutor(fw.id, agentId, execId);
    }
    fw.unreachableTasks.clear();
    for (const [id, io] of [...this.inverseOffers]) if (io.frameworkId === fw.id) this.inverseOffers.delete(id);
    this.allocator.removeFramework(fw.id);
    this.frameworksById.delete(fw.id);
    fw.active = false;
    fw.unregisteredTime ??= this.clock.now();
    const sink = fw.connection;
    fw.connection = undefined;
    fw.connected = false;
    sink?.close();
    this.completed.push(fw);
    while (this.completed.length > this.settings.maxCompletedFrameworks) this.completed.shift();
    this.emit(() => ({ type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: fw.info } }));
  }

  // ---------------------------------------------------------------- offers

  /** The allocator's offer callback: one OFFERS event per framework per allocation. */
  onAllocation(frameworkId: string, byRole: Map<string, Map<string, Resources>>): void {
    if (this.stopped) return;
    const fw = this.frameworksById.get(frameworkId);
    const offers: Msg[] = [];
    for (const [role, byAgent] of byRole) {
      for (const [agentId, resources] of byAgent) {
        const agent = this.agentsById.get(agentId);
        if (!fw || !fw.active || !fw.connected || !agent || !agent.active || agent.deactivated || !agent.connected) {
          this.allocator.recoverResources(frameworkId, agentId, resources);
          continue;
        }
        offers.push(this.createOffer(fw, agent, role, resources.allocate(role)).message);
      }
    }
    if (fw && offers.length > 0) {
      fw.count('offers/sent', offers.length);
      fw.send({ type: 'OFFERS', offers: { offers } });
    }
  }

  private createOffer(fw: Framework, agent: Agent, role: string, resources: Resources): OfferRecord {
    return this.offerBook.create(fw, agent, role, resources);
  }

  /** Removes an offer without returning its resources (they are being used or recovered by the caller). */
  private removeOffer(offer: OfferRecord): void {
    this.offerBook.remove(offer, this.frameworksById.get(offer.frameworkId), this.agentsById.get(offer.agentId));
  }

  /** Takes an offer back: resources return to the allocator (no filter), the framework may be told. */
  private rescindOffer(offerId: string, notify: boolean): void {
    const offer = this.offerBook.get(offerId);
    if (!offer) return;
    this.removeOffer(offer);
    this.allocator.recoverResources(offer.frameworkId, offer.agentId, offer.resources);
    const fw = this.frameworksById.get(offer.frameworkId);
    fw?.count('offers/rescinded');
    if (notify) fw?.send({ type: 'RESCIND', rescind: { offer_id: { value: offerId } } });
  }

  /** The allocator's rescind hook: take back a framework's offers on one agent. */
  rescindOffersOn(frameworkId: string, agentId: string): void {
    const fw = this.frameworksById.get(frameworkId);
    if (!fw) return;
    for (const id of [...fw.offers]) {
      if (this.offerBook.get(id)?.agentId === agentId) this.rescindOffer(id, true);
    }
  }

  // ---------------------------------------------------------------- scheduler calls

  teardown(fw: Framework): void {
    this.inc('master/messages_unregister_framework');
    this.removeFramework(fw);
  }

  accept(fw: Framework, accept: Msg): void {
    const offerIds: string[] = ((accept.offer_ids ?? []) as Msg[]).map((o) => String(o.value));
    const operations: Msg[] = accept.operations ?? [];
    const refuse = refuseSeconds(accept.filters);
    const error = validateOffers(this, fw, offerIds);

    // Every offer of this framework named in the call is used up, valid call or not.
    let offered = Resources.empty();
    let agentId: string | undefined;
    let role: string | undefined;
    for (const id of new Set(offerIds)) {
      const offer = this.offerBook.get(id);
      if (!offer || offer.frameworkId !== fw.id) continue;
      if (agentId !== undefined && (offer.agentId !== agentId || offer.role !== role)) {
        this.removeOffer(offer);
        this.allocator.recoverResources(fw.id, offer.agentId, offer.resources);
        continue;
      }
      agentId = offer.agentId;
      role = offer.role;
      offered = offered.plus(offer.resources);
      this.removeOffer(offer);
      if (error === undefined) fw.count('offers/accepted');
    }

    if (error !== undefined) {
      log.warn(`ACCEPT of framework ${fw.id} has invalid offers: ${error}`);
      if (agentId !== undefined && !offered.isEmpty()) this.allocator.recoverResources(fw.id, agentId, offered);
      for (const op of operations) {
        const tasks: Msg[] = op.type === 'LAUNCH' ? op.launch?.task_infos ?? [] : op.type === 'LAUNCH_GROUP' ? op.launch_group?.task_group?.tasks ?? [] : [];
        for (const task of tasks) {
          const status = masterStatus({
            taskId: String(task.task_id?.value ?? ''),
            state: fw.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST',
            reason: 'REASON_INVALID_OFFERS',
            message: `Task launched with invalid offers: ${error}`,
            agentId: task.agent_id?.value,
            nowSeconds: this.nowSeconds(),
          });
          this.countTaskState(status);
          this.forwardStatus(fw, status);
        }
      }
      return;
    }

    const agent = this.agentsById.get(agentId!)!;
    let available = offered;
    for (const op of operations) {
      switch (op.type) {
        case 'LAUNCH':
          this.inc('master/messages_launch_tasks');
          available = this.launchTasks(fw, agent, role!, available, op.launch?.task_infos ?? []);
          break;
        case 'LAUNCH_GROUP':
          available = this.launchGroup(fw, agent, role!, available, op.launch_group ?? {});
          break;
        default:
          if (SPECULATIVE_OPERATIONS.has(op.type)) {
            available = this.applyOfferOperation(fw, agent, role!, available, op);
          } else {
            log.warn(`Framework ${fw.id}: operation ${op.type} is not supported; ignoring it`);
            if (op.id) this.operationStatus(fw, agent, op, 'OPERATION_UNSUPPORTED', `Operation ${op.type} is not supported`);
          }
      }
    }
    if (!available.isEmpty()) this.allocator.recoverResources(fw.id, agent.id, available, refuse);
  }

  /** RESERVE/UNRESERVE/CREATE/DESTROY on offered resources: applied at once, the agent is told. */
  private applyOfferOperation(fw: Framework, agent: Agent, role: string, available: Resources, op: Msg): Resources {
    const allocated = allocateOperation(op, role);
    let err = validateOperation(allocated, {
      role, refinement: fw.hasCapability('RESERVATION_REFINEMENT'), principal: fw.info.principal, agentTotal: agent.total,
    });
    let converted = available;
    if (!err) {
      try {
        converted = available.apply(allocated);
      } catch (e) {
        err = (e as Error).message;
      }
    }
    if (err) {
      log.warn(`Framework ${fw.id}: dropping ${op.type} operation: ${err}`);
      if (op.id) this.operationStatus(fw, agent, op, 'OPERATION_ERROR', err);
      return available;
    }
    const consumed = available.minus(converted);
    const produced = converted.minus(available);
    this.allocator.updateAllocation?.(fw.id, agent.id, consumed, produced);
    this.convertAgentResources(agent, consumed, produced);
    if (op.id) this.operationStatus(fw, agent, op, 'OPERATION_FINISHED', undefined, produced);
    return converted;
  }

  /** The agent's total changed by an operation; it checkpoints its new reservations and volumes. */
  private convertAgentResources(agent: Agent, consumed: Resources, produced: Resources): void {
    agent.total = agent.total.minus(consumed.unallocate()).plus(produced.unallocate());
    if (agent.connected) {
      this.transport.send(agent.pid, MSG.checkpointResources, { resources: checkpointedResources(agent.total).toProto({ refinement: true }) });
    }
  }

  private operationStatus(fw: Framework, agent: Agent, op: Msg, state: string, message?: string, converted?: Resources): void {
    const status: Msg = { operation_id: op.id, state, agent_id: { value: agent.id } };
    if (message !== undefined) status.message = message;
    if (converted) status.converted_resources = converted.toProto({ refinement: fw.hasCapability('RESERVATION_REFINEMENT') });
    fw.send({ type: 'UPDATE_OPERATION_STATUS', update_operation_status: { status } });
  }

  /**
   * Operator RESERVE_RESOURCES / UNRESERVE_RESOURCES / CREATE_VOLUMES / DESTROY_VOLUMES (and the
   * legacy endpoints): applied to the agent's unused resources, rescinding offers when needed.
   */
  applyOperatorOperation(agentId: string, op: Msg, principal?: string): { status: 202 | 400 | 404 | 409; message?: string } {
    const agent = this.agentsById.get(agentId);
    if (!agent) return { status: 404, message: `No agent found with specified ID '${agentId}'` };
    const err = validateOperation(op, { principal, agentTotal: agent.total });
    if (err) return { status: 400, message: err };
    try {
      agent.total.apply(op);
    } catch (e) {
      // Not even the agent's total holds it: no point in rescinding offers.
      return { status: 409, message: (e as Error).message };
    }
    const unused = () => {
      let offered = Resources.empty();
      for (const id of agent.offers) offered = offered.plus(this.offerBook.get(id)?.resources ?? Resources.empty());
      return agent.total.minus(agent.totalUsed().unallocate()).minus(offered.unallocate());
    };
    let available = unused();
    let converted: Resources | undefined;
    for (;;) {
      try {
        converted = available.apply(op);
        break;
      } catch {
        // Offered resources may hold what is needed: take offers back one by one.
        const next = agent.offers.values().next();
        if (next.done) return { status: 409, message: 'Insufficient resources to apply the operation' };
        this.rescindOffer(next.value, true);
        available = unused();
      }
    }
    const consumed = available.minus(converted);
    const produced = converted.minus(available);
    this.allocator.updateAvailable?.(agent.id, consumed, produced);
    this.convertAgentResources(agent, consumed, produced);
    return { status: 202 };
  }

  private rejectTask(fw: Framework, task: Msg, agentId: string | undefined, message: string, reason = 'REASON_TASK_INVALID'): void {
    const status = masterStatus({
      taskId: String(task.task_id?.value ?? ''), state: 'TASK_ERROR', reason, message, agentId, nowSeconds: this.nowSeconds(),
    });
    this.countTaskState(status);
    this.forwardStatus(fw, status);
  }

  private launchTasks(fw: Framework, agent: Agent, role: string, available: Resources, tasks: Msg[]): Resources {
    const pendingExecutors = new Map<string, Msg>();
    for (const task of tasks) {
      const check = validateTask(task, fw, agent, available, role, pendingExecutors);
      if (typeof check === 'string') {
        log.warn(`Framework ${fw.id}: invalid task ${task.task_id?.value}: ${check}`);
        this.rejectTask(fw, task, agent.id, check);
        continue;
      }
      available = available.minus(check.consumed);
      let executorInfo: Msg | undefined;
      if (task.executor) {
        const exec: Msg = {
          ...task.executor,
          framework_id: { value: fw.id },
          resources: check.executorResources.toProto({ refinement: true }),
        };
        executorInfo = exec;
        if (check.newExecutor) this.addExecutor(fw, agent, exec, check.executorResources);
      }
      const launched: Msg = { ...task, resources: check.taskResources.toProto({ refinement: true }) };
      if (executorInfo) launched.executor = executorInfo;
      this.addTask(fw, agent, launched, check.taskResources, role);
      this.transport.send(agent.pid, MSG.runTask, {
        framework_id: { value: fw.id },
        framework: fw.info,
        task: launched,
        pid: fw.pid ?? HTTP_FRAMEWORK_PID,
        launch_executor: task.executor ? check.newExecutor : true,
      });
    }
    return available;
  }

  private launchGroup(fw: Framework, agent: Agent, role: string, available: Resources, group: Msg): Resources {
    const tasks: Msg[] = group.task_group?.tasks ?? [];
    const executor: Msg | undefined = group.executor;
    const fail = (message: string) => {
      for (const t of tasks) this.rejectTask(fw, t, agent.id, message, 'REASON_TASK_GROUP_INVALID');
      return available;
    };
    if (!executor) return fail("'LaunchGroup.executor' must be set");
    if (tasks.length === 0) return fail('Task group must not be empty');
    if (executor.command !== undefined && executor.type === 'DEFAULT') return fail("'ExecutorInfo.command' must not be set for 'DEFAULT' executor");
    let remaining = available;
    const pending = new Map<string, Msg>();
    const checks: Array<{ task: Msg; check: Exclude<ReturnType<typeof validateTask>, string> }> = [];
    for (const t of tasks) {
      if (t.executor !== undefined) return fail(`Task '${t.task_id?.value}' should not have 'TaskInfo.executor' set`);
      // Tasks of a group share the executor's network: only its ContainerInfo may name networks.
      if (((t.container?.network_infos as Msg[] | undefined) ?? []).length > 0) {
        return fail(`Task '${t.task_id?.value}' of a task group must not set 'ContainerInfo.network_infos'; set them on the executor`);
      }
      const withExec = { ...t, executor, command: undefined };
      const check = validateTask({ ...withExec }, fw, agent, remaining, role, pending);
      if (typeof check === 'string') return fail(check);
      if (checks.some((c) => c.task.task_id?.value === t.task_id?.value)) return fail(`Task has duplicate ID: ${t.task_id?.value}`);
      if (check.newExecutor) pending.set(String(executor.executor_id?.value), { ...executor, framework_id: { value: fw.id } });
      remaining = remaining.minus(check.consumed);
      checks.push({ task: t, check });
    }
    const newExecutor = !agent.hasExecutor(fw.id, String(executor.executor_id?.value));
    const execResources = allocatedResources(executor.resources, role);
    const executorInfo: Msg = { ...executor, framework_id: { value: fw.id }, resources: execResources.toProto({ refinement: true }) };
    if (newExecutor) this.addExecutor(fw, agent, executorInfo, execResources);
    const launched: Msg[] = [];
    for (const { task, check } of checks) {
      const t: Msg = { ...task, resources: check.taskResources.toProto({ refinement: true }) };
      this.addTask(fw, agent, { ...t, executor: executorInfo }, check.taskResources, role);
      launched.push(t);
    }
    this.transport.send(agent.pid, MSG.runTaskGroup, {
      framework: fw.info,
      executor: executorInfo,
      task_group: { tasks: launched },
      launch_executor: newExecutor,
    });
    return remaining;
  }

  decline(fw: Framework, decline: Msg): void {
    this.inc('master/messages_decline_offers');
    const refuse = refuseSeconds(decline.filters);
    for (const o of (decline.offer_ids ?? []) as Msg[]) {
      const offer = this.offerBook.get(String(o.value));
      if (!offer || offer.frameworkId !== fw.id) {
        log.warn(`Framework ${fw.id}: ignoring decline of unknown offer ${o.value}`);
        continue;
      }
      this.removeOffer(offer);
      fw.count('offers/declined');
      this.allocator.recoverResources(fw.id, offer.agentId, offer.resources, refuse);
    }
  }

  revive(fw: Framework, revive: Msg | undefined): void {
    this.inc('master/messages_revive_offers');
    const roles = this.callRoles(fw, revive?.roles);
    if (!roles) return;
    for (const r of roles) fw.suppressedRoles.delete(r);
    this.allocator.reviveOffers(fw.id, roles);
  }

  suppress(fw: Framework, suppress: Msg | undefined): void {
    this.inc('master/messages_suppress_offers');
    const roles = this.callRoles(fw, suppress?.roles);
    if (!roles) return;
    for (const r of roles) fw.suppressedRoles.add(r);
    this.allocator.suppressOffers(fw.id, roles);
  }

  /** The roles a REVIVE/SUPPRESS names (all when none); undefined drops the call, as Mesos does. */
  private callRoles(fw: Framework, roles: string[] | undefined): string[] | undefined {
    const mine = fw.roles();
    if (!roles || roles.length === 0) return mine;
    for (const role of roles) {
      if (!mine.includes(role)) {
        log.warn(`Dropping call of framework ${fw.id}: role '${role}' is not one of the framework's subscribed roles`);
        return undefined;
      }
    }
    return roles;
  }

  kill(fw: Framework, kill: Msg): void {
    this.inc('master/messages_kill_task');
    const taskId = String(kill.task_id?.value ?? '');
    const agentId: string | undefined = kill.agent_id?.value;
    const task = fw.tasks.get(taskId);
    if (!task) {
      log.warn(`Cannot kill task ${taskId} of framework ${fw.id}: unknown; reconciling`);
      const req: Msg = { task_id: { value: taskId } };
      if (agentId !== undefined) req.agent_id = { value: agentId };
      this.reconcile(fw, { tasks: [req] }, false);
      return;
    }
    if (agentId !== undefined && agentId !== task.agentId) {
      log.warn(`Cannot kill task ${taskId} of framework ${fw.id}: it runs on agent ${task.agentId}, not ${agentId}`);
      return;
    }
    const agent = this.agentsById.get(task.agentId);
    if (!agent) return;
    let killed = agent.killedTasks.get(fw.id);
    if (!killed) agent.killedTasks.set(fw.id, (killed = new Set()));
    killed.add(taskId);
    if (agent.connected) {
      const message: Msg = { framework_id: { value: fw.id }, task_id: { value: taskId } };
      if (kill.kill_policy) message.kill_policy = kill.kill_policy;
      this.transport.send(agent.pid, MSG.killTask, message);
    } else {
      log.warn(`Agent ${agent.id} is disconnected; the kill of task ${taskId} is re-sent when it re-registers`);
    }
  }

  shutdownExecutor(fw: Framework, shutdown: Msg): void {
    const agent = this.agentsById.get(shutdown.agent_id?.value);
    if (!agent || !agent.connected) {
      log.warn(`Cannot shut down executor ${shutdown.executor_id?.value} of framework ${fw.id}: agent ${shutdown.agent_id?.value} is not connected`);
      return;
    }
    this.transport.send(agent.pid, MSG.shutdownExecutor, { executor_id: shutdown.executor_id, framework_id: { value: fw.id } });
  }

  acknowledge(fw: Framework, ack: Msg): void {
    this.inc('master/messages_status_update_acknowledgement');
    const agentId = String(ack.agent_id?.value ?? '');
    const taskId = String(ack.task_id?.value ?? '');
    const uuid: Buffer = Buffer.from(ack.uuid ?? []);
    const agent = this.agentsById.get(agentId);
    if (!agent || !agent.connected) {
      log.warn(`Cannot forward acknowledgement for task ${taskId} of framework ${fw.id}: agent ${agentId} is ${agent ? 'disconnected' : 'not registered'}`);
      this.inc('master/invalid_status_update_acknowledgements');
      return;
    }
    const task = agent.task(fw.id, taskId);
    if (task && isTerminalState(task.statusUpdateState) && task.statusUpdateUuid && task.statusUpdateUuid.equals(uuid)) {
      this.removeTask(task);
    }
    this.transport.send(agent.pid, MSG.statusUpdateAck, {
      slave_id: { value: agentId }, framework_id: { value: fw.id }, task_id: { value: taskId }, uuid,
    });
    this.inc('master/valid_status_update_acknowledgements');
  }

  /** RECONCILE; `count` is false for the reconciliation a KILL of an unknown task triggers. */
  reconcile(fw: Framework, reconcile: Msg | undefined, count = true): void {
    if (count) this.inc('master/messages_reconcile_tasks');
    const requests: Msg[] = reconcile?.tasks ?? [];
    const statuses = requests.length === 0 ? reconcileImplicit(this.reconcileView(), fw) : reconcileExplicit(this.reconcileView(), fw, requests);
    for (const s of statuses) this.forwardStatus(fw, s);
  }

  private reconcileView(): ReconcileView {
    return {
      nowSeconds: this.nowSeconds(),
      isRegistered: (id) => this.agentsById.has(id),
      unreachableSince: (id) => {
        const u = this.unreachable.get(id);
        return u ? u.time / 1000 : undefined;
      },
      isGone: (id) => this.gone.has(id),
      isRecovered: (id) => this.recovered.has(id),
      anyRecovered: () => this.recovered.size > 0,
    };
  }

  message(fw: Framework, message: Msg): void {
    this.inc('master/messages_framework_to_executor');
    const agent = this.agentsById.get(message.agent_id?.value);
    if (!agent || !agent.connected) {
      this.inc('master/invalid_framework_to_executor_messages');
      return;
    }
    this.transport.send(agent.pid, MSG.frameworkToExecutor, {
      slave_id: { value: agent.id }, framework_id: { value: fw.id }, executor_id: message.executor_id, data: message.data ?? Buffer.alloc(0),
    });
    this.inc('master/valid_framework_to_executor_messages');
  }

  request(fw: Framework, request: Msg): void {
    this.inc('master/messages_resource_request');
    this.allocator.requestResources(fw.id, request?.requests ?? []);
  }

  // ---------------------------------------------------------------- tasks

  /** `reported`: the task as a re-registering agent reported it (its state and statuses), else a new STAGING task. */
  private addTask(fw: Framework, agent: Agent, info: Msg, resources: Resources, role: string, reported?: Msg): TaskRecord {
    const { data: _data, ...kept } = info;
    const record: TaskRecord = {
      id: String(info.task_id.value),
      frameworkId: fw.id,
      agentId: agent.id,
      executorId: info.executor?.executor_id?.value,
      info: kept,
      resources,
      state: reported?.state ?? 'TASK_STAGING',
      statuses: [...((reported?.statuses ?? []) as Msg[])],
      released: false,
      role,
      user: info.command?.user ?? info.executor?.command?.user ?? fw.info.user,
    };
    if (reported?.status_update_state !== undefined) record.statusUpdateState = reported.status_update_state;
    if (reported?.status_update_uuid !== undefined) record.statusUpdateUuid = Buffer.from(reported.status_update_uuid);
    fw.tasks.set(record.id, record);
    agent.addTask(record);
    fw.addUsed(agent.id, resources);
    agent.addUsed(fw.id, resources);
    this.emit(() => ({ type: 'TASK_ADDED', task_added: { task: taskModel(record) } }));
    return record;
  }

  private addExecutor(fw: Framework, agent: Agent, info: Msg, resources: Resources): void {
    const id = String(info.executor_id.value);
    let a = agent.executors.get(fw.id);
    if (!a) agent.executors.set(fw.id, (a = new Map()));
    a.set(id, info);
    let f = fw.executors.get(agent.id);
    if (!f) fw.executors.set(agent.id, (f = new Map()));
    f.set(id, info);
    fw.addUsed(agent.id, resources);
    agent.addUsed(fw.id, resources);
  }

  private removeExecutor(frameworkId: string, agentId: string, executorId: string): Msg | undefined {
    const agent = this.agentsById.get(agentId);
    const fw = this.frameworksById.get(frameworkId);
    const info = agent?.executors.get(frameworkId)?.get(executorId) ?? fw?.executors.get(agentId)?.get(executorId);
    if (!info) return undefined;
    const resources = Resources.fromProto(info.resources ?? []);
    if (agent) {
      const m = agent.executors.get(frameworkId);
      m?.delete(executorId);
      if (m && m.size === 0) agent.executors.delete(frameworkId);
      agent.removeUsed(frameworkId, resources);
    }
    if (fw) {
      const m = fw.executors.get(agentId);
      m?.delete(executorId);
      if (m && m.size === 0) fw.executors.delete(agentId);
      fw.removeUsed(agentId, resources);
    }
    if (agent) this.allocator.recoverResources(frameworkId, agentId, resources);
    return info;
  }

  /** Gives a task's resources back once (terminal state known or task gone). */
  private releaseTask(task: TaskRecord): void {
    if (task.released) return;
    task.released = true;
    this.frameworksById.get(task.frameworkId)?.removeUsed(task.agentId, task.resources);
    const agent = this.agentsById.get(task.agentId);
    if (agent) {
      agent.removeUsed(task.frameworkId, task.resources);
      this.allocator.recoverResources(task.frameworkId, task.agentId, task.resources);
    }
  }

  /** Applies a status (from an agent update or generated here) to the task record. */
  private updateTask(task: TaskRecord, status: Msg, update: Msg | undefined): void {
    const latest: string = update?.latest_state ?? status.state;
    task.statusUpdateState = status.state;
    if (!update) task.statusUpdateUuid = undefined;
    else if (update.uuid !== undefined) task.statusUpdateUuid = Buffer.from(update.uuid);
    // A terminal state is final.
    if (!isTerminalState(task.state)) {
      task.state = latest;
      if (isTerminalState(latest)) {
        this.releaseTask(task);
        this.countTaskState({ ...status, state: latest });
      }
    }
    const { data: _data, ...kept } = status;
    const last = task.statuses[task.statuses.length - 1];
    if (last && last.state === kept.state) task.statuses.pop();
    task.statuses.push(kept);
    this.emit(() => ({
      type: 'TASK_UPDATED',
      task_updated: { framework_id: { value: task.frameworkId }, status: kept, state: task.state },
    }));
  }

  /** Moves a task out of the active set: to completed tasks, or unreachable tasks. */
  private removeTask(task: TaskRecord, unreachable = false): void {
    this.releaseTask(task);
    const fw = this.frameworksById.get(task.frameworkId);
    this.agentsById.get(task.agentId)?.removeTask(task);
    const agent = this.agentsById.get(task.agentId);
    agent?.killedTasks.get(task.frameworkId)?.delete(task.id);
    if (agent) this.checkDrained(agent);
    if (!fw) return;
    fw.tasks.delete(task.id);
    if (unreachable) {
      fw.unreachableTasks.set(task.id, task);
      while (fw.unreachableTasks.size > this.settings.maxUnreachableTasksPerFramework) {
        fw.unreachableTasks.delete(fw.unreachableTasks.keys().next().value!);
      }
    } else {
      this.keepCompleted(fw, task);
    }
  }

  /** Keeps a finished task in its framework's bounded completed list (--max_completed_tasks_per_framework). */
  private keepCompleted(fw: Framework, task: TaskRecord): void {
    fw.completedTasks.push(task);
    while (fw.completedTasks.length > this.settings.maxCompletedTasksPerFramework) fw.completedTasks.shift();
  }

  /** Sends a status to the framework as an UPDATE event (uuid only when the status carries one). */
  private forwardStatus(fw: Framework, status: Msg): void {
    fw.send({ type: 'UPDATE', update: { status } });
  }

  // ---------------------------------------------------------------- agents

  registerSlave(from: string, msg: Msg): void {
    this.inc('master/messages_register_slave');
    const slaveInfo: Msg = msg.slave ?? {};
    const already = this.agentsByPid.get(from);
    if (already && already.connected && isAdmitting(already)) return; // the answer follows the registry write
    if (already && already.connected) {
      // A retry of a registration that already went through.
      log.info(`Agent ${already.id} at ${from} already registered; resending acknowledgement`);
      this.transport.send(from, MSG.slaveRegistered, { slave_id: { value: already.id }, connection: this.connectionInfo() });
      return;
    }
    if (already) {
      // The agent at this address restarted without its old state: the old agent is gone.
      this.inc('master/slave_removals/reason_registered');
      this.removeAgent(already, 'a new agent registered at the same address', 'removed');
    }
    let total: Resources;
    try {
      // Its dynamic reservations and persistent volumes replace the static resources they came from.
      total = applyCheckpointed(Resources.fromProto(slaveInfo.resources ?? []), Resources.fromProto(msg.checkpointed_resources ?? []));
    } catch (e) {
      this.transport.send(from, MSG.shutdown, { message: `Agent has invalid resources: ${(e as Error).message}` });
      return;
    }
    if (this.maintenance.isDown(String(slaveInfo.hostname ?? ''), parseUpid(from).ip)) {
      log.warn(`Refusing registration of agent at ${from}: its machine is DOWN for maintenance`);
      this.transport.send(from, MSG.shutdown, { message: 'Agent is in maintenance mode and is shut down' });
      return;
    }
    const id = agentIdFor(this.id, this.nextAgentId++);
    const agent = new Agent(id, slaveInfo, from, String(msg.version ?? ''), capabilityTypes(msg.agent_capabilities), total, this.clock.now());
    this.admit(agent, false);
    this.inc('master/slave_registrations');
    this.allocator.addAgent(id, agent.info, agent.capabilities, total, new Map(agent.usedByFramework));
    this.refreshUnavailability(agent);
    this.emit(() => ({ type: 'AGENT_ADDED', agent_added: { agent: agentModel(this, agent) } }));
    // The agent learns its id only once the registry holds it durably (FT-02); no offers until then.
    const write = this.registry?.admitAgent(agent.info);
    this.holdUntilAdmitted(agent, write);
    afterAdmission(write, {
      admitted: () => {
        if (this.agentsById.get(id) !== agent) return;
        this.releaseAdmitted(agent, write);
        log.info(`Registered agent ${id} at ${from} (${agent.hostname}) with ${total.toString()}`);
        this.transport.send(from, MSG.slaveRegistered, { slave_id: { value: id }, connection: this.connectionInfo() });
        this.health.start(agent.id);
      },
      failed: (e) => log.error(`Registry operation 'admit agent' failed: ${e.message}`),
    }, agent);
  }

  /** An agent waiting for its registry write is inactive in the allocator: an offer on it would launch tasks it drops. */
  private holdUntilAdmitted(agent: Agent, write: Promise<boolean> | undefined): void {
    if (!write || !agent.active) return;
    agent.active = false;
    this.allocator.deactivateAgent(agent.id);
  }

  private releaseAdmitted(agent: Agent, write: Promise<boolean> | undefined): void {
    if (!write || agent.active || !agent.connected) return;
    agent.active = true;
    if (!agent.deactivated) this.allocator.activateAgent(agent.id);
  }

  private connectionInfo(): Msg {
    return { total_ping_timeout_seconds: (this.settings.agentPingTimeoutMs * this.settings.maxAgentPingTimeouts) / 1000 };
  }

  /** Adds an agent to the registered set; pings start now unless the caller starts them after its reply. */
  private admit(agent: Agent, observe = true): void {
    this.agentsById.set(agent.id, agent);
    this.agentsByPid.set(agent.pid, agent);
    this.unreachable.delete(agent.id);
    this.transport.link(agent.pid);
    if (observe) this.health.start(agent.id);
  }

  /**
   * A retry of the re-registration last handled in full for the agent at `from` (same body digest),
   * while that agent is connected and unchanged: answered as reregisterSlave would answer it (the
   * known-agent path, where nothing changes), without decoding. False: handle it in full.
   */
  reregisterSlaveRetry(from: string, digest: string): boolean {
    const agent = this.agentsByPid.get(from);
    const last = agent?.lastReregistration;
    if (!agent || !last || last.digest !== digest || !agent.connected || !agent.active || isAdmitting(agent)) return false;
    if (last.total !== agent.total || last.info !== agent.info || last.capabilities !== agent.capabilities) return false;
    if (this.gone.has(agent.id) || this.maintenance.isDown(String(agent.info.hostname ?? ''), parseUpid(from).ip)) return false;
    this.inc('master/messages_reregister_slave');
    this.reregistered(agent, last.reported);
    return true;
  }

  /** Answers a known agent's re-registration: it is live again, learns the tasks it did not report, and gets missed kills. */
  private reregistered(agent: Agent, reported: Set<string>): void {
    agent.reregisteredTime = this.clock.now();
    this.reconnect(agent);
    this.inc('master/slave_reregistrations');
    this.transport.send(agent.pid, MSG.slaveReregistered, {
      slave_id: { value: agent.id }, reconciliations: this.reconciliations(agent, reported), connection: this.connectionInfo(),
    });
    this.resendKills(agent);
  }

  private rememberReregistration(agent: Agent, digest: string | undefined, reported: Set<string>): void {
    agent.lastReregistration = digest === undefined ? undefined : { digest, reported, total: agent.total, info: agent.info, capabilities: agent.capabilities };
  }

  reregisterSlave(from: string, msg: Msg, digest?: string): void {
    this.inc('master/messages_reregister_slave');
    const slaveInfo: Msg = msg.slave ?? {};
    const id: string | undefined = slaveInfo.id?.value;
    if (!id) {
      this.transport.send(from, MSG.shutdown, { message: 'Agent re-registered without an id' });
      return;
    }
    if (this.gone.has(id)) {
      this.transport.send(from, MSG.shutdown, { message: 'Agent has been marked gone' });
      return;
    }
    if (this.maintenance.isDown(String(slaveInfo.hostname ?? ''), parseUpid(from).ip)) {
      log.warn(`Refusing re-registration of agent ${id} at ${from}: its machine is DOWN for maintenance`);
      this.transport.send(from, MSG.shutdown, { message: 'Agent is in maintenance mode and is shut down' });
      return;
    }
    const known = this.agentsById.get(id);
    if (known && isAdmitting(known)) return; // the answer follows the registry write
    if (known) {
      // A known agent (reconnect, or restarted with the same id): refresh its address and liveness.
      if (known.pid !== from) {
        this.agentsByPid.delete(known.pid);
        known.pid = from;
        this.agentsByPid.set(from, known);
        this.transport.link(from);
      }
      known.version = String(msg.version ?? known.version);
      const capabilities = capabilityTypes(msg.agent_capabilities);
      let total = known.total;
      try {
        total = applyCheckpointed(Resources.fromProto(slaveInfo.resources ?? []), Resources.fromProto(msg.checkpointed_resources ?? []));
      } catch {
        // Keep what the agent registered with.
      }
      // An agent may come back with more resources or attributes (--reconfiguration_policy=additive).
      if (!total.equals(known.total) || capabilities.join() !== known.capabilities.join() || canonicalJson(slaveInfo.attributes ?? []) !== canonicalJson(known.info.attributes ?? [])) {
        known.total = total;
        known.capabilities = capabilities;
        known.info = { ...slaveInfo, id: { value: id } };
        this.allocator.updateAgent(id, known.info, total, capabilities);
        this.persist('update agent', this.registry?.updateAgent(known.info));
      }
      const reported = reportedTasks(msg);
      this.reregistered(known, reported);
      this.rememberReregistration(known, digest, reported);
      return;
    }

    // Unknown here (master restarted) or coming back from unreachable: rebuild from its report.
    let total: Resources;
    try {
      total = applyCheckpointed(Resources.fromProto(slaveInfo.resources ?? []), Resources.fromProto(msg.checkpointed_resources ?? []));
    } catch (e) {
      this.transport.send(from, MSG.shutdown, { message: `Agent has invalid resources: ${(e as Error).message}` });
      return;
    }
    const stale = this.agentsByPid.get(from);
    if (stale) this.removeAgent(stale, 'a new agent registered at the same address', 'removed');
    const agent = new Agent(id, slaveInfo, from, String(msg.version ?? ''), capabilityTypes(msg.agent_capabilities), total, this.clock.now());
    agent.reregisteredTime = agent.registeredTime;
    const recovered = this.recovered.get(id);
    let reachable: Promise<boolean> | undefined;
    if (recovered) {
      // Known from the registry (master failover): already admitted there.
      this.recovered.delete(id);
      agent.deactivated = recovered.deactivated;
      agent.drainInfo = recovered.drainInfo;
      if (this.recovered.size === 0) {
        this.clock.clearTimeout(this.reregisterTimer);
        this.reregisterTimer = undefined;
      }
    } else {
      // Back from unreachable, or unknown to the registry: admitted again.
      reachable = this.registry?.markReachable(agent.info);
    }
    const n = /-S(\d+)$/.exec(id);
    if (n && id.startsWith(`${this.id}-S`)) this.nextAgentId = Math.max(this.nextAgentId, Number(n[1]) + 1);
    this.admit(agent, false);
    this.inc('master/slave_reregistrations');

    for (const info of (msg.frameworks ?? []) as Msg[]) {
      const fid = info.id?.value;
      if (fid && !this.frameworksById.has(fid) && !this.completed.some((f) => f.id === fid)) {
        const fw = new Framework(fid, info, this.clock.now());
        fw.recovered = true;
        this.frameworksById.set(fid, fw);
      }
    }
    for (const exec of (msg.executor_infos ?? []) as Msg[]) {
      const fw = this.frameworksById.get(exec.framework_id?.value);
      if (!fw) continue;
      const resources = Resources.fromProto(exec.resources ?? []);
      if (!agent.hasExecutor(fw.id, String(exec.executor_id?.value))) this.addExecutor(fw, agent, exec, resources);
    }
    for (const t of (msg.tasks ?? []) as Msg[]) {
      const fw = this.frameworksById.get(t.framework_id?.value);
      if (!fw) continue;
      fw.unreachableTasks.delete(String(t.task_id?.value));
      if (fw.tasks.has(String(t.task_id?.value))) continue;
      const resources = Resources.fromProto(t.resources ?? []);
      const role = resources.allocations().keys().next().value ?? frameworkRoles(fw.info)[0] ?? '*';
      // Its reported state goes in before TASK_ADDED is emitted (a running task is not announced as STAGING).
      const record = this.addTask(fw, agent, { ...t, agent_id: { value: id } }, resources, role, t);
      if (isTerminalState(record.state)) this.releaseTask(record);
    }
    log.info(`Re-registered agent ${id} at ${from} (${agent.hostname})`);
    const used = new Map<string, Resources>();
    for (const [fid, r] of agent.usedByFramework) {
      const fw = this.frameworksById.get(fid);
      if (fw && !fw.recovered) used.set(fid, r);
    }
    this.allocator.addAgent(id, agent.info, agent.capabilities, total, used);
    if (agent.deactivated) this.allocator.deactivateAgent(id);
    this.refreshUnavailability(agent);
    this.emit(() => ({ type: 'AGENT_ADDED', agent_added: { agent: agentModel(this, agent) } }));
    this.holdUntilAdmitted(agent, reachable);
    this.rememberReregistration(agent, digest, reportedTasks(msg));
    afterAdmission(reachable, {
      admitted: () => {
        if (this.agentsById.get(id) !== agent) return;
        this.releaseAdmitted(agent, reachable);
        this.transport.send(agent.pid, MSG.slaveReregistered, { slave_id: { value: id }, connection: this.connectionInfo() });
        this.health.start(agent.id);
      },
      failed: (e) => log.error(`Registry operation 'mark reachable' failed: ${e.message}`),
    }, agent);
    // Only the frameworks with tasks or executors there (not a scan of every framework per agent).
    for (const fid of new Set([...agent.tasks.keys(), ...agent.executors.keys()])) {
      const fw = this.frameworksById.get(fid);
      if (fw?.connected) this.transport.send(from, MSG.updateFramework, { framework_id: { value: fw.id }, pid: fw.pid ?? HTTP_FRAMEWORK_PID, framework_info: fw.info });
    }
  }

  /**
   * A known agent re-registered: the tasks the master has there but the agent did not report go back
   * to it as `reconciliations` (the agent answers TASK_DROPPED/LOST for those it never saw), and
   * kills it may have missed are re-sent.
   */
  private reconciliations(agent: Agent, reported: Set<string>): Msg[] {
    const reconciliations: Msg[] = [];
    const nowSeconds = this.nowSeconds();
    for (const [fid, tasks] of agent.tasks) {
      const statuses: Msg[] = [];
      for (const task of tasks.values()) {
        if (reported.has(`${fid}/${task.id}`)) continue;
        statuses.push(masterStatus({ taskId: task.id, state: task.state, agentId: agent.id, nowSeconds }));
      }
      if (statuses.length > 0) reconciliations.push({ framework_id: { value: fid }, statuses });
    }
    return reconciliations;
  }

  private resendKills(agent: Agent): void {
    for (const [fid, ids] of agent.killedTasks) {
      for (const tid of ids) {
        if (agent.task(fid, tid)) this.transport.send(agent.pid, MSG.killTask, { framework_id: { value: fid }, task_id: { value: tid } });
      }
    }
  }

  private reconnect(agent: Agent): void {
    this.removals.reconnected(agent.id);
    this.removals.cancel(agent.id);
    if (!agent.connected) {
      agent.connected = true;
      this.transport.link(agent.pid);
    }
    if (!agent.active) {
      agent.active = true;
      if (!agent.deactivated) this.allocator.activateAgent(agent.id);
    }
  }

  unregisterSlave(from: string, msg: Msg): void {
    this.inc('master/messages_unregister_slave');
    const agent = this.agentsById.get(msg.slave_id?.value);
    if (!agent || agent.pid !== from) return;
    this.inc('master/slave_removals/reason_unregistered');
    this.removeAgent(agent, 'the agent unregistered', 'removed');
  }

  /**
   * The link to a peer broke: a driver framework is disconnected (as when an HTTP stream closes); an
   * agent becomes disconnected (offers rescinded, pings go on).
   */
  exited(pid: string): void {
    for (const fw of this.frameworksById.values()) {
      if (fw.connection && fw.connection.pid === pid) this.streamClosed(fw, fw.connection);
    }
    const agent = this.agentsByPid.get(pid);
    if (!agent || !agent.connected) return;
    log.info(`Agent ${agent.id} at ${pid} disconnected`);
    agent.connected = false;
    // It must re-register in time (pings go on meanwhile), or it becomes unreachable (FT-04).
    this.removals.disconnected(agent.id, this.settings.agentReregisterTimeoutMs ?? 600_000, () => {
      if (this.agentsById.get(agent.id) !== agent || agent.connected) return;
      this.inc('master/slave_removals/reason_unhealthy');
      this.removeAgent(agent, 'the agent did not re-register within --agent_reregister_timeout after disconnecting', 'unreachable');
    });
    if (agent.active) {
      agent.active = false;
      if (!agent.deactivated) this.allocator.deactivateAgent(agent.id);
    }
    for (const offerId of [...agent.offers]) this.rescindOffer(offerId, true);
    // Tasks of frameworks that do not checkpoint cannot survive the agent.
    for (const task of agent.allTasks()) {
      const fw = this.frameworksById.get(task.frameworkId);
      if (fw && fw.info.checkpoint === true) continue;
      const status = masterStatus({
        taskId: task.id, state: 'TASK_LOST', reason: 'REASON_AGENT_DISCONNECTED', message: 'Agent disconnected',
        agentId: agent.id, executorId: task.executorId, nowSeconds: this.nowSeconds(),
      });
      this.updateTask(task, status, undefined);
      if (fw) this.forwardStatus(fw, status);
      this.removeTask(task);
    }
  }

  /**
   * Removes an agent: unreachable (health checks; it may come back), removed (unregistered or
   * replaced) or gone (marked by an operator; it may never come back).
   */
  private removeAgent(agent: Agent, why: string, mode: 'unreachable' | 'removed' | 'gone'): void {
    const unreachable = mode === 'unreachable';
    if (this.agentsById.get(agent.id) !== agent) return;
    log.info(`Removing agent ${agent.id} (${agent.hostname}): ${why}`);
    this.health.stop(agent.id);
    this.removals.forget(agent.id);
    for (const offerId of [...agent.offers]) this.rescindOffer(offerId, true);
    for (const [id, io] of [...this.inverseOffers]) if (io.agentId === agent.id) this.rescindInverseOffer(id);
    this.allocator.removeAgent(agent.id);
    // Gone from the registered set first, so releasing its tasks only updates the frameworks.
    this.agentsById.delete(agent.id);
    this.agentsByPid.delete(agent.pid);
    const now = this.nowSeconds();
    for (const task of agent.allTasks()) {
      const fw = this.frameworksById.get(task.frameworkId);
      const pa = fw?.partitionAware ?? false;
      const paState = { unreachable: 'TASK_UNREACHABLE', removed: 'TASK_GONE', gone: 'TASK_GONE_BY_OPERATOR' }[mode];
      const state = pa ? paState : 'TASK_LOST';
      if (!isTerminalState(task.state)) {
        const status = masterStatus({
          taskId: task.id, state, reason: mode === 'gone' ? 'REASON_AGENT_REMOVED_BY_OPERATOR' : 'REASON_AGENT_REMOVED',
          message: unreachable ? `Agent ${agent.hostname} is unreachable: ${why}` : `Agent ${agent.hostname} removed: ${why}`,
          agentId: agent.id, executorId: task.executorId, nowSeconds: now, unreachableTime: unreachable ? now : undefined,
        });
        if (unreachable) task.unreachableTime = now;
        this.updateTask(task, status, undefined);
        if (fw) this.forwardStatus(fw, status);
      }
      this.removeTask(task, unreachable);
    }
    for (const [fid, execs] of [...agent.executors]) {
      const fw = this.frameworksById.get(fid);
      for (const eid of execs.keys()) {
        const info = fw?.executors.get(agent.id)?.get(eid);
        if (fw && info) {
          fw.executors.get(agent.id)!.delete(eid);
          fw.removeUsed(agent.id, Resources.fromProto(info.resources ?? []));
        }
      }
      fw?.executors.delete(agent.id);
    }
    agent.executors.clear();
    const nowMs = this.clock.now();
    if (unreachable) {
      this.unreachable.set(agent.id, { time: nowMs, info: agent.info });
      this.persist('mark unreachable', this.registry?.markUnreachable(agent.id, nowMs));
    } else if (mode === 'gone') {
      this.gone.set(agent.id, nowMs);
      this.persist('mark gone', this.registry?.markGone(agent.id, nowMs));
    } else {
      this.persist('remove agent', this.registry?.removeAgent(agent.id));
    }
    this.inc('master/slave_removals');
    for (const fw of this.frameworksById.values()) fw.send({ type: 'FAILURE', failure: { agent_id: { value: agent.id } } });
    this.emit(() => ({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: agent.id } } }));
  }

  /** Operator MARK_AGENT_GONE: returns an error (404/400) or undefined. */
  markAgentGone(agentId: string): { status: 400 | 404; message: string } | undefined {
    if (this.gone.has(agentId)) return { status: 400, message: `Agent ${agentId} is already marked gone` };
    const agent = this.agentsById.get(agentId);
    if (agent) {
      if (agent.connected) this.transport.send(agent.pid, MSG.shutdown, { message: 'Agent has been marked gone' });
      this.removeAgent(agent, 'the agent has been marked gone', 'gone');
      return undefined;
    }
    if (!this.unreachable.has(agentId)) return { status: 404, message: `Agent '${agentId}' not found` };
    // An unreachable agent: its tasks are now definitely gone.
    this.unreachable.delete(agentId);
    this.gone.set(agentId, this.clock.now());
    this.persist('mark gone', this.registry?.markGone(agentId, this.clock.now()));
    for (const fw of this.frameworksById.values()) {
      for (const task of [...fw.unreachableTasks.values()]) {
        if (task.agentId !== agentId) continue;
        fw.unreachableTasks.delete(task.id);
        const status = masterStatus({
          taskId: task.id, state: fw.partitionAware ? 'TASK_GONE_BY_OPERATOR' : 'TASK_LOST', reason: 'REASON_AGENT_REMOVED_BY_OPERATOR',
          message: 'Agent has been marked gone', agentId, executorId: task.executorId, nowSeconds: this.nowSeconds(),
        });
        task.state = status.state;
        task.statuses.push(status);
        this.countTaskState(status);
        this.forwardStatus(fw, status);
        this.keepCompleted(fw, task);
      }
    }
    return undefined;
  }

  /** Operator DEACTIVATE_AGENT / REACTIVATE_AGENT: no offers while deactivated. */
  setAgentDeactivated(agentId: string, deactivated: boolean): boolean {
    const agent = this.agentsById.get(agentId);
    if (!agent) return false;
    if (!deactivated) agent.drainInfo = undefined;
    if (agent.deactivated === deactivated) return true;
    agent.deactivated = deactivated;
    this.persist(deactivated ? 'deactivate agent' : 'reactivate agent', deactivated ? this.registry?.deactivateAgent(agentId) : this.registry?.reactivateAgent(agentId));
    if (deactivated) {
      for (const offerId of [...agent.offers]) this.rescindOffer(offerId, true);
      if (agent.active) this.allocator.deactivateAgent(agent.id);
    } else if (agent.active) {
      this.allocator.activateAgent(agent.id);
    }
    return true;
  }

  /** Operator DRAIN_AGENT (MNT-02): no more offers, the agent kills its tasks; DRAINED once none are left. */
  drainAgent(agentId: string, config: Msg): { status: 400 | 404; message: string } | undefined {
    const grace = config.max_grace_period?.nanoseconds;
    if (grace !== undefined && Number(grace) < 0) return { status: 400, message: "'max_grace_period' must be non-negative" };
    const agent = this.agentsById.get(agentId);
    if (!agent) {
      if (this.unreachable.has(agentId)) return { status: 400, message: `Agent ${agentId} is unreachable; only registered agents can be drained` };
      return { status: 404, message: `Agent '${agentId}' not found` };
    }
    const cfg: Msg = { mark_gone: config.mark_gone === true };
    if (grace !== undefined) cfg.max_grace_period = { nanoseconds: Number(grace) };
    agent.drainInfo = { state: 'DRAINING', config: cfg };
    if (!agent.deactivated) {
      agent.deactivated = true;
      for (const offerId of [...agent.offers]) this.rescindOffer(offerId, true);
      if (agent.active) this.allocator.deactivateAgent(agent.id);
    }
    this.persist('drain agent', this.registry?.drainAgent(agent.id, cfg));
    if (agent.connected) this.transport.send(agent.pid, MSG.drainSlave, { config: cfg });
    this.checkDrained(agent);
    return undefined;
  }

  /** A draining agent without tasks is drained; with mark_gone it is then marked gone. */
  private checkDrained(agent: Agent): void {
    if (agent.drainInfo?.state !== 'DRAINING' || agent.tasks.size > 0) return;
    agent.drainInfo = { ...agent.drainInfo, state: 'DRAINED' };
    log.info(`Agent ${agent.id} is drained`);
    this.persist('mark agent drained', this.registry?.markAgentDrained(agent.id));
    if (agent.drainInfo.config?.mark_gone === true) this.markAgentGone(agent.id);
  }

  statusUpdate(from: string, msg: Msg): void {
    this.inc('master/messages_status_update');
    const update: Msg | undefined = msg.update;
    const status: Msg | undefined = update?.status;
    const agentId: string | undefined = update?.slave_id?.value ?? status?.agent_id?.value;
    const agent = this.agentsById.get(agentId ?? '');
    if (!update || !status || !agent) {
      log.warn(`Ignoring status update from ${agent ? from : 'unknown agent ' + from}`);
      this.inc('master/invalid_status_updates');
      return;
    }
    if (agent.pid !== from) log.debug(`status update for agent ${agent.id} relayed by ${from}`);
    const fwId = String(update.framework_id?.value ?? '');
    const fw = this.frameworksById.get(fwId);
    const forwarded: Msg = { ...status };
    if (forwarded.agent_id === undefined) forwarded.agent_id = { value: agent.id };
    if (update.uuid !== undefined && forwarded.uuid === undefined) forwarded.uuid = update.uuid;
    if (fw && fw.connected) this.forwardStatus(fw, forwarded);
    const task = agent.task(fwId, String(status.task_id?.value ?? ''));
    if (!task) {
      log.warn(`Could not look up task ${status.task_id?.value} of framework ${fwId} on agent ${agent.id}`);
      this.inc('master/invalid_status_updates');
      return;
    }
    this.updateTask(task, forwarded, update);
    this.inc('master/valid_status_updates');
  }

  exitedExecutor(from: string, msg: Msg): void {
    this.inc('master/messages_exited_executor');
    const agent = this.agentsById.get(msg.slave_id?.value);
    if (!agent) return;
    const fid = String(msg.framework_id?.value ?? '');
    const eid = String(msg.executor_id?.value ?? '');
    this.removeExecutor(fid, agent.id, eid);
    const fw = this.frameworksById.get(fid);
    const failure: Msg = { agent_id: { value: agent.id }, executor_id: { value: eid } };
    if (msg.status !== undefined) failure.status = msg.status;
    fw?.send({ type: 'FAILURE', failure });
  }

  executorToFramework(from: string, msg: Msg): void {
    this.inc('master/messages_executor_to_framework');
    const fw = this.frameworksById.get(msg.framework_id?.value);
    if (!fw || !fw.connected) {
      this.inc('master/invalid_executor_to_framework_messages');
      return;
    }
    fw.send({ type: 'MESSAGE', message: { agent_id: msg.slave_id, executor_id: msg.executor_id, data: msg.data ?? Buffer.alloc(0) } });
    this.inc('master/valid_executor_to_framework_messages');
  }

  // ---------------------------------------------------------------- health checks (FT-04)

  private agentUnhealthy(agentId: string): void {
    if (!this.agentsById.has(agentId)) return;
    // Rate-limited (--agent_removal_rate_limit); pings go on, and a pong meanwhile calls it off.
    this.health.start(agentId);
    this.removals.scheduleUnreachable(agentId, () => {
      const agent = this.agentsById.get(agentId);
      if (!agent) return;
      this.inc('master/slave_removals/reason_unhealthy');
      this.removeAgent(agent, 'health check timed out', 'unreachable');
    });
  }
}

function machineMatchesAgent(machine: MachineId, agent: Agent): boolean {
  return machineMatches(machine, agent.hostname, parseUpid(agent.pid).ip);
}

function capabilityTypes(list: unknown): string[] {
  return ((list ?? []) as Msg[]).map((c) => String(c.type));
}

/** Filters.refuse_seconds with Mesos's defaults: 5 s when unset/invalid/negative, capped at a year. */
export function refuseSeconds(filters: Msg | undefined): number | undefined {
  const v = filters?.refuse_seconds;
  let secs = typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : DEFAULT_REFUSE_SECONDS;
  if (secs > MAX_REFUSE_SECONDS) secs = MAX_REFUSE_SECONDS;
  return secs === 0 ? undefined : secs;
}

/** `frameworkId/taskId` of each task an agent reported when it re-registered. */
function reportedTasks(msg: Msg): Set<string> {
  const reported = new Set<string>();
  for (const t of (msg.tasks ?? []) as Msg[]) reported.add(`${t.framework_id?.value}/${t.task_id?.value}`);
  return reported;
}
