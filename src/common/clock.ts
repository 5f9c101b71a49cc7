// Every timer in Meseta goes through a Clock so tests can run protocol time without waiting.

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

interface SystemHandle extends TimerHandle {
  raw: NodeJS.Timeout;
}

/** The real clock; timers are unref'ed so they never keep a process alive on their own. */
export class SystemClock implements Clock {
  private nextId = 1;
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const raw = setTimeout(fn, Math.max(0, ms));
    raw.unref();
    return { id: this.nextId++, raw } as SystemHandle;
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) clearTimeout((handle as SystemHandle).raw);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const raw = setInterval(fn, Math.max(1, ms));
    raw.unref();
    return { id: this.nextId++, raw } as SystemHandle;
  }
  clearInterval(handle: TimerHandle | undefined): void {
    if (handle) clearInterval((handle as SystemHandle).raw);
  }
}

interface PendingTimer {
  id: number;
  due: number;
  seq: number;
  fn: () => void;
  interval?: number;
}

/** A clock that only moves when told to: `advance(ms)` fires due timers in order. */
export class ManualClock implements Clock {
  private current: number;
  private timers = new Map<number, PendingTimer>();
  private nextId = 1;
  private seq = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.current + Math.max(0, ms), seq: this.seq++, fn });
    return { id };
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const interval = Math.max(1, ms);
    this.timers.set(id, { id, due: this.current + interval, seq: this.seq++, fn, interval });
    return { id };
  }
  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }
  /** Number of timers waiting to fire. */
  pending(): number {
    return this.timers.size;
  }
  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const t of this.timers.values()) {
        if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.current = Math.max(this.current, next.due);
      if (next.interval !== undefined) {
        next.due += next.interval;
        next.seq = this.seq++;
      } else {
        this.timers.delete(next.id);
      }
      next.fn();
    }
    this.current = target;
  }
}
