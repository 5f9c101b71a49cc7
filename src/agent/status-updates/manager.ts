// The task status update manager (TSK-04): one stream per task; updates are accepted once (dedupe
// by uuid), kept in order, and only the head of each stream is in flight to the master. The head
// is resent with exponential backoff (10 s doubling to 10 min) until the master forwards the
// scheduler's acknowledgement for exactly that uuid; then the next update goes out.
import type { Clock, TimerHandle } from '../../common/clock.js';
import { isTerminalState, idValue, type Msg } from '../types.js';

export const STATUS_UPDATE_RETRY_INTERVAL_MIN_MS = 10_000;
export const STATUS_UPDATE_RETRY_INTERVAL_MAX_MS = 600_000;

/**
 * Where accepted updates and acknowledgements are recorded before they take effect. The default
 * keeps nothing; a checkpointing journal (task.updates files) plugs in here later.
 */
export interface StatusUpdateJournal {
  appended(update: Msg): void;
  acknowledged(frameworkId: string, taskId: string, uuid: Buffer): void;
}

export interface StatusUpdateManagerOptions {
  clock: Clock;
  /** Sends an update (a StatusUpdate message, latest_state filled in) to the master. */
  forward: (update: Msg) => void;
  journal?: StatusUpdateJournal;
  minRetryMs?: number;
  maxRetryMs?: number;
}

export type UpdateResult = { kind: 'accepted' } | { kind: 'duplicate' } | { kind: 'rejected'; error: string };

export type AckResult =
  | { ok: true; update: Msg; terminal: boolean }
  | { ok: false; error: string };

class TaskStream {
  readonly pending: Msg[] = [];
  /** Uuids (hex) of every update ever accepted on this stream. */
  readonly received = new Set<string>();
  readonly acknowledged = new Set<string>();
  /** Set once a terminal update was acknowledged: the stream takes nothing more. */
  terminated = false;
  timer?: TimerHandle;
  backoffMs = 0;
  /** Uuid (hex) of the head the timer is retrying. */
  inFlight?: string;

  constructor(
    readonly frameworkId: string,
    readonly taskId: string,
  ) {}
}

function uuidKey(uuid: unknown): string {
  if (Buffer.isBuffer(uuid) || uuid instanceof Uint8Array) return Buffer.from(uuid).toString('hex');
  return '';
}

function streamKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

export class TaskStatusUpdateManager {
  private readonly streams = new Map<string, TaskStream>();
  private paused = false;
  private readonly minRetry: number;
  private readonly maxRetry: number;

  constructor(private readonly opts: StatusUpdateManagerOptions) {
    this.minRetry = opts.minRetryMs ?? STATUS_UPDATE_RETRY_INTERVAL_MIN_MS;
    this.maxRetry = opts.maxRetryMs ?? STATUS_UPDATE_RETRY_INTERVAL_MAX_MS;
  }

  /**
   * Accepts a StatusUpdate{framework_id, executor_id?, slave_id, status, timestamp, uuid}. The
   * caller acknowledges to the executor when the result is 'accepted' or 'duplicate'.
   */
  update(update: Msg): UpdateResult {
    const frameworkId = idValue(update.framework_id);
    const taskId = idValue(update.status?.task_id);
    const key = uuidKey(update.uuid);
    if (!frameworkId || !taskId) return { kind: 'rejected', error: 'Status update without framework id or task id' };
    if (!key) return { kind: 'rejected', error: 'Status update without uuid' };

    let stream = this.streams.get(streamKey(frameworkId, taskId));
    if (stream?.received.has(key)) return { kind: 'duplicate' };
    if (stream?.terminated) {
      return { kind: 'rejected', error: `Task ${taskId} of framework ${frameworkId} already has an acknowledged terminal update` };
    }
    if (!stream) {
      stream = new TaskStream(frameworkId, taskId);
      this.streams.set(streamKey(frameworkId, taskId), stream);
    }
    this.opts.journal?.appended(update);
    stream.received.add(key);
    stream.pending.push(update);
    if (stream.pending.length === 1) this.sendHead(stream, true);
    return { kind: 'accepted' };
  }

  /**
   * Rebuilds a task's stream from its checkpoint (task.updates replayed by the recovering agent):
   * every update counts as received, the unacknowledged ones are pending again, nothing is
   * journaled twice. Pending heads go out on resume().
   */
  recover(frameworkId: string, taskId: string, updates: Msg[], acked: ReadonlySet<string>): void {
    const stream = new TaskStream(frameworkId, taskId);
    for (const u of updates) {
      const key = uuidKey(u.uuid);
      if (!key || stream.received.has(key)) continue;
      stream.received.add(key);
      if (!acked.has(key)) {
        stream.pending.push(u);
        continue;
      }
      stream.acknowledged.add(key);
      if (isTerminalState(u.status?.state)) stream.terminated = true;
    }
    if (stream.terminated && stream.pending.length === 0) return;
    this.streams.set(streamKey(frameworkId, taskId), stream);
    this.sendHead(stream, true);
  }

