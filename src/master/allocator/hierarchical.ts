// The hierarchical weighted-DRF allocator (ALC-01..ALC-40). Agents, frameworks, roles and
// (framework, role) clients are dense integer-indexed objects; resources are slot bags with
// fixed-point integer quantities; decline filters sit on their agent and are looked up through a
// per-round stamp array, so a check is a typed-array read. Rounds yield to the event loop between
// agent batches so the master never stalls.
import type { Allocator, AllocatorHooks, AllocatorOptions, InverseOfferCallback, Msg, OfferCallback } from './allocator.js';
import { Resources, validateRole } from '../../resources/index.js';
import { logger } from '../../common/log.js';
import type { TimerHandle } from '../../common/clock.js';
import { type Bag, type Slot, SlotTable, add, subtract, contains, select, accumulate } from './slots.js';
import { RoleTree, type RoleNode, type ShareContext, type SorterKind } from './roles.js';
import { AgentState, Client, FrameworkState, agentCaps, frameworkCaps, frameworkRoles, type MinAlternatives } from './state.js';
import { compileOfferConstraints } from './constraints.js';
import { TimerStats } from './metrics.js';
import { InverseOffers } from './inverse-offers.js';
import { type Headroom, applyQuota, chargeHeadroom, consumed, hasLimits, headroom as quotaHeadroom, needs, quotaNode, stageOneRole } from './quota.js';

const log = logger('allocator');

/** Mesos's Filters.refuse_seconds default and its cap (365 days). */
export const DEFAULT_REFUSE_SECONDS = 5;
const MAX_REFUSE_SECONDS = 365 * 24 * 3600;
/** Yield to the event loop when a round has held it this long. */
const SLICE_MS = 5;
const REVOCABLE = 1;
const REFINED = 2;
const SHARED = 4;
/** Agents between clock checks. */
const SLICE_AGENTS = 64;

interface Pending {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Pending {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

export interface HierarchicalPolicy {
  /** 'strict-priority': roles are served in weight order (highest first) instead of by DRF share. */
  policy?: 'drf' | 'strict-priority';
}

export class HierarchicalAllocator implements Allocator {
  constructor(private readonly policy: HierarchicalPolicy = {}) {}

  private opts!: AllocatorOptions;
  private offerCallback: OfferCallback = () => {};
  private inverseOfferCallback: InverseOfferCallback | undefined;
  private readonly inverse = new InverseOffers();
  private hooks: AllocatorHooks = {};
  private interval: TimerHandle | undefined;
  private closed = false;
  private initialized = false;
  private paused = false;

  private readonly slots = new SlotTable();
  /** Role node of each slot's innermost reservation (undefined: unreserved). */
  private slotRole: Array<RoleNode | undefined> = [];
  private readonly tree = new RoleTree();
  private ctx: ShareContext = {
    totals: [], excluded: [], version: 0, roleSorter: 'drf', frameworkSorter: 'drf', random: Math.random,
  };

  private readonly frameworks = new Map<string, FrameworkState>();
  private readonly agents = new Map<string, AgentState>();
  private agentList: AgentState[] = [];
  private clientCount = 0;
  private fwCount = 0;
  private agentCount = 0;
  private globalMins: MinAlternatives = [];
  private filterGpu = true;
  private sliceMs = SLICE_MS;
  private masterRegion: string | undefined;

  /** Per-round scratch: stamp[clientIdx] === stampSeq marks a client with a filter on the current agent. */
  private stamp = new Int32Array(1024);
  private stampSeq = 0;

  private running: Promise<void> | undefined;
  private pending: Pending | undefined;
  private scheduled = false;

  // metrics (allocator/mesos/*)
  private runs = 0;
  private readonly runTimer = new TimerStats();
  private readonly latencyTimer = new TimerStats();
  private requestedAt: number | undefined;

  /** --whitelist: hostnames that may be offered (undefined: all). */
  private whitelist: Set<string> | undefined;
  /** Offer-constraint results are cached per agent; bumped when agent infos change. */
  private constraintEpoch = 0;
  private recoveryTarget: number | undefined;
  private recoveryTimer: TimerHandle | undefined;

  /** Most recent offers per framework -> agent (for rescinds when a quota limit drops). */
  private outstanding = new Map<string, Map<string, Bag>>();

  initialize(options: AllocatorOptions, offerCallback: OfferCallback, inverseOfferCallback?: InverseOfferCallback, hooks?: AllocatorHooks): void {
    this.opts = options;
    this.offerCallback = offerCallback;
    this.inverseOfferCallback = inverseOfferCallback;
    this.hooks = hooks ?? {};
    this.ctx.roleSorter = this.policy.policy === 'strict-priority' ? 'priority' : sorterKind(options.roleSorter);
    this.ctx.frameworkSorter = sorterKind(options.frameworkSorter);
    this.ctx.random = options.random ?? Math.random;
    this.filterGpu = options.filterGpuResources !== false;
    this.sliceMs = options.yieldAfterMs ?? SLICE_MS;
    this.masterRegion = options.domain?.fault_domain?.region?.name;
    const mins = options.minAllocatableResources ?? [{ cpus: 0.01 }, { mem: 32 }];
    this.globalMins = mins.map((alt) => Object.entries(alt).map(([n, v]) => [this.slots.name(n), Math.round(Number(v) * 1000)] as [number, number]));
    for (const n of options.fairnessExcludedResourceNames ?? []) this.ctx.excluded[this.slots.name(n)] = true;
    for (const [role, w] of Object.entries(options.weights ?? {})) this.setWeight(role, w);
    this.initialized = true;
    if (options.allocationIntervalMs > 0) {
      this.interval = options.clock.setInterval(() => void this.trigger(), options.allocationIntervalMs);
    }
  }

  close(): void {
    this.closed = true;
    if (this.interval) this.opts.clock.clearInterval(this.interval);
    this.interval = undefined;
    if (this.recoveryTimer) this.opts.clock.clearTimeout(this.recoveryTimer);
    this.recoveryTimer = undefined;
    this.pending?.resolve();
    this.pending = undefined;
  }

