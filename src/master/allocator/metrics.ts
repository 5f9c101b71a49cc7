// libprocess-style timer statistics for the `allocator/mesos/*` metrics: a timer named `x` reports
// `x_ms` (the last value) and `x_ms/count|min|max|p50|p90|p95|p99|p999|p9999` over a recent window.

const WINDOW = 1000;

export class TimerStats {
  private samples: number[] = [];
  private next = 0;
  private last: number | undefined;
  private total = 0;

  record(ms: number): void {
    this.last = ms;
    this.total++;
    if (this.samples.length < WINDOW) this.samples.push(ms);
    else {
      this.samples[this.next] = ms;
      this.next = (this.next + 1) % WINDOW;
    }
  }

  /** Writes this timer's keys into `out` under `name` (without the `_ms`). */
  report(name: string, out: Record<string, number>): void {
    if (this.last === undefined) return;
    out[`${name}_ms`] = this.last;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
    out[`${name}_ms/count`] = this.total;
    out[`${name}_ms/min`] = sorted[0];
    out[`${name}_ms/max`] = sorted[sorted.length - 1];
    out[`${name}_ms/p50`] = pct(0.5);
    out[`${name}_ms/p90`] = pct(0.9);
    out[`${name}_ms/p95`] = pct(0.95);
    out[`${name}_ms/p99`] = pct(0.99);
    out[`${name}_ms/p999`] = pct(0.999);
    out[`${name}_ms/p9999`] = pct(0.9999);
  }
}
