// The registrar: the only writer of the registry. Operations queue up; whenever
// no store is in flight, everything queued is applied to the in-memory
// document in arrival order and written with ONE store, so a burst of N
// operations costs a handful of writes, not N. Each operation's promise
// settles only after the store that contains it is durable.
//
// A failed or timed-out store (or fetch) is fatal, as in Mesos: the in-memory
// document may then hold changes the store does not, so the registrar rejects
// everything from then on and the master is expected to exit.
import type { Clock, TimerHandle } from '../../common/clock.js';
import { decodeProto, type Msg } from '../../protocol/codec.js';
import { TimerMetric } from './metrics.js';
import { REGISTRY_TYPE, RegistryModel, type Registry } from './model.js';
import type { RegistryStore } from './store.js';

export type { Registry } from './model.js';
/**
 * What `recover` hands the master: the registry as stored, with this master recorded in it.
 * Its entries are shared with the registrar: read them, never mutate them.
 */
export type RegistryState = Registry;

export interface RegistryGcOptions {
  /** `--registry_gc_interval` (ms). */
  intervalMs: number;
  /** `--registry_max_agent_age` (ms). */
  maxAgentAgeMs: number;
  /** `--registry_max_agent_count`. */
  maxAgentCount: number;
  /** Told which unreachable/gone agents a periodic GC dropped, so the master can forget them. */
  onPruned?: (pruned: PrunedAgents) => void;
}

export interface RegistrarOptions {
  store: RegistryStore;
  clock: Clock;
  /** `--registry_fetch_timeout` (ms), default 1 minute. */
  fetchTimeoutMs?: number;
  /** `--registry_store_timeout` (ms), default 20 seconds. */
  storeTimeoutMs?: number;
  /** Periodic GC of unreachable/gone entries, started once recovered. */
  gc?: RegistryGcOptions;
  log?: (message: string) => void;
}

export interface PrunedAgents {
  unreachable: string[];
  gone: string[];
}

interface Queued {
  apply: (model: RegistryModel) => boolean;
  resolve: (applied: boolean) => void;
  reject: (err: Error) => void;
}

export class RegistrarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistrarError';
  }
}

export class Registrar {
  private readonly store: RegistryStore;
  private readonly clock: Clock;
  private readonly fetchTimeoutMs: number;
  private readonly storeTimeoutMs: number;
  private readonly gcOptions: RegistryGcOptions | undefined;
  private readonly log: (message: string) => void;

  private recovery: Promise<RegistryState> | undefined;
  private model: RegistryModel | undefined;
  private version = 0;
  private stored: Buffer | undefined;
  private queue: Queued[] = [];
  private flushScheduled = false;
  private inFlight: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private gcTimer: TimerHandle | undefined;

  private fetchMs: number | undefined;
  private readonly storeTimer = new TimerMetric('registrar/state_store_ms');
  /** Successful stores so far (tests and benchmarks). */
  storeCount = 0;

  constructor(options: RegistrarOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 60_000;
    this.storeTimeoutMs = options.storeTimeoutMs ?? 20_000;
    this.gcOptions = options.gc;
    this.log = options.log ?? (() => undefined);
  }

  /**
   * Fetches the registry (an empty store is an empty registry), records `masterInfo` as the
   * leading master, stores that, and resolves with the result. Calling it again returns the
   * same promise.
   */
  recover(masterInfo: Msg): Promise<RegistryState> {
    this.recovery ??= this.doRecover(masterInfo);
    return this.recovery;
  }

  // ------------------------------------------------------------------ operations