  /** Stops allocating until resume() (offers already computed still go out). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    void this.trigger();
  }

  // ---------------------------------------------------------------- frameworks

  private framework(id: string): FrameworkState {
    let fw = this.frameworks.get(id);
    if (!fw) {
      // Known only through allocations reported by an agent: tracked, never offered, until added.
      fw = new FrameworkState(this.fwCount++, id, {}, false);
      fw.added = false;
      this.frameworks.set(id, fw);
    }
    return fw;
  }

  private client(fw: FrameworkState, role: string): Client {
    let c = fw.clients.get(role);
    if (!c) {
      const node = this.tree.get(role);
      c = new Client(this.clientCount++, fw, node);
      fw.clients.set(role, c);
      node.clients.push(c);
      node.clientsChanged();
      if (c.idx >= this.stamp.length) {
        const grown = new Int32Array(this.stamp.length * 2);
        grown.set(this.stamp);
        this.stamp = grown;
      }
    }
    return c;
  }

  /** Recomputes each client's activity (framework active, subscribed, role not suppressed). */
  private refreshClients(fw: FrameworkState): void {
    const subscribed = new Set(fw.roles);
    for (const [role, c] of fw.clients) {
      const want = fw.added && fw.active && subscribed.has(role) && !fw.suppressed.has(role);
      if (want !== c.active) {
        c.active = want;
        this.tree.activityChanged(c.role, want ? 1 : -1);
      }
      if (!subscribed.has(role) && c.agents === 0) this.dropClient(fw, c);
    }
  }

  private dropClient(fw: FrameworkState, c: Client): void {
    if (c.active) {
      c.active = false;
      this.tree.activityChanged(c.role, -1);
    }
    fw.clients.delete(c.role.path);
    const list = c.role.clients;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    c.role.clientsChanged();
  }

  private applyInfo(fw: FrameworkState, info: Msg, suppressedRoles: string[]): void {
    info = info && typeof info === 'object' ? info : {};
    fw.info = info;
    fw.caps = frameworkCaps(info);
    fw.roles = frameworkRoles(info).filter((r) => {
      const err = validateRole(r);
      if (err) log.warn(`Ignoring role of framework ${fw.id}: ${err}`);
      return !err;
    });
    fw.suppressed = new Set(Array.isArray(suppressedRoles) ? suppressedRoles.map(String) : []);
    fw.mins = new Map();
    for (const [role, f] of Object.entries((info.offer_filters ?? {}) as Record<string, Msg>)) {
      const min = f?.min_allocatable_resources;
      if (!min) continue;
      const alts: MinAlternatives = [];
      for (const q of min.quantities ?? []) {
        const alt: Array<[number, number]> = [];
        for (const [name, scalar] of Object.entries((q?.quantities ?? {}) as Record<string, Msg>)) {
          alt.push([this.slots.name(name), Math.round(Number(scalar?.value ?? 0) * 1000)]);
        }
        alts.push(alt);
      }
      fw.mins.set(role, alts);
    }
    for (const role of fw.roles) this.client(fw, role);
    for (const [role, c] of fw.clients) {
      c.mins = fw.mins.get(role);
      c.role.customMins = c.role.clients.some((x) => x.mins !== undefined);
    }
  }

  addFramework(frameworkId: string, frameworkInfo: Msg, used: Map<string, Resources>, active: boolean, suppressedRoles: string[]): void {
    const fw = this.framework(frameworkId);
    fw.added = true;
    fw.active = active;
    this.applyInfo(fw, frameworkInfo, suppressedRoles);
    for (const [agentId, res] of used ?? []) {
      const agent = this.agents.get(agentId);
      // An agent added with this framework's allocation already reported it; don't count it twice.
      if (!agent || agent.alloc.has(frameworkId)) continue;
      this.trackUsed(agent, fw, res);
    }
    this.refreshClients(fw);
    void this.trigger();
  }

  removeFramework(frameworkId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw) return;
    for (const agent of this.agents.values()) {
      const byRole = agent.alloc.get(frameworkId);
      if (!byRole) continue;
      for (const [role, bag] of [...byRole]) this.untrack(agent, fw, role, bag);
    }
    for (const c of [...fw.clients.values()]) this.dropClient(fw, c);
    this.clearFilters(fw, undefined);
    this.outstanding.delete(frameworkId);
    this.inverse.removeFramework(frameworkId);
    this.frameworks.delete(frameworkId);
    fw.added = false;
  }

  activateFramework(frameworkId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw || !fw.added) return;
    fw.active = true;
    this.refreshClients(fw);
    void this.trigger();
  }

