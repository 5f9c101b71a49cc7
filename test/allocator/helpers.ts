// Shared fixtures for the allocator tests: a ManualClock-driven allocator that records offers.
import { ManualClock } from '../../src/common/clock.js';
import { Resources } from '../../src/resources/index.js';
import type { Allocator, AllocatorOptions, Msg } from '../../src/master/allocator/allocator.js';
import { HierarchicalAllocator } from '../../src/master/allocator/hierarchical.js';

export interface Offer {
  frameworkId: string;
  role: string;
  agentId: string;
  resources: Resources;
}

/** A deterministic pseudo-random source (mulberry32). */
export function seeded(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Harness {
  readonly clock = new ManualClock();
  readonly offers: Offer[] = [];
  readonly rescinds: Array<[string, string]> = [];
  /** Plays the master's part in a rescind (it recovers the offer at once); unset: only recorded. */
  onRescind: ((frameworkId: string, agentId: string) => void) | undefined;
  constructor(
    readonly allocator: Allocator = new HierarchicalAllocator(),
    options: Partial<AllocatorOptions> = {},
  ) {
    allocator.initialize(
      { clock: this.clock, allocationIntervalMs: 1000, random: seeded(), ...options },
      (frameworkId, byRole) => {
        for (const [role, byAgent] of byRole) {
          for (const [agentId, resources] of byAgent) this.offers.push({ frameworkId, role, agentId, resources });
        }
      },
      undefined,
      {
        rescind: (f, a) => {
          this.rescinds.push([f, a]);
          this.onRescind?.(f, a);
        },
      },
    );
  }

  /** Runs a round and returns the offers it produced (and forgets them). */
  async round(): Promise<Offer[]> {
    await this.allocator.allocate();
    return this.take();
  }

  take(): Offer[] {
    return this.offers.splice(0, this.offers.length);
  }

  agent(id: string, resources: string, opts: { caps?: string[]; info?: Msg; used?: Map<string, Resources> } = {}): void {
    this.allocator.addAgent(id, { hostname: id, ...(opts.info ?? {}) }, opts.caps ?? ['MULTI_ROLE', 'HIERARCHICAL_ROLE', 'RESERVATION_REFINEMENT'], Resources.parse(resources), opts.used ?? new Map());
  }

  framework(id: string, roles: string | string[], opts: { caps?: string[]; suppressed?: string[]; active?: boolean; info?: Msg } = {}): void {
    const multi = Array.isArray(roles);
    const caps = [...(opts.caps ?? []), ...(multi ? ['MULTI_ROLE'] : [])];
    const info: Msg = { user: 'u', name: id, id: { value: id }, capabilities: caps.map((type) => ({ type })), ...(opts.info ?? {}) };
    if (multi) info.roles = roles;
    else info.role = roles;
    this.allocator.addFramework(id, info, new Map(), opts.active ?? true, opts.suppressed ?? []);
  }

  /** Declines an offer with a filter of `refuseSeconds` (undefined: no filter). */
  decline(o: Offer, refuseSeconds?: number): void {
    this.allocator.recoverResources(o.frameworkId, o.agentId, o.resources, refuseSeconds);
  }

  close(): void {
    this.allocator.close();
  }
}

export function r(text: string): Resources {
  return Resources.parse(text);
}

/** `resources` without allocation info, as a comparable string. */
export function plain(res: Resources): string {
  return res.unallocate().toString();
}