  /** Admits a new agent; false if an agent with this id is already admitted. */
  admitAgent(agentInfo: Msg): Promise<boolean> {
    return this.enqueue((m) => m.admitAgent(agentInfo));
  }
  /** Replaces an admitted agent's AgentInfo; false if it is not admitted. */
  updateAgent(agentInfo: Msg): Promise<boolean> {
    return this.enqueue((m) => m.updateAgent(agentInfo));
  }
  /** Admitted -> unreachable at `timeMs` (ms since the epoch); false if not admitted. */
  markUnreachable(agentId: string, timeMs: number): Promise<boolean> {
    return this.enqueue((m) => m.markUnreachable(agentId, timeMs));
  }
  /** Unreachable (or unknown) -> admitted; true and unchanged if already admitted. */
  markReachable(agentInfo: Msg): Promise<boolean> {
    return this.enqueue((m) => m.markReachable(agentInfo));
  }
  /** Admitted or unreachable -> gone at `timeMs`; false if already gone or unknown. */
  markGone(agentId: string, timeMs: number): Promise<boolean> {
    return this.enqueue((m) => m.markGone(agentId, timeMs));
  }
  /** Drops an admitted agent (it shut down / unregistered); false if not admitted. */
  removeAgent(agentId: string): Promise<boolean> {
    return this.enqueue((m) => m.removeAgent(agentId));
  }
  /** DRAIN_AGENT: `config` is a DrainConfig; false if the agent is neither admitted nor unreachable. */
  drainAgent(agentId: string, config: Msg): Promise<boolean> {
    return this.enqueue((m) => m.drainAgent(agentId, config));
  }
  markAgentDrained(agentId: string): Promise<boolean> {
    return this.enqueue((m) => m.markAgentDrained(agentId));
  }
  deactivateAgent(agentId: string): Promise<boolean> {
    return this.enqueue((m) => m.deactivateAgent(agentId));
  }
  reactivateAgent(agentId: string): Promise<boolean> {
    return this.enqueue((m) => m.reactivateAgent(agentId));
  }
  /** UPDATE_WEIGHTS: WeightInfo messages. */
  updateWeights(weightInfos: Msg[]): Promise<boolean> {
    return this.enqueue((m) => m.updateWeights(weightInfos));
  }
  /** UPDATE_QUOTA: QuotaConfig messages (no guarantees and no limits = remove). */
  updateQuota(quotaConfigs: Msg[]): Promise<boolean> {
    return this.enqueue((m) => m.updateQuota(quotaConfigs));
  }
  /** UPDATE_MAINTENANCE_SCHEDULE: a maintenance Schedule. */
  updateSchedule(schedule: Msg): Promise<boolean> {
    return this.enqueue((m) => m.updateSchedule(schedule));
  }
  /** START_MAINTENANCE: MachineIDs; false if one is not in the schedule. */
  startMaintenance(machineIds: Msg[]): Promise<boolean> {
    return this.enqueue((m) => m.startMaintenance(machineIds));
  }
  /** STOP_MAINTENANCE: MachineIDs. */
  stopMaintenance(machineIds: Msg[]): Promise<boolean> {
    return this.enqueue((m) => m.stopMaintenance(machineIds));
  }

  /**
   * Drops unreachable/gone entries older than `maxAgeMs` at `nowMs`, then the oldest beyond
   * `maxCount` per list; resolves with the dropped ids once stored. Candidates are chosen when
   * the operation is applied, so operations queued before it are taken into account.
   */
  async gc(maxAgeMs: number, maxCount: number, nowMs: number): Promise<PrunedAgents> {
    let pruned: PrunedAgents = { unreachable: [], gone: [] };
    await this.enqueue((m) => {
      pruned = m.gcCandidates(maxAgeMs, maxCount, nowMs);
      if (pruned.unreachable.length === 0 && pruned.gone.length === 0) return false;
      return m.prune(pruned.unreachable, pruned.gone);
    });
    return pruned;
  }

  // ------------------------------------------------------------------ views

  /** The registry as last stored (for `/registrar(1)/registry`); undefined before recovery. */
  registry(): Registry | undefined {
    return this.stored && decodeProto(REGISTRY_TYPE, this.stored);
  }

  /** Keys for the master's /metrics/snapshot. */
  metrics(): Record<string, number> {
    return {
      'registrar/queued_operations': this.queue.length,
      'registrar/registry_size_bytes': this.stored?.length ?? 0,
      ...(this.fetchMs === undefined ? {} : { 'registrar/state_fetch_ms': this.fetchMs }),
      ...this.storeTimer.snapshot(),
    };
  }

