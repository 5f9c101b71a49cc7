// Many lightweight agents in one process for failover benchmarks: each is a libprocess actor
// (`slave(N)`) on one shared HTTP server that speaks the agent side of registration
// (RegisterSlaveMessage, ReregisterSlaveMessage with its tasks, PongSlaveMessage) and runs nothing.
// Registration retries follow the agent's randomised exponential backoff on the Clock.
import { type Clock, SystemClock, type TimerHandle } from '../../src/common/clock.js';
import { HttpServer } from '../../src/common/http/server.js';
import { uuidBytes } from '../../src/common/ids.js';
import { Resources } from '../../src/resources/index.js';
import { encodeProto } from '../../src/protocol/codec.js';
import { type Actor, Libprocess } from '../../src/transport/libprocess.js';
import { formatUpid } from '../../src/transport/upid.js';
import { AGENT_CAPABILITIES, AGENT_VERSION } from '../../src/agent/agent.js';
import type { Msg } from '../../src/agent/types.js';

const M = (name: string) => `mesos.internal.${name}`;
const MAX_BACKOFF_MS = 60_000;

export interface EmulatorOptions {
  count: number;
  /** Tasks each agent reports when it re-registers (spread over the frameworks). */
  tasksPerAgent: number;
  /** FrameworkInfos (with ids) the reported tasks belong to. */
  frameworks: Msg[];
  /** --registration_backoff_factor in ms. */
  backoffMs: number;
  clock?: Clock;
}

const TOTAL = Resources.parse('cpus:16;mem:65536;disk:65536;ports:[31000-32000]', '*').toProto();
const TASK_RESOURCES = Resources.parse('cpus:0.1;mem:32', '*')
  .toProto()
  .map((r) => ({ ...r, allocation_info: { role: '*' } }));

class EmulatedAgent {
  id?: string;
  running = false;
  private retry?: TimerHandle;
  private readonly resourceVersion = uuidBytes();
  /** The ReregisterSlaveMessage, encoded once: the emulator must not be what a failover waits for. */
  private reregisterBody?: Buffer;

  constructor(
    private readonly owner: AgentEmulator,
    readonly actor: Actor,
    readonly index: number,
  ) {
    actor.install(M('SlaveRegisteredMessage'), (_from, m) => this.registered(m, false));
    actor.install(M('SlaveReregisteredMessage'), (_from, m) => this.registered(m, true));
    actor.install(M('PingSlaveMessage'), (from) => actor.send(formatUpid(from), M('PongSlaveMessage'), {}));
  }

  private get info(): Msg {
    const info: Msg = { hostname: `bench-agent-${this.index}`, port: this.owner.port, resources: TOTAL };
    if (this.id) info.id = { value: this.id };
    return info;
  }

  /** A new leader (or none): register again, after a random part of the backoff factor. */
  masterChanged(): void {
    this.running = false;
    this.owner.clock.clearTimeout(this.retry);
    this.retry = undefined;
    if (!this.owner.master) return;
    const factor = this.owner.options.backoffMs;
    this.retry = this.owner.clock.setTimeout(() => this.attempt(factor * 2), factor * Math.random());
  }

  private common(): Msg {
    return { version: AGENT_VERSION, agent_capabilities: AGENT_CAPABILITIES, resource_version_uuid: { value: this.resourceVersion } };
  }

  private reregistration(id: string): Msg {
    return { slave: this.info, ...this.owner.report(id, this.index), ...this.common() };
  }

  private attempt(bound: number): void {
    this.retry = undefined;
    const master = this.owner.master;
    if (this.running || !master) return;
    if (!this.id) this.actor.send(master, M('RegisterSlaveMessage'), { slave: this.info, ...this.common() });
    else {
      this.owner.reregistrationsSent++;
      this.actor.sendRaw(master, M('ReregisterSlaveMessage'), (this.reregisterBody ??= encodeProto(M('ReregisterSlaveMessage'), this.reregistration(this.id))));
    }
    const next = Math.min(bound, MAX_BACKOFF_MS);
    this.retry = this.owner.clock.setTimeout(() => this.attempt(next * 2), Math.max(1, next * Math.random()));
  }

  private registered(m: Msg, again: boolean): void {
    if (this.running) return;
    this.id = m.slave_id?.value;
    this.running = true;
    // Ready before any failover (same message every time: same tasks, same resource version).
    if (!again && this.id) this.reregisterBody = encodeProto(M('ReregisterSlaveMessage'), this.reregistration(this.id));
    this.owner.clock.clearTimeout(this.retry);
    this.retry = undefined;
    this.owner.counted(again);
  }

  stop(): void {
    this.owner.clock.clearTimeout(this.retry);
  }
}

export class AgentEmulator {
  readonly clock: Clock;
  master?: string;
  registered = 0;
  reregistered = 0;
  /** ReregisterSlaveMessages sent (retries included). */
  reregistrationsSent = 0;
  private agents: EmulatedAgent[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly options: EmulatorOptions,
    private readonly server: HttpServer,
    private readonly lp: Libprocess,
    readonly port: number,
  ) {
    this.clock = options.clock ?? new SystemClock();
  }

  static async start(options: EmulatorOptions): Promise<AgentEmulator> {
    const server = new HttpServer({ host: '127.0.0.1', port: 0 });
    const lp = new Libprocess(server, { ip: '127.0.0.1', port: 0, clock: options.clock });
    const port = await server.listen();
    lp.setAddress('127.0.0.1', port);
    const emulator = new AgentEmulator(options, server, lp, port);
    for (let i = 1; i <= options.count; i++) emulator.agents.push(new EmulatedAgent(emulator, lp.spawn(`slave(${i})`), i));
    return emulator;
  }

  /** What agent `index` reports on re-registration: its tasks (running) and their frameworks. */
  report(agentId: string, index: number): { tasks: Msg[]; frameworks: Msg[]; executor_infos: Msg[] } {
    const fws = this.options.frameworks;
    const tasks: Msg[] = [];
    const used = new Map<string, Msg>();
    for (let t = 0; t < this.options.tasksPerAgent; t++) {
      const fw = fws[(index + t) % fws.length]!;
      used.set(fw.id.value, fw);
      tasks.push({
        name: `task-${index}-${t}`,
        task_id: { value: `task-${index}-${t}` },
        framework_id: fw.id,
        agent_id: { value: agentId },
        statuses: [],
        state: 'TASK_RUNNING',
        resources: TASK_RESOURCES,
      });
    }
    return { tasks, frameworks: [...used.values()], executor_infos: [] };
  }

  /** Every agent drops its master and (re-)registers with `pid` (undefined: wait). */
  newMasterDetected(pid: string | undefined): void {
    this.master = pid;
    for (const a of this.agents) a.masterChanged();
  }

  /** Forget registrations seen so far (before a failover). */
  resetCounts(): void {
    this.registered = 0;
    this.reregistered = 0;
    this.reregistrationsSent = 0;
  }

  counted(again: boolean): void {
    if (again) this.reregistered++;
    else this.registered++;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `pred` holds (checked after each registration). */
  until(pred: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (pred() ? resolve() : this.waiters.push(check));
      check();
    });
  }

  get count(): number {
    return this.agents.length;
  }

  async close(): Promise<void> {
    for (const a of this.agents) a.stop();
    this.lp.close();
    await this.server.close();
  }
}
