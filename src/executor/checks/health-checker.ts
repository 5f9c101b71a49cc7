// Health checks (AGT-06), the way Mesos's built-in executors run them:
// - the first check runs `delay_seconds` (15) after start, then every `interval_seconds` (10)
//   after the previous one finished; each may take `timeout_seconds` (20);
// - success: healthy is reported on the first success and on the first success after failures;
// - failure: ignored while still inside `grace_period_seconds` (10) from start *and* no check
//   has succeeded yet; otherwise every failure is reported as unhealthy, and once
//   `consecutive_failures` (3) failures happened in a row the task must be killed.
// The executor turns onHealthChanged into TASK_RUNNING with `healthy` and
// REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, and onUnhealthyKill into a kill whose terminal
// update carries healthy=false.
import type { Clock } from '../../common/clock.js';
import type { Msg } from '../../protocol/codec.js';
import { httpGet, runCommand, tcpConnect, type ProbeResult } from './probes.js';
import { ProbeLoop, seconds } from './schedule.js';

export interface HealthChange {
  healthy: boolean;
  consecutiveFailures: number;
  /** Why the last check failed (absent when healthy). */
  message?: string;
  /** True on the failure that reached consecutive_failures. */
  killTask: boolean;
}

export interface HealthCheckerOptions {
  clock: Clock;
  /** Task environment and sandbox, for COMMAND checks. */
  env: Record<string, string>;
  cwd: string;
  /** argv prepended to COMMAND checks (e.g. to enter the task's namespaces). */
  launchPrefix?: string[];
  onHealthChanged: (change: HealthChange) => void;
  onUnhealthyKill: (change: HealthChange) => void;
}

export class HealthChecker {
  private readonly loop: ProbeLoop<ProbeResult & { healthy?: boolean }>;
  private startedAt = 0;
  private initializing = true;
  private failures = 0;
  private readonly graceMs: number;
  private readonly maxFailures: number;

  constructor(
    private readonly check: Msg,
    private readonly opts: HealthCheckerOptions,
  ) {
    this.graceMs = seconds(check.grace_period_seconds, 10);
    this.maxFailures = check.consecutive_failures === undefined ? 3 : Number(check.consecutive_failures);
    this.loop = new ProbeLoop(opts.clock, seconds(check.delay_seconds, 15), seconds(check.interval_seconds, 10), () => this.probe(), (r) =>
      this.handle(r),
    );
  }

  start(): void {
    this.startedAt = this.opts.clock.now();
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  settled(): Promise<void> {
    return this.loop.settled();
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  private async probe(): Promise<ProbeResult & { healthy?: boolean }> {
    const ctx = { clock: this.opts.clock, timeoutMs: seconds(this.check.timeout_seconds, 20) };
    switch (this.check.type) {
      case 'COMMAND': {
        const r = await runCommand(this.check.command ?? {}, { ...ctx, env: this.opts.env, cwd: this.opts.cwd, launchPrefix: this.opts.launchPrefix });
        if (r.kind !== 'ok') return r;
        return r.value === 0 ? { ...r, healthy: true } : { kind: 'error', message: `Command returned: exited with status ${r.value}` };
      }
      case 'HTTP': {
        const http = this.check.http ?? {};
        const r = await httpGet({ port: Number(http.port), path: http.path, scheme: http.scheme, protocol: http.protocol }, ctx);
        if (r.kind !== 'ok') return r;
        const code = r.value as number;
        return code >= 200 && code < 400
          ? { ...r, healthy: true }
          : { kind: 'error', message: `Unexpected HTTP response code: ${code}` };
      }
      case 'TCP': {
        const tcp = this.check.tcp ?? {};
        const r = await tcpConnect({ port: Number(tcp.port), protocol: tcp.protocol }, ctx);
        if (r.kind !== 'ok') return r;
        return r.value === true ? { ...r, healthy: true } : { kind: 'error', message: `Failed to connect to port ${tcp.port}` };
      }
      default:
        return { kind: 'error', message: `Unsupported health check type '${this.check.type}'` };
    }
  }

  private handle(r: ProbeResult & { healthy?: boolean }): void {
    if (r.kind === 'ok' && r.healthy) {
      if (this.initializing || this.failures > 0) {
        this.opts.onHealthChanged({ healthy: true, consecutiveFailures: 0, killTask: false });
      }
      this.initializing = false;
      this.failures = 0;
      return;
    }
    const message = r.kind === 'ok' ? 'Health check failed' : r.message;
    if (this.initializing && this.opts.clock.now() - this.startedAt <= this.graceMs) return;
    this.failures++;
    const killTask = this.failures >= this.maxFailures;
    const change: HealthChange = { healthy: false, consecutiveFailures: this.failures, message, killTask };
    this.opts.onHealthChanged(change);
    if (killTask) {
      // One kill is enough; the executor's kill path takes it from here.
      this.stop();
      this.opts.onUnhealthyKill(change);
    }
  }
}