  /** Stops GC, rejects operations not yet started, waits for the store in flight, closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.gcTimer);
    const queued = this.queue;
    this.queue = [];
    for (const op of queued) op.reject(new RegistrarError('Registrar is closed'));
    await this.inFlight;
    await this.store.close?.();
  }

  // ------------------------------------------------------------------ internals

  private async doRecover(masterInfo: Msg): Promise<RegistryState> {
    const started = performance.now();
    let fetched;
    try {
      fetched = await this.withTimeout(this.store.fetch(), this.fetchTimeoutMs, 'fetch');
    } catch (e) {
      throw this.fail(`Failed to recover registrar: ${(e as Error).message}`);
    }
    this.fetchMs = performance.now() - started;
    let model: RegistryModel;
    try {
      model = fetched ? RegistryModel.decode(fetched.data) : new RegistryModel();
    } catch (e) {
      throw this.fail(`Failed to recover registrar: cannot decode the registry: ${(e as Error).message}`);
    }
    const missing = model.missingCapabilities();
    if (missing.length > 0) {
      throw this.fail(`Failed to recover registrar: this master lacks the minimum capabilities ${missing.join(', ')} the registry requires`);
    }
    this.model = model;
    this.version = fetched?.version ?? 0;
    this.stored = fetched?.data;
    this.log(`Recovered registrar at version ${this.version}: ${model.admitted.size} admitted agents`);
    // Recording the new leader goes through the queue, ahead of anything queued meanwhile.
    const recorded = new Promise<boolean>((resolve, reject) => {
      this.queue.unshift({ apply: (m) => m.setMaster(masterInfo), resolve, reject });
    });
    this.scheduleFlush();
    try {
      await recorded;
    } catch (e) {
      throw new RegistrarError(`Failed to recover registrar: Failed to persist MasterInfo: ${(e as Error).message}`);
    }
    this.scheduleGc();
    return model.view();
  }

  private enqueue(apply: (model: RegistryModel) => boolean): Promise<boolean> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new RegistrarError('Registrar is closed'));
    if (!this.recovery) return Promise.reject(new RegistrarError('Attempted to apply the operation before recovering'));
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ apply, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Defers to a microtask so operations issued in the same tick share a store. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const model = this.model;
    if (this.inFlight || !model || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    if (this.failure) {
      for (const op of batch) op.reject(this.failure);
      return;
    }
    const results = batch.map((op) => {
      try {
        return op.apply(model);
      } catch (e) {
        this.log(`Registry operation failed: ${(e as Error).message}`);
        return false;
      }
    });
    if (!results.some((r) => r)) {
      // Nothing changed: nothing to write.
      batch.forEach((op) => op.resolve(false));
      return;
    }
    let bytes: Buffer;
    try {
      bytes = model.encode();
    } catch (e) {
      const err = this.fail(`Failed to update 'registry': cannot encode: ${(e as Error).message}`);
      batch.forEach((op) => op.reject(err));
      return;
    }
    this.inFlight = this.write(bytes, batch, results).finally(() => {
      this.inFlight = undefined;
      this.flush();
    });
  }

  private async write(bytes: Buffer, batch: Queued[], results: boolean[]): Promise<void> {
    const started = performance.now();
    try {
      this.version = await this.withTimeout(this.store.store(bytes, this.version), this.storeTimeoutMs, 'store');
    } catch (e) {
      const err = this.fail(`Failed to update 'registry': ${(e as Error).message}`);
      batch.forEach((op) => op.reject(err));
      return;
    }
    this.storeTimer.record(performance.now() - started);
    this.storeCount++;
    this.stored = bytes;
    batch.forEach((op, i) => op.resolve(results[i]!));
  }

  /** Makes `message` the sticky failure and rejects everything queued with it. */
  private fail(message: string): Error {
    this.failure ??= new RegistrarError(message);
    const queued = this.queue;
    this.queue = [];
    for (const op of queued) op.reject(this.failure);
    this.log(message);
    return this.failure;
  }

  private withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms);
      promise.then(
        (v) => {
          this.clock.clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          this.clock.clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private scheduleGc(): void {
    const gc = this.gcOptions;
    if (!gc || this.closed || this.failure) return;
    this.gcTimer = this.clock.setTimeout(() => {
      this.gc(gc.maxAgentAgeMs, gc.maxAgentCount, this.clock.now()).then(
        (pruned) => {
          if (pruned.unreachable.length + pruned.gone.length > 0) {
            this.log(`Registry GC dropped ${pruned.unreachable.length} unreachable and ${pruned.gone.length} gone agents`);
            gc.onPruned?.(pruned);
          }
          this.scheduleGc();
        },
        (e) => this.log(`Registry GC failed: ${(e as Error).message}`),
      );
    }, gc.intervalMs);
  }
}
