// The outstanding offers: ids `<masterId>-O<n>`, the Offer messages, and --offer_timeout timers.
// Only the OfferBook adds or removes offers (and keeps the frameworks' and agents' offer sets).
import type { Clock } from '../common/clock.js';
import { offerIdFor } from '../common/ids.js';
import type { Resources } from '../resources/index.js';
import type { Msg } from './allocator/allocator.js';
import { type Agent, type Framework, type OfferRecord } from './records.js';
import { parseUpid } from '../transport/upid.js';

export class OfferBook {
  private readonly byId = new Map<string, OfferRecord>();
  private next = 0;

  constructor(
    private readonly masterId: string,
    private readonly clock: Clock,
    private readonly timeoutMs: number | undefined,
    /** Called when an offer outlives --offer_timeout. */
    private readonly onTimeout: (offerId: string) => void,
  ) {}

  get(id: string): OfferRecord | undefined {
    return this.byId.get(id);
  }

  values(): IterableIterator<OfferRecord> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /** A fresh `<masterId>-O<n>` id (inverse offers share the sequence). */
  nextId(): string {
    return offerIdFor(this.masterId, this.next++);
  }

  /** Makes the Offer message for `resources` (already allocated to `role`) and records it. */
  create(fw: Framework, agent: Agent, role: string, resources: Resources): OfferRecord {
    const id = offerIdFor(this.masterId, this.next++);
    const addr = parseUpid(agent.pid);
    const message: Msg = {
      id: { value: id },
      framework_id: { value: fw.id },
      agent_id: { value: agent.id },
      hostname: agent.hostname,
      url: { scheme: 'http', address: { hostname: agent.hostname, ip: addr.ip, port: addr.port }, path: `/${addr.id}` },
      resources: resources.toProto({ refinement: fw.hasCapability('RESERVATION_REFINEMENT') }),
      attributes: agent.info.attributes ?? [],
      executor_ids: [...(agent.executors.get(fw.id)?.keys() ?? [])].map((value) => ({ value })),
      allocation_info: { role },
    };
    if (agent.info.domain) message.domain = agent.info.domain;
    if (agent.unavailability) message.unavailability = agent.unavailability;
    const offer: OfferRecord = { id, frameworkId: fw.id, agentId: agent.id, role, resources, message };
    if (this.timeoutMs !== undefined) offer.timer = this.clock.setTimeout(() => this.onTimeout(id), this.timeoutMs);
    this.byId.set(id, offer);
    fw.offers.add(id);
    agent.offers.add(id);
    return offer;
  }

  /** Forgets an offer; its resources are the caller's business. */
  remove(offer: OfferRecord, fw: Framework | undefined, agent: Agent | undefined): void {
    this.clock.clearTimeout(offer.timer);
    this.byId.delete(offer.id);
    fw?.offers.delete(offer.id);
    agent?.offers.delete(offer.id);
  }

  /** Stops every timer (master shutdown). */
  close(): void {
    for (const o of this.byId.values()) this.clock.clearTimeout(o.timer);
  }
}
