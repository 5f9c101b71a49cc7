// A Mesos-style Timer metric: the last value under its own key plus windowed
// statistics under `<key>/count`, `/min`, `/max`, `/p50` ... (milliseconds).
const WINDOW = 1000;
const PERCENTILES: Array<[string, number]> = [
  ['p50', 0.5], ['p90', 0.9], ['p95', 0.95], ['p99', 0.99], ['p999', 0.999], ['p9999', 0.9999],
];

export class TimerMetric {
  private samples: number[] = [];
  private last: number | undefined;
  private count = 0;

  constructor(readonly key: string) {}

  record(ms: number): void {
    this.last = ms;
    this.count++;
    this.samples.push(ms);
    if (this.samples.length > WINDOW) this.samples.shift();
  }

  /** Nothing until the first sample, like Mesos. */
  snapshot(): Record<string, number> {
    if (this.last === undefined) return {};
    const sorted = [...this.samples].sort((a, b) => a - b);
    const out: Record<string, number> = {
      [this.key]: this.last,
      [`${this.key}/count`]: this.count,
      [`${this.key}/min`]: sorted[0]!,
      [`${this.key}/max`]: sorted[sorted.length - 1]!,
    };
    for (const [name, q] of PERCENTILES) {
      out[`${this.key}/${name}`] = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    }
    return out;
  }
}
