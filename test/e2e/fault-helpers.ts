// Shared pieces of the fault-injection tests: free ports, and a recording framework that launches
// `sleep` tasks from its offers and acknowledges every update.
import { userInfo } from 'node:os';
import { SchedulerClient } from '../../src/scheduler/client.js';
import type { Msg } from '../../src/scheduler/wire.js';
import { eventually } from './procs.js';

export { freePort } from '../support/net.js';

export interface FrameworkOptions {
  name: string;
  partitionAware?: boolean;
  failoverTimeoutSecs?: number;
  checkpoint?: boolean;
  /** Task ids to launch, each `sleep 600` with cpus 0.1 / mem 16. */
  tasks: string[];
  /** Launch at most this many tasks per offer (spreads tasks over agents). */
  perOffer?: number;
  /** Re-subscribe as this framework (failover). */
  frameworkId?: string;
}

/** A scheduler driven by the real SchedulerClient that records everything it is told. */
export class TestFramework {
  readonly client: SchedulerClient;
  frameworkId = '';
  readonly updates: Msg[] = [];
  readonly byTask = new Map<string, Msg[]>();
  readonly events: string[] = [];
  subscribedCount = 0;
  private readonly pending: string[];
  private loop?: Promise<void>;
  readonly errors: Error[] = [];

  constructor(master: string, readonly o: FrameworkOptions) {
    this.pending = [...o.tasks];
    const capabilities: Msg[] = [{ type: 'MULTI_ROLE' }];
    if (o.partitionAware) capabilities.push({ type: 'PARTITION_AWARE' });
    this.client = new SchedulerClient({
      master,
      frameworkInfo: {
        user: userInfo().username,
        name: o.name,
        roles: ['*'],
        checkpoint: o.checkpoint ?? true,
        failover_timeout: o.failoverTimeoutSecs ?? 0,
        capabilities,
        ...(o.frameworkId ? { id: { value: o.frameworkId } } : {}),
      },
    });
  }

  async start(): Promise<void> {
    const sub = await this.client.subscribe();
    this.frameworkId = sub.framework_id.value;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    for await (const e of this.client) {
      this.events.push(e.type);
      if (e.type === 'SUBSCRIBED') this.subscribedCount++;
      if (e.type === 'OFFERS') await this.onOffers(e.offers.offers as Msg[]).catch((err: Error) => this.errors.push(err));
      if (e.type === 'UPDATE') {
        const status = e.update.status as Msg;
        this.updates.push(status);
        const list = this.byTask.get(status.task_id.value) ?? [];
        list.push(status);
        this.byTask.set(status.task_id.value, list);
        this.client.acknowledge(status).catch(() => undefined);
      }
    }
  }

  private async onOffers(offers: Msg[]): Promise<void> {
    for (const offer of offers) {
      const scalar = (name: string) =>
        ((offer.resources ?? []) as Msg[]).filter((r) => r.name === name).reduce((a, r) => a + Number(r.scalar?.value ?? 0), 0);
      const fit = Math.min(Math.floor(scalar('cpus') / 0.1 + 1e-9), Math.floor(scalar('mem') / 16), this.o.perOffer ?? Infinity);
      const ids = this.pending.splice(0, Math.max(0, fit));
      if (ids.length === 0) {
        await this.client.decline([offer.id], { refuse_seconds: 1 });
        continue;
      }
      const role = offer.allocation_info?.role ?? '*';
      const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
      await this.client.launch(
        [offer.id],
        ids.map((id) => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: [res('cpus', 0.1), res('mem', 16)], command: { value: 'sleep 600' } })),
      );
    }
  }

  last(taskId: string): Msg | undefined {
    return this.byTask.get(taskId)?.at(-1);
  }

  until(pred: () => boolean, what: string, ms = 30_000): Promise<true> {
    return eventually(() => pred() || undefined, ms, what) as Promise<true>;
  }

  async close(): Promise<void> {
    this.client.close();
    await this.loop?.catch(() => undefined);
  }
}