  deactivateFramework(frameworkId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw || !fw.added) return;
    fw.active = false;
    this.refreshClients(fw);
    // Mesos drops a deactivated framework's filters: they are stale once it comes back.
    this.clearFilters(fw, undefined);
  }

  updateFramework(frameworkId: string, frameworkInfo: Msg, suppressedRoles: string[]): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw || !fw.added) return;
    const before = new Set(fw.roles.filter((r) => !fw.suppressed.has(r)));
    this.applyInfo(fw, frameworkInfo, suppressedRoles);
    const unsuppressed = fw.roles.filter((r) => !fw.suppressed.has(r) && !before.has(r));
    // A role leaving the suppressed set (or newly subscribed) starts without decline filters.
    if (unsuppressed.length > 0) this.clearFilters(fw, unsuppressed);
    this.refreshClients(fw);
    if (unsuppressed.length > 0) void this.trigger();
  }

  suppressOffers(frameworkId: string, roles: string[]): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw || !fw.added) return;
    for (const r of roles && roles.length > 0 ? roles : fw.roles) fw.suppressed.add(r);
    this.refreshClients(fw);
  }

  reviveOffers(frameworkId: string, roles: string[]): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw || !fw.added) return;
    const list = roles && roles.length > 0 ? roles : fw.roles;
    for (const r of list) fw.suppressed.delete(r);
    this.clearFilters(fw, list);
    this.refreshClients(fw);
    void this.trigger();
  }

  /** Drops the framework's decline filters (for some roles, or all); only agents it filtered are visited. */
  private clearFilters(fw: FrameworkState, roles: string[] | undefined): void {
    const set = roles ? new Set(roles) : undefined;
    for (const agent of fw.filteredAgents) {
      agent.filters = agent.filters.filter((f) => !(f.client.fw === fw && (!set || set.has(f.client.role.path))));
      if (!agent.filters.some((f) => f.client.fw === fw)) fw.filteredAgents.delete(agent);
    }
  }

  requestResources(_frameworkId: string, _requests: Msg[]): void {
    // Mesos's hierarchical allocator ignores resource requests too.
  }

  // ---------------------------------------------------------------- weights and quota

  private setWeight(role: string, weight: number): void {
    if (validateRole(role) || role === '*' || !(weight > 0)) {
      if (role !== '*') log.warn(`Ignoring weight ${weight} for role '${role}'`);
      if (role !== '*' || !(weight > 0)) return;
    }
    const node = this.tree.get(role);
    node.weight = weight;
    node.touched(true);
    this.ctx.version++;
  }

  updateWeights(weights: Array<{ role: string; weight: number }>): void {
    for (const w of Array.isArray(weights) ? weights : []) if (w && typeof w.role === 'string') this.setWeight(w.role, Number(w.weight));
  }

  updateQuota(role: string, quota: { guarantees?: Resources; limits?: Resources }): void {
    if (validateRole(role)) return;
    const node = this.tree.get(role);
    node.guarantees = this.quotaVector(quota?.guarantees);
    node.limits = this.quotaVector(quota?.limits);
    this.ctx.version++;
    this.rescindOverLimit(node);
  }

  private quotaVector(r: Resources | undefined): number[] | undefined {
    if (!r) return undefined;
    const out: number[] = [];
    let any = false;
    if (typeof r.scalarsOnly !== 'function') return undefined;
    // Quota is on scalar resources only.
    for (const [name, q] of r.scalarsOnly().quantities()) {
      out[this.slots.name(name)] = Math.round(q * 1000);
      any = true;
    }
    return any ? out : undefined;
  }

  /**
   * A lowered limit: ask the master to rescind outstanding offers of the role until it fits. The
   * master answers a rescind by recovering the offer's resources at once; one it ignores (the offer
   * was already accepted: those resources are in use) frees nothing, so what is still over the limit
   * is measured again after every request rather than assumed.
   */
  private rescindOverLimit(node: RoleNode): void {
    const limits = node.limits;
    const rescind = this.hooks.rescind;
    if (!limits || !rescind) return;
    const excess = (): number[] => {
      const out: number[] = [];
      for (let i = 0; i < limits.length; i++) if (limits[i] !== undefined) out[i] = consumed(node, i) - limits[i];
      return out;
    };
    let over = excess();
    if (!over.some((e) => e > 0)) return;
    for (const [fwId, byAgent] of [...this.outstanding]) {
      for (const [agentId, bag] of [...byAgent]) {
        const roles = this.offerRoles(fwId, agentId);
        if (!roles.some((r) => this.tree.get(r).isSelfOrDescendantOf(node))) continue;
        const q: number[] = [];
        accumulate(bag, this.slots.slots, q, 1, true);
        let helps = false;
        for (let i = 0; i < q.length; i++) if (q[i] && (over[i] ?? 0) > 0) helps = true;
        if (!helps) continue;
        byAgent.delete(agentId);
        rescind(fwId, agentId);
        over = excess();
        if (!over.some((e) => e > 0)) return;
      }
    }
  }

  private offerRoles(fwId: string, agentId: string): string[] {
    const agent = this.agents.get(agentId);
    return agent ? [...(agent.alloc.get(fwId)?.keys() ?? [])] : [];
  }

  // ---------------------------------------------------------------- agents

  addAgent(agentId: string, agentInfo: Msg, capabilities: string[], total: Resources, used: Map<string, Resources>): void {
    if (this.agents.has(agentId)) this.removeAgent(agentId);
    const agent = new AgentState(this.agentCount++, agentId, agentInfo ?? {}, capabilities ?? []);
    this.agents.set(agentId, agent);
    agent.listPos = this.agentList.length;
    this.agentList.push(agent);
    agent.whitelisted = !this.whitelist || this.whitelist.has(String(agent.info.hostname ?? ''));
    this.setTotal(agent, this.toBag(total));
    for (const [fwId, res] of used ?? []) this.trackUsed(agent, this.framework(fwId), res);
    if (this.recoveryTarget !== undefined && this.agents.size >= this.recoveryTarget) this.endRecovery();
    void this.trigger();
  }

  removeAgent(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (!agent) return;
    for (const [fwId, byRole] of [...agent.alloc]) {
      const fw = this.frameworks.get(fwId);
      if (!fw) continue;
      for (const [role, bag] of [...byRole]) this.untrack(agent, fw, role, bag);
    }
    this.setTotal(agent, []);
    agent.removed = true;
    for (const f of agent.filters) f.client.fw.filteredAgents.delete(agent);
    agent.filters = [];
    this.agents.delete(agentId);
    const last = this.agentList.pop()!;
    if (last !== agent) {
      this.agentList[agent.listPos] = last;
      last.listPos = agent.listPos;
    }
    for (const byAgent of this.outstanding.values()) byAgent.delete(agentId);
    this.inverse.removeAgent(agentId);
  }

  updateAgent(agentId: string, agentInfo: Msg, total: Resources, capabilities: string[]): void {
    const agent = this.agents.get(agentId);
    if (!agent) return;
    if (agentInfo) {
      agent.info = agentInfo;
      agent.region = agentInfo?.domain?.fault_domain?.region?.name;
      agent.whitelisted = !this.whitelist || this.whitelist.has(String(agentInfo.hostname ?? ''));
      this.constraintEpoch++;
    }
    if (capabilities) agent.caps = agentCaps(capabilities);
    if (total) this.setTotal(agent, this.toBag(total));
    void this.trigger();
  }

  activateAgent(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (!agent) return;
    agent.active = true;
    void this.trigger();
  }

  deactivateAgent(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (agent) agent.active = false;
  }

  /** Replaces an agent's total, keeping its allocations; updates cluster totals and reservations. */
  private setTotal(agent: AgentState, total: Bag): void {
    const slots = this.slots.slots;
    // Withdraw the old total from cluster totals and reservation tracking.
    this.accountTotal(agent.total, -1);
    agent.total = total;
    agent.sharedTotal = select(total, slots, (s) => s.shared);
    agent.nonSharedTotal = select(total, slots, (s) => !s.shared);
    let allocated: Bag = [];
    for (const byRole of agent.alloc.values()) for (const bag of byRole.values()) allocated = add(allocated, bag);
    agent.available = subtract(agent.nonSharedTotal, allocated);
    agent.hasGpu = total.some((e) => slots[e.s].name === 'gpus' && e.q > 0);
    agent.offerable = total.some((e) => (slots[e.s].name === 'cpus' || slots[e.s].name === 'mem') && e.q > 0);
    this.accountTotal(total, 1);
    this.ctx.version++;
  }

  private accountTotal(bag: Bag, sign: number): void {
    const slots = this.slots.slots;
    for (const e of bag) {
      const s = slots[e.s];
      if (s.type !== 'SCALAR' || s.revocable) continue;
      this.ctx.totals[s.nameIdx] = (this.ctx.totals[s.nameIdx] ?? 0) + sign * e.q;
      if (s.reserved) {
        for (let n: RoleNode | undefined = this.roleOfSlot(s); n && n.depth >= 0; n = n.parent) {
          n.reserved[s.nameIdx] = (n.reserved[s.nameIdx] ?? 0) + sign * e.q;
        }
      }
    }
  }

  private roleOfSlot(s: Slot): RoleNode | undefined {
    if (!s.reserved) return undefined;
    let n = this.slotRole[s.idx];
    if (!n) {
      n = this.tree.get(s.role);
      this.slotRole[s.idx] = n;
    }
    return n;
  }

  // ---------------------------------------------------------------- allocation bookkeeping

  private toBag(r: Resources | undefined): Bag {
    if (!r || typeof r !== 'object') return [];
    let bag = this.totalCache.get(r);
    if (!bag) {
      bag = this.slots.fromMessages(r.views());
      this.totalCache.set(r, bag);
    }
    return bag;
  }

  /**
   * Resources grouped by allocation role ('' for unallocated). Resources values are immutable, so
   * the split is cached per object: the master usually hands back the very object it was offered.
   */
  private split(r: Resources): Map<string, Bag> {
    if (!r || typeof r !== 'object') return new Map();
    let groups = this.splitCache.get(r);
    if (!groups) {
      const msgs = new Map<string, Msg[]>();
      for (const m of r.views()) {
        const role: string = m.allocation_info?.role ?? '';
        let g = msgs.get(role);
        if (!g) msgs.set(role, (g = []));
        g.push(m);
      }
      groups = new Map();
      for (const [role, g] of msgs) {
        const bag = this.slots.fromMessages(g);
        if (bag.length > 0) groups.set(role, bag);
      }
      this.splitCache.set(r, groups);
    }
    return groups;
  }

  /** Splits resources by allocation role (unallocated ones go to a role the framework holds there, or its first). */
  private byAllocationRole(fw: FrameworkState, r: Resources, agent?: AgentState): Map<string, Bag> {
    const groups = this.split(r);
    const loose = groups.get('');
    if (!loose) return groups;
    const out = new Map(groups);
    out.delete('');
    const known = agent?.alloc.get(fw.id);
    const role = known && known.size > 0 ? [...known.keys()][0] : fw.roles[0] ?? '*';
    out.set(role, add(out.get(role) ?? [], loose));
    return out;
  }

  /** The Resources value for an offer; identical offers share one immutable object. */
  private offerResources(bag: Bag, role: string): Resources {
    let key = role;
    for (const e of bag) key += e.r ? `|${e.s}:${e.r.join(',')}` : e.set ? `|${e.s}:${e.set.join(',')}` : `|${e.s}:${e.q}`;
    let res = this.offerCache.get(key);
    if (!res) {
      if (this.offerCache.size >= 4096) this.offerCache.clear();
      res = Resources.fromProto(this.slots.toMessages(bag, role));
      this.offerCache.set(key, res);
      this.splitCache.set(res, new Map([[role, bag]]));
    }
    return res;
  }
  private totalCache = new WeakMap<Resources, Bag>();
  private splitCache = new WeakMap<Resources, Map<string, Bag>>();
  private offerCache = new Map<string, Resources>();

  private trackUsed(agent: AgentState, fw: FrameworkState, res: Resources): void {
    for (const [role, bag] of this.byAllocationRole(fw, res, agent)) {
      if (validateRole(role)) continue;
      this.track(agent, fw, role, bag);
    }
  }

  /** Records `bag` as offered-or-allocated to (fw, role) on `agent`. */
  private track(agent: AgentState, fw: FrameworkState, role: string, bag: Bag): void {
    const slots = this.slots.slots;
    let byRole = agent.alloc.get(fw.id);
    if (!byRole) agent.alloc.set(fw.id, (byRole = new Map()));
    const before = byRole.get(role);
    byRole.set(role, before ? add(before, bag) : bag);
    agent.available = subtract(agent.available, select(bag, slots, (s) => !s.shared));
    const c = this.client(fw, role);
    if (!before) c.agents++;
    const delta: number[] = [];
    accumulate(bag, slots, delta, 1);
    for (let i = 0; i < delta.length; i++) if (delta[i]) c.alloc[i] = (c.alloc[i] ?? 0) + delta[i];
    c.count++;
    c.role.clientMoved(c);
    this.tree.allocationChanged(c.role, delta, 1, 1);
    const q: number[] = [];
    accumulate(bag, slots, q, 1, true);
    for (let n: RoleNode | undefined = c.role; n && n.depth >= 0; n = n.parent) {
      for (let i = 0; i < q.length; i++) if (q[i]) n.unreservedAllocated[i] = (n.unreservedAllocated[i] ?? 0) + q[i];
    }
  }

  /** Releases (at most) `bag` of what (fw, role) holds on `agent`. */
  private untrack(agent: AgentState, fw: FrameworkState, role: string, bag: Bag): void {
    const byRole = agent.alloc.get(fw.id);
    const held = byRole?.get(role);
    if (!byRole || !held) return;
    const slots = this.slots.slots;
    // Usually everything held comes back at once (a declined offer, a removed framework).
    const all = bag === held || contains(bag, held);
    const rest = all ? [] : subtract(held, bag);
    const released = all ? held : subtract(held, rest);
    if (rest.length > 0) byRole.set(role, rest);
    else {
      byRole.delete(role);
      if (byRole.size === 0) agent.alloc.delete(fw.id);
    }
    // Non-shared resources return to the pool (never beyond the agent's total).
    const back = agent.sharedTotal.length === 0 ? released : select(released, slots, (s) => !s.shared);
    const nonShared = agent.nonSharedTotal;
    const merged = add(agent.available, back);
    agent.available = contains(nonShared, merged) ? merged : subtract(nonShared, subtract(nonShared, merged));
    const c = fw.clients.get(role);
    const delta: number[] = [];
    accumulate(released, slots, delta, 1);
    if (c) {
      for (let i = 0; i < delta.length; i++) if (delta[i]) c.alloc[i] = (c.alloc[i] ?? 0) - delta[i];
      if (rest.length === 0) c.agents--;
      c.role.clientMoved(c);
      if (c.agents === 0 && !fw.roles.includes(role)) this.dropClient(fw, c);
    }
    const node = this.tree.get(role);
    this.tree.allocationChanged(node, delta, -1, 0);
    const q: number[] = [];
    accumulate(released, slots, q, 1, true);
    for (let n: RoleNode | undefined = node; n && n.depth >= 0; n = n.parent) {
      for (let i = 0; i < q.length; i++) if (q[i]) n.unreservedAllocated[i] = (n.unreservedAllocated[i] ?? 0) - q[i];
    }
  }

  recoverResources(frameworkId: string, agentId: string, resources: Resources, refuseSeconds?: number): void {
    const agent = this.agents.get(agentId);
    const fw = this.frameworks.get(frameworkId);
    if (!agent || !fw || !resources) return;
    const byRole = this.byAllocationRole(fw, resources, agent);
    for (const [role, bag] of byRole) this.untrack(agent, fw, role, bag);
    this.forgetOutstanding(frameworkId, agentId, byRole);
    if (refuseSeconds === undefined || refuseSeconds === null) return;
    let secs = Number(refuseSeconds);
    if (!Number.isFinite(secs) || secs < 0) secs = DEFAULT_REFUSE_SECONDS;
    secs = Math.min(secs, MAX_REFUSE_SECONDS);
    if (secs === 0) return;
    // A filter lasts at least one allocation interval, so the next round honours it.
    const ms = Math.max(secs * 1000, this.opts?.allocationIntervalMs ?? 0);
    const expires = this.opts.clock.now() + ms;
    for (const [role, bag] of byRole) {
      const c = fw.clients.get(role);
      if (!c) continue;
      agent.filters.push({ client: c, refused: bag, expires });
      fw.filteredAgents.add(agent);
    }
  }

  /**
   * Resources came back from (framework, agent): they are no longer on offer. Another offer of the
   * framework on that agent (another role, a later round) stays known, so a lowered limit can
   * still rescind it.
   */
  private forgetOutstanding(frameworkId: string, agentId: string, back: Map<string, Bag>): void {
    const byAgent = this.outstanding.get(frameworkId);
    const offered = byAgent?.get(agentId);
    if (!byAgent || !offered) return;
    let rest = offered;
    for (const bag of back.values()) rest = subtract(rest, bag);
    if (rest.length === 0) byAgent.delete(agentId);
    else byAgent.set(agentId, rest);
  }

  // ---------------------------------------------------------------- the allocation round

  /** Requests a round; triggers that arrive before it starts share it. */
  private trigger(): Promise<void> {
    if (this.closed || !this.initialized) return Promise.resolve();
    if (!this.pending) {
      this.pending = deferred();
      this.requestedAt = performance.now();
    }
    const p = this.pending.promise;
    if (!this.running && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.startRound());
    }
    return p;
  }

  allocate(): Promise<void> {
    return this.trigger();
  }

  private startRound(): void {
    this.scheduled = false;
    const current = this.pending;
    this.pending = undefined;
    if (!current) return;
    if (this.closed) {
      current.resolve();
      return;
    }
    if (this.requestedAt !== undefined) this.latencyTimer.record(performance.now() - this.requestedAt);
    this.requestedAt = undefined;
    const started = performance.now();
    this.running = this.round()
      .then(() => {
        this.runs++;
        this.runTimer.record(performance.now() - started);
      })
      .catch((err) => log.error(`Allocation round failed: ${(err as Error).stack ?? err}`))
      .then(() => {
        this.running = undefined;
        current.resolve();
        if (this.pending && !this.scheduled) {
          this.scheduled = true;
          setImmediate(() => this.startRound());
        }
      });
  }

  /** One allocation round; only startRound() runs it, so rounds never overlap. */
  private async round(): Promise<void> {
    if (this.paused || this.closed) return;
    const now = this.opts.clock.now();
    // Candidate agents in random order each cycle (ALC-01).
    const order = this.agentList.slice();
    const rnd = this.ctx.random;
    shuffle(order, rnd);
    const offers = new Map<FrameworkState, Map<string, Map<AgentState, Bag>>>();
    const offeredShared = new Map<AgentState, Bag>();
    const headroom = quotaHeadroom(this.tree.nodes, this.agentList, this.slots.slots);
    const hasQuota = headroom.quotaRoles.length > 0;
    let sliceStart = performance.now();
    for (let stage = hasQuota ? 1 : 2; stage <= 2; stage++) {
      // Reshuffle for stage 2 to spread out stage 1's bias towards the front of the list.
      if (stage === 2 && hasQuota) shuffle(order, rnd);
      for (let i = 0; i < order.length; i++) {
        if (i % SLICE_AGENTS === SLICE_AGENTS - 1 && performance.now() - sliceStart > this.sliceMs) {
          await yieldNow();
          if (this.closed) return;
          sliceStart = performance.now();
        }
        const agent = order[i];
        if (agent.removed || !agent.active || !agent.offerable || !agent.whitelisted) continue;
        this.allocateAgent(agent, stage, now, offers, offeredShared, headroom);
      }
    }
    await this.emit(offers, sliceStart);
    this.emitInverseOffers(now);
  }

  private emitInverseOffers(now: number): void {
    if (this.inverse.size === 0 || !this.inverseOfferCallback) return;
    const pending = this.inverse.generate(
      now,
      (agentId) => this.agents.get(agentId)?.alloc.keys() ?? [],
      (fwId) => {
        const fw = this.frameworks.get(fwId);
        return !!fw && fw.added && fw.active;
      },
    );
    for (const [fwId, agentIds] of pending) {
      try {
        this.inverseOfferCallback(fwId, agentIds);
      } catch (err) {
        log.error(`Inverse offer callback failed for framework ${fwId}: ${(err as Error).message}`);
      }
    }
  }

  /** Hands the round's offers to the master, one callback per framework, yielding between frameworks. */
  private async emit(offers: Map<FrameworkState, Map<string, Map<AgentState, Bag>>>, sliceStart: number): Promise<void> {
    for (const [fw, byRole] of offers) {
      if (performance.now() - sliceStart > this.sliceMs) {
        await yieldNow();
        sliceStart = performance.now();
      }
      if (this.frameworks.get(fw.id) !== fw) continue; // removed mid-round: its allocations went with it
      const out = new Map<string, Map<string, Resources>>();
      for (const [role, byAgent] of byRole) {
        const c = fw.clients.get(role);
        for (const [agent, bag] of byAgent) {
          if (agent.removed) continue;
          if (!fw.active || !c?.active) {
            // Deactivated or suppressed while the round ran: give the resources back.
            this.untrack(agent, fw, role, bag);
            continue;
          }
          let res: Resources;
          try {
            res = this.offerResources(bag, role);
          } catch (err) {
            // Never strand resources: what cannot be expressed as an offer goes back to the pool.
            log.error(`Dropping an offer on agent ${agent.id} for ${fw.id}: ${(err as Error).message}`);
            this.untrack(agent, fw, role, bag);
            continue;
          }
          let m = out.get(role);
          if (!m) out.set(role, (m = new Map()));
          m.set(agent.id, res);
          let o = this.outstanding.get(fw.id);
          if (!o) this.outstanding.set(fw.id, (o = new Map()));
          o.set(agent.id, add(o.get(agent.id) ?? [], bag));
        }
      }
      if (out.size === 0) continue;
      try {
        this.offerCallback(fw.id, out);
      } catch (err) {
        log.error(`Offer callback failed for framework ${fw.id}: ${(err as Error).message}`);
      }
    }
  }

  private allocateAgent(
    agent: AgentState,
    stage: number,
    now: number,
    offers: Map<FrameworkState, Map<string, Map<AgentState, Bag>>>,
    offeredShared: Map<AgentState, Bag>,
    headroom: Headroom,
  ): void {
    const slots = this.slots.slots;
    if (agent.available.length === 0 && agent.sharedTotal.length === 0) return;
    // Mark the clients that have decline filters on this agent (dropping expired ones).
    if (this.stampSeq >= 0x3fffffff) {
      // Wrap before the Int32Array can no longer hold the sequence number.
      this.stamp.fill(0);
      this.stampSeq = 0;
    }
    const seq = ++this.stampSeq;
    if (agent.filters.length > 0) {
      let live = 0;
      for (const f of agent.filters) {
        if (f.expires <= now) continue;
        agent.filters[live++] = f;
        this.stamp[f.client.idx] = seq;
      }
      agent.filters.length = live;
    }
    const roles = this.tree.order(this.ctx);
    const gpuOnly = this.filterGpu && agent.hasGpu;
    const remoteRegion = this.masterRegion !== undefined && agent.region !== undefined && agent.region !== this.masterRegion;
    const quotaOn = headroom.quotaRoles.length > 0;
    const noShared = agent.sharedTotal.length === 0;
    for (let ri = 0; ri < roles.length; ri++) {
      const role = roles[ri];
      if (stage === 1 && !stageOneRole(role)) continue;
      if (role.depth > 0 && !agent.caps.hierarchicalRole) continue;
      let base = this.allocatableTo(agent.available, role);
      if (base.length === 0 && noShared) continue;
      // Stripping and quota only shrink a candidate: when the whole base is below the global
      // minimum and nobody in the role has its own minimum, no framework here can be offered.
      let baseOk = this.allocatable(base, this.globalMins);
      if (!baseOk && noShared && !role.customMins) continue;
      let baseFlags = this.flagsOf(base);
      const roleQuota = quotaOn || hasLimits(role);
      const blocks = role.sortedClients(this.ctx);
      clients: for (let bi = 0; bi < blocks.length; bi++) {
        const block = blocks[bi];
        for (let ci = 0; ci < block.length; ci++) {
          const c = block[ci];
          const fw = c.fw;
          if (!c.active) continue;
          if (gpuOnly && !fw.caps.gpu) continue;
          if (fw.caps.multiRole && !agent.caps.multiRole) continue;
          if (remoteRegion && !fw.caps.regionAware) continue;
          if (fw.constraints !== undefined && !this.passesConstraints(fw, role.path, agent)) continue;
          let cand = base;
          let derived = false;
          if (((baseFlags & REVOCABLE) !== 0 && !fw.caps.revocable) || ((baseFlags & REFINED) !== 0 && !fw.caps.refinement)) {
            const rev = fw.caps.revocable;
            const ref = fw.caps.refinement;
            cand = select(cand, slots, (s) => (rev || !s.revocable) && (ref || !s.refined));
            derived = true;
          }
          if (fw.caps.shared && !noShared) {
            let shared = this.allocatableTo(agent.sharedTotal, role);
            const already = offeredShared.get(agent);
            if (already) shared = subtract(shared, already);
            if (!fw.caps.refinement) shared = select(shared, slots, (s) => !s.refined);
            cand = add(cand, shared);
            derived = true;
          }
          if (roleQuota) {
            cand = applyQuota(cand, role, stage, headroom, slots, this.roleOfSlotFn);
            derived = true;
          }
          if (cand.length === 0) continue;
          if (derived || c.mins !== undefined) {
            if (!this.allocatable(cand, c.mins ?? this.globalMins)) continue;
          } else if (!baseOk) continue;
          if (this.stamp[c.idx] === seq && this.filtered(agent, c, cand)) continue;

          // Offer it.
          const qnode = quotaOn ? quotaNode(role) : undefined;
          const before = qnode ? needs(qnode) : undefined;
          this.track(agent, fw, role.path, cand);
          chargeHeadroom(cand, qnode, before, headroom, slots);
          if ((this.flagsOf(cand) & SHARED) !== 0) {
            offeredShared.set(agent, add(offeredShared.get(agent) ?? [], select(cand, slots, (s) => s.shared)));
          }
          let byRole = offers.get(fw);
          if (!byRole) offers.set(fw, (byRole = new Map()));
          let byAgent = byRole.get(role.path);
          if (!byAgent) byRole.set(role.path, (byAgent = new Map()));
          byAgent.set(agent, add(byAgent.get(agent) ?? [], cand));
          base = this.allocatableTo(agent.available, role);
          if (base.length === 0 && noShared) break clients;
          baseOk = this.allocatable(base, this.globalMins);
          baseFlags = this.flagsOf(base);
        }
      }
      if (agent.available.length === 0 && noShared) return;
    }
  }

  private readonly roleOfSlotFn = (s: Slot) => this.roleOfSlot(s);

  /** Which special kinds a bag holds (REVOCABLE | REFINED | SHARED bits). */
  private flagsOf(bag: Bag): number {
    const slots = this.slots.slots;
    let f = 0;
    for (let i = 0; i < bag.length; i++) {
      const s = slots[bag[i].s];
      if (s.revocable) f |= REVOCABLE;
      if (s.refined) f |= REFINED;
      if (s.shared) f |= SHARED;
    }
    return f;
  }

  /** Unreserved resources plus those reserved to `role` or an ancestor. */
  private allocatableTo(bag: Bag, role: RoleNode): Bag {
    const slots = this.slots.slots;
    let out: Bag | undefined;
    for (let i = 0; i < bag.length; i++) {
      const s = slots[bag[i].s];
      const ok = !s.reserved || role.isSelfOrDescendantOf(this.roleOfSlot(s)!);
      if (!ok) {
        if (!out) out = bag.slice(0, i);
      } else if (out) out.push(bag[i]);
    }
    return out ?? bag;
  }

  private allocatable(cand: Bag, mins: MinAlternatives): boolean {
    if (mins.length === 0) return cand.length > 0;
    const slots = this.slots.slots;
    const q = this.scratchQ;
    for (let i = 0; i < q.length; i++) q[i] = 0;
    for (const e of cand) {
      const n = slots[e.s].nameIdx;
      q[n] = (q[n] ?? 0) + e.q;
    }
    for (const alt of mins) {
      let ok = true;
      for (let k = 0; k < alt.length; k++) {
        if ((q[alt[k][0]] ?? 0) < alt[k][1]) {
          ok = false;
          break;
        }
      }
      if (ok) return true;
    }
    return false;
  }
  private scratchQ: number[] = [];

  private filtered(agent: AgentState, c: Client, cand: Bag): boolean {
    for (const f of agent.filters) {
      if (f.client === c && contains(f.refused, cand)) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- operations, recovery, whitelist, constraints

  /**
   * An operation (RESERVE, CREATE, ...) converted resources a framework holds on an agent: `from`
   * (held, with allocation_info) became `to`. The agent's total changes the same way. Returns false
   * (and changes nothing) when the framework does not hold `from`.
   */
  updateAllocation(frameworkId: string, agentId: string, from: Resources, to: Resources): boolean {
    const agent = this.agents.get(agentId);
    const fw = this.frameworks.get(frameworkId);
    if (!agent || !fw) return false;
    const fromByRole = this.byAllocationRole(fw, from, agent);
    const toByRole = this.byAllocationRole(fw, to, agent);
    const held = agent.alloc.get(frameworkId);
    for (const [role, bag] of fromByRole) if (!held?.get(role) || !contains(held.get(role)!, bag)) return false;
    let total = agent.total;
    for (const [role, bag] of fromByRole) {
      this.untrack(agent, fw, role, bag);
      total = subtract(total, bag);
    }
    for (const bag of toByRole.values()) total = add(total, bag);
    this.setTotal(agent, total);
    for (const [role, bag] of toByRole) this.track(agent, fw, role, bag);
    // The offer the framework holds changed shape; a later rescind must see the new resources.
    this.outstanding.get(frameworkId)?.delete(agentId);
    return true;
  }

  /** A resource provider on an agent adds its resources (and what frameworks already use of them). */
  addResourceProvider(agentId: string, total: Resources, used: Map<string, Resources>): void {
    const agent = this.agents.get(agentId);
    if (!agent) return;
    this.setTotal(agent, add(agent.total, this.toBag(total)));
    for (const [fwId, res] of used ?? []) this.trackUsed(agent, this.framework(fwId), res);
    void this.trigger();
  }

  /** An operator operation converted available resources on an agent (`from` must be available). */
  updateAvailable(agentId: string, from: Resources, to: Resources): boolean {
    const agent = this.agents.get(agentId);
    if (!agent) return false;
    const fromBag = this.toBag(from.unallocate());
    const toBag = this.toBag(to.unallocate());
    const nonSharedFrom = select(fromBag, this.slots.slots, (s) => !s.shared);
    if (!contains(agent.available, nonSharedFrom) || !contains(agent.total, fromBag)) return false;
    this.setTotal(agent, add(subtract(agent.total, fromBag), toBag));
    void this.trigger();
    return true;
  }

  /**
   * After a master failover: restores quotas and, when quotas exist, pauses allocation until
   * `agentRecoveryFactor` (0.8) of the expected agents re-registered or `recoveryTimeoutMs` (10 min) passed.
   */
  recover(expectedAgentCount: number, quotas: Map<string, { guarantees?: Resources; limits?: Resources }>): void {
    for (const [role, q] of quotas ?? []) this.updateQuota(role, q);
    if (!quotas || quotas.size === 0 || !(expectedAgentCount > 0)) return;
    const target = Math.ceil(expectedAgentCount * (this.opts.agentRecoveryFactor ?? 0.8));
    if (this.agents.size >= target) return;
    this.recoveryTarget = target;
    this.paused = true;
    log.info(`Pausing allocation until ${target} agents re-register (or the recovery timeout passes)`);
    this.recoveryTimer = this.opts.clock.setTimeout(() => this.endRecovery(), this.opts.recoveryTimeoutMs ?? 600_000);
  }

  private endRecovery(): void {
    if (this.recoveryTarget === undefined) return;
    this.recoveryTarget = undefined;
    if (this.recoveryTimer) this.opts.clock.clearTimeout(this.recoveryTimer);
    this.recoveryTimer = undefined;
    this.resume();
  }

  /** --whitelist: only agents with these hostnames are offered; undefined lifts the whitelist. */
  updateWhitelist(hostnames: string[] | undefined): void {
    this.whitelist = hostnames ? new Set(hostnames) : undefined;
    for (const agent of this.agentList) agent.whitelisted = !this.whitelist || this.whitelist.has(String(agent.info.hostname ?? ''));
    void this.trigger();
  }

  /**
   * SUBSCRIBE/UPDATE_FRAMEWORK offer_constraints. Throws OfferConstraintsError (nothing changed) on
   * invalid constraints; undefined removes them. Only future offers are affected.
   */
  updateOfferConstraints(frameworkId: string, constraints: Msg | undefined): void {
    const compiled = compileOfferConstraints(constraints);
    const fw = this.frameworks.get(frameworkId);
    if (!fw) return;
    fw.constraints = compiled.size > 0 ? compiled : undefined;
    fw.constraintCache = new Map();
    void this.trigger();
  }

  private passesConstraints(fw: FrameworkState, role: string, agent: AgentState): boolean {
    const pred = fw.constraints!.get(role);
    if (!pred) return true;
    let cache = fw.constraintCache.get(role);
    if (!cache || cache.epoch !== this.constraintEpoch) {
      cache = { epoch: this.constraintEpoch, results: new Map() };
      fw.constraintCache.set(role, cache);
    }
    let ok = cache.results.get(agent.idx);
    if (ok === undefined) {
      ok = pred(agent.info);
      cache.results.set(agent.idx, ok);
    }
    return ok;
  }

  // ---------------------------------------------------------------- maintenance (inverse offers)

  /**
   * Scheduled unavailability of an agent (a maintenance window; undefined cancels it). Frameworks
   * holding resources there get inverse offers from the next round on.
   */
  updateUnavailability(agentId: string, unavailability: Msg | undefined): void {
    if (!this.agents.has(agentId)) return;
    this.inverse.update(agentId, unavailability);
    void this.trigger();
  }

  /**
   * A framework answered an inverse offer for an agent (ACCEPT/DECLINE_INVERSE_OFFERS) or it was
   * rescinded. `refuseSeconds` filters further inverse offers for that agent, like decline filters.
   */
  updateInverseOffer(agentId: string, frameworkId: string, status?: Msg, refuseSeconds?: number): void {
    let until: number | undefined;
    if (refuseSeconds !== undefined && refuseSeconds !== null) {
      let secs = Number(refuseSeconds);
      if (!Number.isFinite(secs) || secs < 0) secs = DEFAULT_REFUSE_SECONDS;
      secs = Math.min(secs, MAX_REFUSE_SECONDS);
      if (secs > 0) until = this.opts.clock.now() + Math.max(secs * 1000, this.opts.allocationIntervalMs);
    }
    this.inverse.respond(agentId, frameworkId, status, until);
  }

  /** agentId -> frameworkId -> the last InverseOfferStatus received. */
  getInverseOfferStatuses(): Map<string, Map<string, Msg>> {
    return this.inverse.statuses();
  }

  // ---------------------------------------------------------------- metrics

  /** The `allocator/mesos/*` (and `allocator/event_queue_dispatches`) metrics, Mesos names and units. */
  metrics(): Record<string, number> {
    const out: Record<string, number> = {};
    out['allocator/mesos/event_queue_dispatches'] = this.pending ? 1 : 0;
    out['allocator/event_queue_dispatches'] = this.pending ? 1 : 0;
    out['allocator/mesos/allocation_runs'] = this.runs;
    this.runTimer.report('allocator/mesos/allocation_run', out);
    this.latencyTimer.report('allocator/mesos/allocation_run_latency', out);
    const offered: number[] = [];
    for (const agent of this.agentList) {
      for (const byRole of agent.alloc.values()) for (const bag of byRole.values()) accumulate(bag, this.slots.slots, offered, 1);
    }
    for (const name of ['cpus', 'mem', 'disk']) {
      const i = this.slots.name(name);
      out[`allocator/mesos/resources/${name}/total`] = (this.ctx.totals[i] ?? 0) / 1000;
      out[`allocator/mesos/resources/${name}/offered_or_allocated`] = (offered[i] ?? 0) / 1000;
    }
    const filtersByRole = new Map<string, number>();
    for (const agent of this.agentList) {
      for (const f of agent.filters) filtersByRole.set(f.client.role.path, (filtersByRole.get(f.client.role.path) ?? 0) + 1);
    }
    for (const node of this.tree.nodes) {
      if (node.clients.length > 0) out[`allocator/mesos/offer_filters/roles/${node.path}/active`] = filtersByRole.get(node.path) ?? 0;
      if (node.clients.length > 0 || node.guarantees || node.limits) {
        out[`allocator/mesos/roles/${node.path}/shares/dominant`] = shareOf(node, this.ctx);
      }
      for (const [kind, vec] of [['guarantee', node.guarantees], ['limit', node.limits]] as const) {
        if (!vec) continue;
        for (let i = 0; i < vec.length; i++) {
          if (vec[i] === undefined) continue;
          const name = this.slots.names[i];
          out[`allocator/mesos/quota/roles/${node.path}/resources/${name}/${kind}`] = vec[i] / 1000;
          out[`allocator/mesos/quota/roles/${node.path}/resources/${name}/offered_or_allocated`] = consumed(node, i) / 1000;
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- introspection (tests, endpoints)

  /** Offered-or-allocated resources of (framework, role) on an agent, for tests and debugging. */
  allocation(frameworkId: string, agentId: string): Map<string, Resources> {
    const out = new Map<string, Resources>();
    for (const [role, bag] of this.agents.get(agentId)?.alloc.get(frameworkId) ?? []) {
      out.set(role, Resources.fromProto(this.slots.toMessages(bag, role)));
    }
    return out;
  }

  /** Unallocated resources of an agent. */
  available(agentId: string): Resources {
    const agent = this.agents.get(agentId);
    return agent ? Resources.fromProto(this.slots.toMessages(add(agent.available, agent.sharedTotal))) : Resources.empty();
  }
}

function shareOf(node: RoleNode, ctx: ShareContext): number {
  node.refresh(ctx);
  return node.shareCache;
}

function shuffle<T>(list: T[], rnd: () => number): void {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = list[i];
    list[i] = list[j];
    list[j] = t;
  }
}

function sorterKind(s: string | undefined): SorterKind {
  return s === 'random' ? 'random' : 'drf';
}
