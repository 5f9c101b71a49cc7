// A small framework for tests: packs submitted tasks into offers, acknowledges every update that
// carries a uuid (and counts acknowledgements per uuid), and lets a test await terminal states.
import { userInfo } from 'node:os';
import { SchedulerClient } from '../../src/scheduler/client.js';
import type { Msg } from '../../src/scheduler/wire.js';

export const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);

export interface TaskSpec {
  id: string;
  command: string;
  cpus?: number;
  mem?: number;
}

/** What the agent adds for the command executor; packing leaves room for it. */
const EXECUTOR_CPUS = 0.1;
const EXECUTOR_MEM = 32;

export class TestFramework {
  readonly client: SchedulerClient;
  /** Every status update received, in order. */
  readonly updates: Msg[] = [];
  /** Updates received per uuid (base64): more than one means the agent retried it. */
  readonly received = new Map<string, number>();
  /** Acknowledgements the master accepted (202), per uuid. */
  readonly acks = new Map<string, number>();
  readonly states = new Map<string, string[]>();
  readonly agentOf = new Map<string, string>();
  /** ACCEPT calls made, with their time, for latency measurements. */
  readonly launchedAt = new Map<string, number>();
  /** performance.now() when each task was first seen in each state. */
  readonly stateAt = new Map<string, Map<string, number>>();
  readonly errors: Error[] = [];
  /** At most this many tasks per ACCEPT (the rest of the offer comes back on a later allocation). */
  maxPerOffer = Infinity;
  private pending: TaskSpec[] = [];
  private waiters: Array<() => void> = [];
  private loop?: Promise<void>;
  private inflight = new Set<Promise<unknown>>();

  constructor(master: string, name = 'e2e', contentType: 'json' | 'protobuf' = 'protobuf') {
    this.client = new SchedulerClient({
      master,
      contentType,
      frameworkInfo: { user: userInfo().username, name, roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] },
    });
  }

  private stamp(event: Msg): void {
    if (event.type !== 'UPDATE') return;
    const status = event.update.status;
    const id = status.task_id.value as string;
    let at = this.stateAt.get(id);
    if (!at) this.stateAt.set(id, (at = new Map()));
    if (!at.has(status.state)) at.set(status.state, performance.now());
  }

  async start(): Promise<this> {
    // Stamped as each event is decoded, before it waits in the queue.
    this.client.on('event', (e: Msg) => this.stamp(e));
    await this.client.subscribe();
    this.loop = this.run();
    return this;
  }

  submit(tasks: TaskSpec[]): void {
    this.pending.push(...tasks);
    // Offers may have been declined while nothing was pending.
    this.client.revive().catch((e: Error) => this.errors.push(e));
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async run(): Promise<void> {
    for await (const event of this.client) {
      try {
        if (event.type === 'OFFERS') await this.onOffers(event.offers.offers ?? []);
        else if (event.type === 'UPDATE') await this.onUpdate(event.update.status);
      } catch (e) {
        this.errors.push(e as Error);
      }
      this.notify();
    }
    this.notify();
  }

  private async onOffers(offers: Msg[]): Promise<void> {
    for (const offer of offers) {
      const role = offer.allocation_info?.role ?? '*';
      const scalar = (name: string) =>
        (offer.resources ?? []).filter((r: Msg) => r.name === name).reduce((s: number, r: Msg) => s + (r.scalar?.value ?? 0), 0);
      let cpus = scalar('cpus');
      let mem = scalar('mem');
      const tasks: Msg[] = [];
      while (this.pending.length > 0 && tasks.length < this.maxPerOffer) {
        const spec = this.pending[0]!;
        const c = spec.cpus ?? 0.1;
        const m = spec.mem ?? 16;
        if (cpus + 1e-9 < c + EXECUTOR_CPUS || mem < m + EXECUTOR_MEM) break;
        cpus -= c + EXECUTOR_CPUS;
        mem -= m + EXECUTOR_MEM;
        this.pending.shift();
        const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
        tasks.push({
          name: spec.id,
          task_id: { value: spec.id },
          agent_id: offer.agent_id,
          resources: [res('cpus', c), res('mem', m)],
          command: { value: spec.command },
        });
      }
      if (tasks.length === 0) {
        await this.client.decline([offer.id], { refuse_seconds: 1 });
        continue;
      }
      const now = performance.now();
      for (const t of tasks) this.launchedAt.set(t.task_id.value, now);
      // refuse_seconds 0: what this ACCEPT leaves unused comes straight back.
      await this.client.launch([offer.id], tasks, { refuse_seconds: 0 });
    }
  }

  private async onUpdate(status: Msg): Promise<void> {
    this.updates.push(status);
    const id = status.task_id.value as string;
    let list = this.states.get(id);
    if (!list) this.states.set(id, (list = []));
    list.push(status.state);
    if (status.agent_id?.value) this.agentOf.set(id, status.agent_id.value);
    if (status.uuid && status.uuid.length > 0) {
      const key = Buffer.from(status.uuid).toString('base64');
      this.received.set(key, (this.received.get(key) ?? 0) + 1);
      // Not awaited: acknowledgements of different tasks need no ordering, and waiting here
      // would delay the events queued behind this one.
      const ack: Promise<void> = this.client.acknowledge(status).then(
        () => {
          this.inflight.delete(ack);
          this.acks.set(key, (this.acks.get(key) ?? 0) + 1);
          this.notify();
        },
        (e: Error) => {
          this.inflight.delete(ack);
          this.errors.push(e);
        },
      );
      this.inflight.add(ack);
    }
  }

  finalState(id: string): string | undefined {
    const list = this.states.get(id);
    const last = list?.[list.length - 1];
    return last !== undefined && TERMINAL.has(last) ? last : undefined;
  }

  /** Resolves when `pred` holds, re-checked after every event. */
  until(pred: () => boolean, ms = 60_000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}; errors: ${this.errors.map((e) => e.message).join('; ')}`)), ms);
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  awaitState(id: string, state: string, ms = 60_000): Promise<void> {
    return this.until(() => (this.states.get(id) ?? []).includes(state), ms, `${id} to reach ${state} (has ${this.states.get(id)?.join(',') ?? 'nothing'})`);
  }

  awaitTerminal(ids: string[], ms = 60_000): Promise<void> {
    return this.until(() => ids.every((id) => this.finalState(id) !== undefined), ms, `${ids.length} tasks to finish`);
  }

  async stop(teardown = true): Promise<void> {
    await Promise.all(this.inflight);
    if (teardown) await this.client.teardown().catch(() => undefined);
    this.client.close();
    await this.loop;
  }
}
