// The loop both checkers share: wait `delay`, run one probe, handle it, wait `interval` after
// it finished, run again, until stopped. All waiting is on the Clock; a probe that finishes
// after stop() is ignored.
import type { Clock, TimerHandle } from '../../common/clock.js';

export class ProbeLoop<R> {
  private timer?: TimerHandle;
  private stopped = true;
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly intervalMs: number,
    private readonly probe: () => Promise<R>,
    private readonly handle: (result: R) => void,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.delayMs);
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Resolves once the probe in flight (if any) has been handled. */
  settled(): Promise<void> {
    return this.inflight;
  }

  private schedule(ms: number): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.inflight = this.probe().then((r) => {
        if (this.stopped) return;
        this.handle(r);
        if (!this.stopped) this.schedule(this.intervalMs);
      });
    }, ms);
  }
}

export const seconds = (v: unknown, dflt: number): number => (v === undefined || v === null ? dflt : Number(v)) * 1000;
