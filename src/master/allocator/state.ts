// Per-framework, per-agent and per-(framework, role) state of the hierarchical allocator.
import type { Msg } from './allocator.js';
import type { Bag } from './slots.js';
import type { RoleNode, ShareContext } from './roles.js';
import { share } from './roles.js';

/** Minimum-allocatable alternatives: each a list of [nameIdx, thousandths]. An empty list allows anything. */
export type MinAlternatives = Array<Array<[number, number]>>;

export interface FrameworkCaps {
  multiRole: boolean;
  gpu: boolean;
  revocable: boolean;
  shared: boolean;
  refinement: boolean;
  regionAware: boolean;
}

export function frameworkCaps(info: Msg): FrameworkCaps {
  const types = new Set<string>((info.capabilities ?? []).map((c: Msg) => String(c?.type)));
  return {
    multiRole: types.has('MULTI_ROLE'),
    gpu: types.has('GPU_RESOURCES'),
    revocable: types.has('REVOCABLE_RESOURCES'),
    shared: types.has('SHARED_RESOURCES'),
    refinement: types.has('RESERVATION_REFINEMENT'),
    regionAware: types.has('REGION_AWARE'),
  };
}

/** The roles a framework subscribes to: `roles` with MULTI_ROLE, else `role` (default `*`). */
export function frameworkRoles(info: Msg): string[] {
  const caps = frameworkCaps(info);
  if (caps.multiRole) {
    const roles: string[] = Array.isArray(info.roles) ? info.roles.map(String) : [];
    if (roles.length === 0 && typeof info.role === 'string') roles.push(info.role);
    return [...new Set(roles)];
  }
  return [typeof info.role === 'string' && info.role !== '' ? info.role : '*'];
}

export class FrameworkState {
  active: boolean;
  /** False while known only through allocations reported by agents (never offered). */
  added = true;
  info: Msg;
  caps: FrameworkCaps;
  roles: string[] = [];
  suppressed = new Set<string>();
  readonly clients = new Map<string, Client>();
  /** Offer constraints by role (undefined: none), and their cached per-agent results. */
  constraints: Map<string, (agentInfo: Msg) => boolean> | undefined;
  constraintCache = new Map<string, { epoch: number; results: Map<number, boolean> }>();
  /** Agents that may hold decline filters of this framework (a superset: expired ones linger). */
  readonly filteredAgents = new Set<AgentState>();
  /** offer_filters[role].min_allocatable_resources, when the framework set them. */
  mins = new Map<string, MinAlternatives>();
  constructor(
    readonly idx: number,
    readonly id: string,
    info: Msg,
    active: boolean,
  ) {
    this.info = info;
    this.caps = frameworkCaps(info);
    this.active = active;
  }
}

/** A framework's subscription to one role: the unit the framework sorter orders. */
export class Client {
  readonly alloc: number[] = [];
  count = 0;
  keyCount = 0;
  /** Agents on which this client holds something. */
  agents = 0;
  shareCache = 0;
  shareVersion = -1;
  stale = true;
  /** The framework's offer_filters minimums for this role (undefined: the global ones). */
  mins: MinAlternatives | undefined;
  /** Framework active and this role not suppressed (and the subscription still exists). */
  active = false;
  constructor(
    readonly idx: number,
    readonly fw: FrameworkState,
    readonly role: RoleNode,
  ) {}
  get path(): string {
    return this.fw.id;
  }
  refresh(ctx: ShareContext): void {
    if (this.stale || this.shareVersion !== ctx.version) {
      this.shareCache = share(this.alloc, 1, ctx);
      this.keyCount = this.count;
      this.shareVersion = ctx.version;
      this.stale = false;
    }
  }
}

export interface DeclineFilter {
  client: Client;
  refused: Bag;
  expires: number;
}

export interface AgentCaps {
  multiRole: boolean;
  hierarchicalRole: boolean;
  refinement: boolean;
}

export class AgentState {
  active = true;
  removed = false;
  info: Msg;
  caps: AgentCaps;
  /** Everything the agent has (non-shared and shared). */
  total: Bag = [];
  /** The non-shared part of the total. */
  nonSharedTotal: Bag = [];
  /** Shared resources (offered once per cycle even while in use). */
  sharedTotal: Bag = [];
  /** Non-shared resources neither offered nor allocated. */
  available: Bag = [];
  hasGpu = false;
  /** On the --whitelist (or no whitelist). */
  whitelisted = true;
  /** Has cpus or mem: an agent with neither is never offered. */
  offerable = false;
  /** Position in the allocator's dense agent list. */
  listPos = 0;
  region: string | undefined;
  /** frameworkId -> role -> offered-or-allocated resources. */
  readonly alloc = new Map<string, Map<string, Bag>>();
  filters: DeclineFilter[] = [];
  constructor(
    readonly idx: number,
    readonly id: string,
    info: Msg,
    caps: string[],
  ) {
    this.info = info;
    this.caps = agentCaps(caps);
    this.region = info?.domain?.fault_domain?.region?.name;
  }
}

export function agentCaps(caps: string[]): AgentCaps {
  const set = new Set((caps ?? []).map(String));
  return {
    multiRole: set.has('MULTI_ROLE'),
    hierarchicalRole: set.has('HIERARCHICAL_ROLE'),
    refinement: set.has('RESERVATION_REFINEMENT'),
  };
}
