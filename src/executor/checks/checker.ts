// Generalized checks (CheckInfo, AGT-06): results are reported, never interpreted. Each result
// becomes a CheckStatusInfo ({type, command{exit_code}} / {type, http{status_code}} /
// {type, tcp{succeeded}}); a check that timed out or could not be performed gives the empty
// one ({type, command: {}}), which is also the initial value. onCheckStatus fires only when the
// status changes; the executor sends it in TASK_RUNNING with REASON_TASK_CHECK_STATUS_UPDATED.
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../../common/clock.js';
import type { Msg } from '../../protocol/codec.js';
import { httpGet, runCommand, tcpConnect, type ProbeResult } from './probes.js';
import { ProbeLoop, seconds } from './schedule.js';

const FIELD: Record<string, string> = { COMMAND: 'command', HTTP: 'http', TCP: 'tcp' };

/** The empty CheckStatusInfo for a check: the status before the first result. */
export function initialCheckStatus(check: Msg): Msg {
  const field = FIELD[check.type as string];
  return field ? { type: check.type, [field]: {} } : { type: check.type };
}

export interface CheckerOptions {
  clock: Clock;
  env: Record<string, string>;
  cwd: string;
  launchPrefix?: string[];
  onCheckStatus: (status: Msg) => void;
}

export class Checker {
  private readonly loop: ProbeLoop<ProbeResult>;
  private last: Msg;

  constructor(
    private readonly check: Msg,
    private readonly opts: CheckerOptions,
  ) {
    this.last = initialCheckStatus(check);
    this.loop = new ProbeLoop(opts.clock, seconds(check.delay_seconds, 15), seconds(check.interval_seconds, 10), () => this.probe(), (r) =>
      this.handle(r),
    );
  }

  /** The latest CheckStatusInfo (the empty one before the first result). */
  get status(): Msg {
    return this.last;
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  settled(): Promise<void> {
    return this.loop.settled();
  }

  private probe(): Promise<ProbeResult> {
    const ctx = { clock: this.opts.clock, timeoutMs: seconds(this.check.timeout_seconds, 20) };
    switch (this.check.type) {
      case 'COMMAND':
        return runCommand(this.check.command?.command ?? {}, { ...ctx, env: this.opts.env, cwd: this.opts.cwd, launchPrefix: this.opts.launchPrefix });
      case 'HTTP':
        return httpGet({ port: Number(this.check.http?.port), path: this.check.http?.path }, ctx);
      case 'TCP':
        return tcpConnect({ port: Number(this.check.tcp?.port) }, ctx);
      default:
        return Promise.resolve({ kind: 'error', message: `Unsupported check type '${this.check.type}'` });
    }
  }

  private handle(r: ProbeResult): void {
    const status = initialCheckStatus(this.check);
    if (r.kind === 'ok') {
      if (this.check.type === 'COMMAND') status.command = { exit_code: r.value };
      else if (this.check.type === 'HTTP') status.http = { status_code: r.value };
      else if (this.check.type === 'TCP') status.tcp = { succeeded: r.value };
    }
    if (isDeepStrictEqual(status, this.last)) return;
    this.last = status;
    this.opts.onCheckStatus(status);
  }
}
