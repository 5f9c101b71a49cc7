// A tiny --allocator plugin: "round-robin". Each round, every agent's free resources go whole to the
// next active framework (in turn), allocated to that framework's first unsuppressed role. It honours
// decline filters by time only and ignores quota, weights and capabilities: a teaching example of
// the ALC-40 interface, not a production policy.
//
// Build it with the project (`npm run build`) and start a master with
//   --allocator=dist/examples/allocator-plugin/index.js
import type { Allocator, AllocatorOptions, Msg, OfferCallback } from '../../src/master/allocator/allocator.js';
import type { TimerHandle } from '../../src/common/clock.js';
import { Resources } from '../../src/resources/index.js';

interface Framework {
  roles: string[];
  suppressed: Set<string>;
  active: boolean;
}

interface Agent {
  total: Resources;
  /** frameworkId -> resources offered or in use. */
  allocated: Map<string, Resources>;
  active: boolean;
}

class RoundRobinAllocator implements Allocator {
  private options!: AllocatorOptions;
  private offer: OfferCallback = () => {};
  private timer: TimerHandle | undefined;
  private frameworks = new Map<string, Framework>();
  private agents = new Map<string, Agent>();
  /** "frameworkId agentId" -> time the decline filter ends. */
  private filters = new Map<string, number>();
  private next = 0;

  initialize(options: AllocatorOptions, offerCallback: OfferCallback): void {
    this.options = options;
    this.offer = offerCallback;
    this.timer = options.clock.setInterval(() => void this.allocate(), options.allocationIntervalMs);
  }
  close(): void {
    this.options?.clock.clearInterval(this.timer);
  }

  addFramework(id: string, info: Msg, used: Map<string, Resources>, active: boolean, suppressedRoles: string[]): void {
    this.frameworks.set(id, { roles: rolesOf(info), suppressed: new Set(suppressedRoles), active });
    for (const [agentId, res] of used) this.use(agentId, id, res);
  }
  removeFramework(id: string): void {
    this.frameworks.delete(id);
    for (const agent of this.agents.values()) agent.allocated.delete(id);
  }
  activateFramework(id: string): void {
    const f = this.frameworks.get(id);
    if (f) f.active = true;
  }
  deactivateFramework(id: string): void {
    const f = this.frameworks.get(id);
    if (f) f.active = false;
  }
  updateFramework(id: string, info: Msg, suppressedRoles: string[]): void {
    const f = this.frameworks.get(id);
    if (f) Object.assign(f, { roles: rolesOf(info), suppressed: new Set(suppressedRoles) });
  }

  addAgent(id: string, _info: Msg, _caps: string[], total: Resources, used: Map<string, Resources>): void {
    this.agents.set(id, { total, allocated: new Map(), active: true });
    for (const [frameworkId, res] of used) this.use(id, frameworkId, res);
  }
  removeAgent(id: string): void {
    this.agents.delete(id);
  }
  updateAgent(id: string, _info: Msg, total: Resources): void {
    const a = this.agents.get(id);
    if (a && total) a.total = total;
  }
  activateAgent(id: string): void {
    const a = this.agents.get(id);
    if (a) a.active = true;
  }
  deactivateAgent(id: string): void {
    const a = this.agents.get(id);
    if (a) a.active = false;
  }

  recoverResources(frameworkId: string, agentId: string, resources: Resources, refuseSeconds?: number): void {
    const a = this.agents.get(agentId);
    const held = a?.allocated.get(frameworkId);
    if (!a || !held) return;
    a.allocated.set(frameworkId, held.minus(resources.unallocate()));
    if (refuseSeconds && refuseSeconds > 0) {
      this.filters.set(`${frameworkId} ${agentId}`, this.options.clock.now() + refuseSeconds * 1000);
    }
  }
  requestResources(): void {}
  suppressOffers(frameworkId: string, roles: string[]): void {
    const f = this.frameworks.get(frameworkId);
    if (f) for (const r of roles.length > 0 ? roles : f.roles) f.suppressed.add(r);
  }
  reviveOffers(frameworkId: string, roles: string[]): void {
    const f = this.frameworks.get(frameworkId);
    if (!f) return;
    for (const r of roles.length > 0 ? roles : f.roles) f.suppressed.delete(r);
    for (const key of [...this.filters.keys()]) if (key.startsWith(`${frameworkId} `)) this.filters.delete(key);
  }
  updateWeights(): void {}
  updateQuota(): void {}

  async allocate(): Promise<void> {
    const now = this.options.clock.now();
    const out = new Map<string, Map<string, Map<string, Resources>>>();
    const ids = [...this.frameworks.keys()];
    for (const [agentId, agent] of this.agents) {
      if (!agent.active) continue;
      let free = agent.total;
      for (const r of agent.allocated.values()) free = free.minus(r);
      if (free.isEmpty()) continue;
      // The next framework in turn that wants it.
      for (let tries = 0; tries < ids.length; tries++) {
        const id = ids[this.next++ % ids.length];
        const f = this.frameworks.get(id)!;
        const role = f.roles.find((r) => !f.suppressed.has(r));
        if (!f.active || role === undefined || (this.filters.get(`${id} ${agentId}`) ?? 0) > now) continue;
        const offered = free.allocatableTo(role);
        if (offered.isEmpty()) continue;
        agent.allocated.set(id, (agent.allocated.get(id) ?? Resources.empty()).plus(offered));
        let byRole = out.get(id);
        if (!byRole) out.set(id, (byRole = new Map()));
        let byAgent = byRole.get(role);
        if (!byAgent) byRole.set(role, (byAgent = new Map()));
        byAgent.set(agentId, offered.allocate(role));
        break;
      }
    }
    for (const [id, byRole] of out) this.offer(id, byRole);
  }

  private use(agentId: string, frameworkId: string, res: Resources): void {
    const a = this.agents.get(agentId);
    if (a) a.allocated.set(frameworkId, (a.allocated.get(frameworkId) ?? Resources.empty()).plus(res.unallocate()));
  }
}

function rolesOf(info: Msg): string[] {
  const multi = (info.capabilities ?? []).some((c: Msg) => c.type === 'MULTI_ROLE');
  return multi ? [...(info.roles ?? [])] : [info.role ?? '*'];
}

/** The factory `--allocator=<this module>` calls. */
export default function createAllocator(): Allocator {
  return new RoundRobinAllocator();
}
