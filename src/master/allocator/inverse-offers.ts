// Maintenance inverse offers (MNT-01 through the allocator, ALC-40 updateUnavailability /
// updateInverseOffer): every framework holding resources on an agent with scheduled unavailability
// gets one outstanding inverse offer for it; a response clears it, and a refusal filters it for a while.

interface Maintenance {
  unavailability: Record<string, any>;
  /** Frameworks with an outstanding inverse offer for this agent. */
  outstanding: Set<string>;
  /** frameworkId -> time its inverse-offer filter ends. */
  filters: Map<string, number>;
  /** frameworkId -> last response status (InverseOfferStatus). */
  statuses: Map<string, Record<string, any>>;
}

export class InverseOffers {
  private readonly byAgent = new Map<string, Maintenance>();

  get size(): number {
    return this.byAgent.size;
  }

  /** Sets (or clears, with undefined) an agent's unavailability; outstanding offers and filters reset. */
  update(agentId: string, unavailability: Record<string, any> | undefined): void {
    if (unavailability === undefined) this.byAgent.delete(agentId);
    else this.byAgent.set(agentId, { unavailability, outstanding: new Set(), filters: new Map(), statuses: new Map() });
  }

  removeAgent(agentId: string): void {
    this.byAgent.delete(agentId);
  }

  removeFramework(frameworkId: string): void {
    for (const m of this.byAgent.values()) {
      m.outstanding.delete(frameworkId);
      m.filters.delete(frameworkId);
      m.statuses.delete(frameworkId);
    }
  }

  /** A framework answered (or the offer was rescinded): no longer outstanding; maybe filtered. */
  respond(agentId: string, frameworkId: string, status: Record<string, any> | undefined, filterUntil: number | undefined): void {
    const m = this.byAgent.get(agentId);
    if (!m) return;
    m.outstanding.delete(frameworkId);
    if (status) m.statuses.set(frameworkId, status);
    if (filterUntil !== undefined) m.filters.set(frameworkId, filterUntil);
  }

  /** frameworkId -> agentIds that need a new inverse offer now (and marks them outstanding). */
  generate(now: number, holders: (agentId: string) => Iterable<string>, eligible: (frameworkId: string) => boolean): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [agentId, m] of this.byAgent) {
      for (const fw of holders(agentId)) {
        if (m.outstanding.has(fw) || !eligible(fw)) continue;
        const until = m.filters.get(fw);
        if (until !== undefined && until > now) continue;
        m.filters.delete(fw);
        m.outstanding.add(fw);
        let list = out.get(fw);
        if (!list) out.set(fw, (list = []));
        list.push(agentId);
      }
    }
    return out;
  }

  unavailability(agentId: string): Record<string, any> | undefined {
    return this.byAgent.get(agentId)?.unavailability;
  }

  statuses(): Map<string, Map<string, Record<string, any>>> {
    const out = new Map<string, Map<string, Record<string, any>>>();
    for (const [agentId, m] of this.byAgent) if (m.statuses.size > 0) out.set(agentId, new Map(m.statuses));
    return out;
  }
}
