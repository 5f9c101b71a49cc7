// In-process cluster harness: a real master and N real agents (real HTTP on 127.0.0.1, ephemeral
// ports, temp work dirs) plus a connected SchedulerClient, all in this process. With a ManualClock
// protocol time only moves when the harness (or the test) advances it.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { type Clock, ManualClock } from '../../src/common/clock.js';
import { startAgent } from '../../src/agent/main.js';
import { startMaster } from '../../src/master/main.js';
import { SchedulerClient, type SchedulerClientOptions } from '../../src/scheduler/client.js';
import type { Msg } from '../../src/scheduler/wire.js';
import { descendantPids, killAll } from '../../src/cli/proc.js';

type MasterHandle = Awaited<ReturnType<typeof startMaster>>;
type AgentHandle = Awaited<ReturnType<typeof startAgent>>;

export interface ClusterOptions {
  agents?: number;
  /** A shared clock for master, agents and scheduler; a ManualClock is advanced while awaiting. */
  clock?: Clock;
  masterFlags?: string[];
  agentFlags?: string[];
  /** `--resources` of every agent (default `cpus:4;mem:2048;disk:4096;ports:[31000-32000]`). */
  resources?: string;
  frameworkInfo?: Msg;
  contentType?: SchedulerClientOptions['contentType'];
  /** Subscribe the scheduler during start (default true). */
  subscribe?: boolean;
}

export interface AwaitOptions {
  timeoutMs?: number;
  /** With a ManualClock: protocol time advanced per polling step (default 100 ms). */
  stepMs?: number;
}

// The user must exist here: the agent runs tasks as the framework's user.
const DEFAULT_FRAMEWORK = { user: userInfo().username, name: 'harness', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] };

export class Cluster {
  readonly events: Msg[] = [];
  private claimed = new Set<number>();
  private waiters: Array<() => void> = [];
  private dirs: string[] = [];

  private constructor(
    readonly clock: Clock,
    readonly master: MasterHandle,
    readonly agents: AgentHandle[],
    readonly scheduler: SchedulerClient,
    dirs: string[],
  ) {
    this.dirs = dirs;
    scheduler.on('event', (e: Msg) => {
      this.events.push(e);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const clock = opts.clock ?? new ManualClock(Date.now());
    const root = mkdtempSync(join(tmpdir(), 'meseta-cluster-'));
    const dirs = [root];
    const started: Array<{ stop(): unknown }> = [];
    try {
      const master = await startMaster(
        ['--ip=127.0.0.1', '--port=0', '--registry=in_memory', `--work_dir=${join(root, 'master')}`, ...(opts.masterFlags ?? [])],
        { env: {}, clock },
      );
      started.push(master);
      const agents: AgentHandle[] = [];
      for (let i = 0; i < (opts.agents ?? 1); i++) {
        const agent = await startAgent(
          [
            `--master=127.0.0.1:${master.port}`,
            '--ip=127.0.0.1',
            '--port=0',
            `--work_dir=${join(root, `agent-${i}`)}`,
            `--resources=${opts.resources ?? 'cpus:4;mem:2048;disk:4096;ports:[31000-32000]'}`,
            ...(opts.agentFlags ?? []),
          ],
          { env: {}, clock },
        );
        started.push(agent);
        agents.push(agent);
      }
      const scheduler = new SchedulerClient({
        master: `127.0.0.1:${master.port}`,
        frameworkInfo: opts.frameworkInfo ?? DEFAULT_FRAMEWORK,
        contentType: opts.contentType ?? 'json',
        clock,
      });
      const cluster = new Cluster(clock, master, agents, scheduler, dirs);
      if (opts.subscribe ?? true) await cluster.scheduler.subscribe();
      return cluster;
    } catch (e) {
      for (const s of started.reverse()) await Promise.resolve(s.stop()).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
      throw e;
    }
  }

  get masterUrl(): string {
    return `http://127.0.0.1:${this.master.port}`;
  }

  /** Lets sockets and timers of the real event loop run, then (ManualClock) moves protocol time. */
  async step(ms = 100): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
    if (this.clock instanceof ManualClock) this.clock.advance(ms);
  }

  /**
   * Resolves with the first event matching `pred` that no earlier awaitEvent returned (events that
   * arrived before the call count too). Moves a ManualClock forward while waiting.
   */
  async awaitEvent(pred: (e: Msg) => boolean, opts: AwaitOptions | number = {}): Promise<Msg> {
    const { timeoutMs = 15_000, stepMs = 100 } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < this.events.length; i++) {
        if (this.claimed.has(i)) continue;
        if (pred(this.events[i]!)) {
          this.claimed.add(i);
          return this.events[i]!;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`awaitEvent timed out after ${timeoutMs} ms; events seen: ${this.events.map((e) => e.type).join(', ')}`);
      }
      if (this.clock instanceof ManualClock) await this.step(stepMs);
      else await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** An UPDATE for `taskId` in `state`. */
  awaitUpdate(taskId: string, state: string, opts?: AwaitOptions | number): Promise<Msg> {
    return this.awaitEvent((e) => e.type === 'UPDATE' && e.update?.status?.task_id?.value === taskId && e.update.status.state === state, opts);
  }

  /** Waits until the master reports `n` registered agents in /master/state. */
  async awaitAgents(n = this.agents.length, timeoutMs = 15_000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.getJson(`${this.masterUrl}/master/state`).catch(() => undefined);
      if (state && (state.slaves?.length ?? 0) >= n) return state;
      if (Date.now() > deadline) throw new Error(`awaitAgents(${n}) timed out`);
      await this.step();
    }
  }

  getJson(url: string): Promise<any> {
    return new Promise((resolve, reject) => {
      http
        .get(url, { agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode} ${text}`));
            else {
              try {
                resolve(JSON.parse(text));
              } catch (e) {
                reject(e);
              }
            }
          });
        })
        .on('error', reject);
    });
  }

  /** Stops scheduler, agents and master, kills anything they left running, removes temp dirs. */
  async stop(): Promise<void> {
    const before = descendantPids(process.pid);
    this.scheduler.close();
    for (const a of this.agents) await Promise.resolve(a.stop()).catch(() => undefined);
    await Promise.resolve(this.master.stop()).catch(() => undefined);
    killAll([...new Set([...before, ...descendantPids(process.pid)])]);
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}