  /** The master's StatusUpdateAcknowledgementMessage for one update. */
  acknowledge(frameworkId: string, taskId: string, uuid: Buffer): AckResult {
    const stream = this.streams.get(streamKey(frameworkId, taskId));
    if (!stream) return { ok: false, error: `No status update stream for task ${taskId} of framework ${frameworkId}` };
    const key = uuidKey(uuid);
    if (stream.acknowledged.has(key)) return { ok: false, error: `Duplicate acknowledgement for task ${taskId}` };
    const head = stream.pending[0];
    if (!head) return { ok: false, error: `Unexpected acknowledgement for task ${taskId}: no pending updates` };
    if (uuidKey(head.uuid) !== key) return { ok: false, error: `Unexpected acknowledgement for task ${taskId}: not the head of the stream` };

    this.opts.journal?.acknowledged(frameworkId, taskId, uuid);
    stream.pending.shift();
    stream.acknowledged.add(key);
    this.opts.clock.clearTimeout(stream.timer);
    stream.timer = undefined;
    stream.inFlight = undefined;
    const terminal = isTerminalState(head.status?.state);
    if (terminal) stream.terminated = true;
    if (stream.pending.length > 0) this.sendHead(stream, true);
    else if (stream.terminated) this.streams.delete(streamKey(frameworkId, taskId));
    return { ok: true, update: head, terminal };
  }

  /** Stops sending to the master (disconnected); timers keep nothing in flight. */
  pause(): void {
    this.paused = true;
    for (const s of this.streams.values()) {
      this.opts.clock.clearTimeout(s.timer);
      s.timer = undefined;
      s.inFlight = undefined;
    }
  }

  /** (Re-)registered: resend every unacknowledged head at once, retries restart from the minimum. */
  resume(): void {
    this.paused = false;
    for (const s of this.streams.values()) if (s.pending.length > 0) this.sendHead(s, true);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Drops every stream of a framework (framework shut down or removed). */
  cleanupFramework(frameworkId: string): void {
    for (const [k, s] of this.streams) {
      if (s.frameworkId !== frameworkId) continue;
      this.opts.clock.clearTimeout(s.timer);
      this.streams.delete(k);
    }
  }

  /** True if an update with this uuid was already accepted for the task. */
  seen(frameworkId: string, taskId: string, uuid: unknown): boolean {
    return this.streams.get(streamKey(frameworkId, taskId))?.received.has(uuidKey(uuid)) ?? false;
  }

  /** Updates of a task not yet acknowledged by the master, oldest first. */
  pending(frameworkId: string, taskId: string): Msg[] {
    return [...(this.streams.get(streamKey(frameworkId, taskId))?.pending ?? [])];
  }

  /** True while the task has a stream with unacknowledged updates. */
  hasPending(frameworkId: string, taskId: string): boolean {
    return (this.streams.get(streamKey(frameworkId, taskId))?.pending.length ?? 0) > 0;
  }

  /** Total number of updates waiting for acknowledgement, across all tasks. */
  pendingCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.pending.length;
    return n;
  }

  stop(): void {
    for (const s of this.streams.values()) this.opts.clock.clearTimeout(s.timer);
    this.streams.clear();
  }

  private sendHead(stream: TaskStream, resetBackoff: boolean): void {
    const head = stream.pending[0];
    if (!head) return;
    this.opts.clock.clearTimeout(stream.timer);
    stream.timer = undefined;
    if (this.paused) return;
    if (resetBackoff) stream.backoffMs = this.minRetry;
    stream.inFlight = uuidKey(head.uuid);
    // The master tracks the task by the newest state the agent knows, even while older updates wait.
    const latest = stream.pending[stream.pending.length - 1]!.status?.state as string | undefined;
    const out: Msg = { ...head };
    if (latest !== undefined) out.latest_state = latest;
    this.opts.forward(out);
    const uuid = stream.inFlight;
    stream.timer = this.opts.clock.setTimeout(() => this.retry(stream, uuid), stream.backoffMs);
  }

  private retry(stream: TaskStream, uuid: string): void {
    stream.timer = undefined;
    if (this.streams.get(streamKey(stream.frameworkId, stream.taskId)) !== stream) return;
    if (stream.inFlight !== uuid || uuidKey(stream.pending[0]?.uuid) !== uuid) return;
    stream.backoffMs = Math.min(stream.backoffMs * 2, this.maxRetry);
    this.sendHead(stream, false);
  }
}
