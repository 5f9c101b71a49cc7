// A fake master for agent tests: a real Libprocess actor `master` on 127.0.0.1 that records every
// message it receives and lets the test answer.
import { HttpServer } from '../../src/common/http/server.js';
import { Libprocess, type Actor } from '../../src/transport/libprocess.js';
import { formatUpid, type UPID } from '../../src/transport/upid.js';
import type { Msg } from '../../src/agent/types.js';

export interface Received {
  from: UPID;
  name: string;
  msg: Msg;
}

const M = (n: string) => `mesos.internal.${n}`;

export const AGENT_TO_MASTER = [
  'RegisterSlaveMessage',
  'ReregisterSlaveMessage',
  'StatusUpdateMessage',
  'ExitedExecutorMessage',
  'ExecutorToFrameworkMessage',
  'PongSlaveMessage',
  'UnregisterSlaveMessage',
];

export class FakeMaster {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];
  agentPid?: string;
  /** When set, RegisterSlaveMessage / ReregisterSlaveMessage are answered with this id. */
  autoRegisterId?: string = 'M1-S0';

  private constructor(
    readonly server: HttpServer,
    readonly lp: Libprocess,
    readonly actor: Actor,
  ) {
    for (const name of AGENT_TO_MASTER) {
      actor.install(M(name), (from, msg) => this.onMessage(from, name, msg));
    }
  }

  static start(): Promise<FakeMaster> {
    return FakeMaster.startOn(0);
  }

  static async startOn(port: number): Promise<FakeMaster> {
    const server = new HttpServer({ host: '127.0.0.1', port, delegate: 'master' });
    const lp = new Libprocess(server, { ip: '127.0.0.1', port: 0 });
    const bound = await server.listen();
    lp.setAddress('127.0.0.1', bound);
    return new FakeMaster(server, lp, lp.spawn('master'));
  }

  get port(): number {
    return this.server.port;
  }
  get pid(): string {
    return this.actor.pid;
  }

  private onMessage(from: UPID, name: string, msg: Msg): void {
    this.received.push({ from, name, msg });
    if (name === 'RegisterSlaveMessage' || name === 'ReregisterSlaveMessage') {
      this.agentPid = formatUpid(from);
      if (this.autoRegisterId) {
        const reply = name === 'RegisterSlaveMessage' ? 'SlaveRegisteredMessage' : 'SlaveReregisteredMessage';
        this.send(reply, { slave_id: { value: this.autoRegisterId }, connection: { total_ping_timeout_seconds: 75 } });
      }
    }
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  send(name: string, msg: Msg, from: Actor = this.actor): void {
    if (!this.agentPid) throw new Error('no agent registered yet');
    from.send(this.agentPid, M(name), msg);
  }

  messages(name: string): Received[] {
    return this.received.filter((r) => r.name === name);
  }

  /** Waits until `pred` holds over the received messages (checked on every message). */
  async waitFor<T>(what: string, pred: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The n-th (0-based) status update for a task. */
  async update(taskId: string, n: number): Promise<Msg> {
    return this.waitFor(`update #${n} of ${taskId}`, () => {
      const list = this.messages('StatusUpdateMessage').filter((r) => r.msg.update.status.task_id.value === taskId);
      return list[n]?.msg;
    });
  }

  acknowledge(update: Msg): void {
    this.send('StatusUpdateAcknowledgementMessage', {
      slave_id: update.update.slave_id,
      framework_id: update.update.framework_id,
      task_id: update.update.status.task_id,
      uuid: update.update.uuid,
    });
  }

  async stop(): Promise<void> {
    this.lp.close();
    await this.server.close();
  }
}

export function frameworkInfo(id = 'fw-1', extra: Msg = {}): Msg {
  return { id: { value: id }, name: 'test-framework', user: 'root', hostname: 'localhost', failover_timeout: 0, checkpoint: false, ...extra };
}

export function commandTask(taskId: string, command: string, agentId = 'M1-S0', extra: Msg = {}): Msg {
  return {
    name: `task ${taskId}`,
    task_id: { value: taskId },
    agent_id: { value: agentId },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role: '*' } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 32 }, allocation_info: { role: '*' } },
    ],
    command: { shell: true, value: command },
    ...extra,
  };
}
