// The allocator interface (ALC-40): policy behind a seam. The master calls these methods and receives
// offers only through the callbacks it passed to initialize(); the allocator never holds the master.
import type { Clock } from '../../common/clock.js';
import type { Resources } from '../../resources/index.js';

/** Proto-shaped plain objects (see docs/architecture.md, "Message objects"). */
import type { Msg } from '../../protocol/codec.js';
/** The one message-object type (docs/architecture.md, "Message objects"), re-exported for callers here. */
export type { Msg };

export interface AllocatorOptions {
  clock: Clock;
  /** --allocation_interval in ms. */
  allocationIntervalMs: number;
  /** --role_sorter / --framework_sorter: 'drf' | 'random'. */
  roleSorter?: string;
  frameworkSorter?: string;
  /** --min_allocatable_resources alternatives, each a map name -> quantity. */
  minAllocatableResources?: Array<Record<string, number>>;
  fairnessExcludedResourceNames?: string[];
  filterGpuResources?: boolean;
  /** Static role weights from --weights. */
  weights?: Record<string, number>;
  /** The master's DomainInfo: agents in another region go only to REGION_AWARE frameworks. */
  domain?: Msg;
  /** Randomness for agent shuffling and the random sorters (tests inject a seeded one). */
  random?: () => number;
  /** --allocator_agent_recovery_factor (0.8) and --allocator_recovery_timeout in ms (10 min), see recover(). */
  agentRecoveryFactor?: number;
  recoveryTimeoutMs?: number;
  /** A round yields to the event loop after holding it this long (default 5 ms; 0 = every agent batch). */
  yieldAfterMs?: number;
}

/** Optional extra hooks an allocator may use (added after the first interface). */
export interface AllocatorHooks {
  /**
   * Asks the master to rescind its outstanding offer(s) to a framework on an agent (e.g. a lowered
   * quota limit). The master recovers their resources before returning; an offer it no longer has
   * (already accepted) is ignored, and the allocator then asks for the next one.
   */
  rescind?: (frameworkId: string, agentId: string) => void;
}

/** Offers leave the allocator as (framework, role -> agent -> resources). */
export type OfferCallback = (frameworkId: string, offers: Map<string, Map<string, Resources>>) => void;
export type InverseOfferCallback = (frameworkId: string, agentIds: string[]) => void;

export interface Allocator {
  initialize(options: AllocatorOptions, offerCallback: OfferCallback, inverseOfferCallback?: InverseOfferCallback, hooks?: AllocatorHooks): void;
  /** Stops timers; no callback fires afterwards. */
  close(): void;

  /** `frameworkInfo` is the FrameworkInfo message; `used` maps agentId -> resources already in use by it. */
  addFramework(frameworkId: string, frameworkInfo: Msg, used: Map<string, Resources>, active: boolean, suppressedRoles: string[]): void;
  removeFramework(frameworkId: string): void;
  activateFramework(frameworkId: string): void;
  deactivateFramework(frameworkId: string): void;
  updateFramework(frameworkId: string, frameworkInfo: Msg, suppressedRoles: string[]): void;

  /** `agentInfo` is the AgentInfo message; `used` maps frameworkId -> resources allocated on it. */
  addAgent(agentId: string, agentInfo: Msg, capabilities: string[], total: Resources, used: Map<string, Resources>): void;
  removeAgent(agentId: string): void;
  updateAgent(agentId: string, agentInfo: Msg, total: Resources, capabilities: string[]): void;
  activateAgent(agentId: string): void;
  deactivateAgent(agentId: string): void;

  /**
   * Resources come back (declined, rescinded, task finished). `refuseSeconds` set means the
   * framework asked not to see these resources on this agent for that long (a decline filter).
   */
  recoverResources(frameworkId: string, agentId: string, resources: Resources, refuseSeconds?: number): void;

  requestResources(frameworkId: string, requests: Msg[]): void;
  suppressOffers(frameworkId: string, roles: string[]): void;
  reviveOffers(frameworkId: string, roles: string[]): void;
  updateWeights(weights: Array<{ role: string; weight: number }>): void;
  updateQuota(role: string, quota: { guarantees?: Resources; limits?: Resources }): void;

  /** Runs an allocation now (also runs every allocation interval); resolves when offers went out. */
  allocate(): Promise<void>;

  /** Stops / restarts allocation (Mesos's pause()/resume()); optional. */
  pause?(): void;
  resume?(): void;

  // ---- optional extensions (the built-in allocators implement all of them) ----

  /** An offer operation converted held resources `from` into `to` on the agent (total changes too). */
  updateAllocation?(frameworkId: string, agentId: string, from: Resources, to: Resources): boolean;
  /** A resource provider on the agent adds `total`; `used` is what frameworks already hold of it. */
  addResourceProvider?(agentId: string, total: Resources, used: Map<string, Resources>): void;
  /** An operator operation converted available resources `from` into `to` on the agent. */
  updateAvailable?(agentId: string, from: Resources, to: Resources): boolean;
  /** After master failover: restore quotas; pause allocation until enough agents re-registered. */
  recover?(expectedAgentCount: number, quotas: Map<string, { guarantees?: Resources; limits?: Resources }>): void;
  /** --whitelist hostnames (undefined: every agent). */
  updateWhitelist?(hostnames: string[] | undefined): void;
  /** SUBSCRIBE/UPDATE_FRAMEWORK offer constraints (throws on invalid ones; undefined clears). */
  updateOfferConstraints?(frameworkId: string, constraints: Msg | undefined): void;
  /** Maintenance: an agent's scheduled unavailability (undefined cancels); drives inverse offers. */
  updateUnavailability?(agentId: string, unavailability: Msg | undefined): void;
  /** A framework's answer to an inverse offer (status), or its rescind; refuseSeconds filters new ones. */
  updateInverseOffer?(agentId: string, frameworkId: string, status?: Msg, refuseSeconds?: number): void;
  /** agentId -> frameworkId -> last InverseOfferStatus. */
  getInverseOfferStatuses?(): Map<string, Map<string, Msg>>;
  /** `allocator/mesos/*` metrics for /metrics/snapshot. */
  metrics?(): Record<string, number>;
}
