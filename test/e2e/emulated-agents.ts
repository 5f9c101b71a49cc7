// Emulated agents for fault-injection tests: many `slave(N)` actors in one process that speak
// just enough of the agent protocol (RegisterSlaveMessage -> SlaveRegisteredMessage) through
// src/transport to load a master with admissions.
import { HttpServer } from '../../src/common/http/server.js';
import { Libprocess, type Actor } from '../../src/transport/libprocess.js';

const REGISTER = 'mesos.internal.RegisterSlaveMessage';
const REGISTERED = 'mesos.internal.SlaveRegisteredMessage';

export class EmulatedAgents {
  private server?: HttpServer;
  private libprocess?: Libprocess;
  private readonly actors: Actor[] = [];
  /** Agent id -> the actor (`slave(N)`) it was given to, for every SlaveRegisteredMessage received. */
  readonly acknowledged = new Map<string, string>();
  private listeners: Array<() => void> = [];

  async start(count: number): Promise<void> {
    this.server = new HttpServer({ host: '127.0.0.1', port: 0, delegate: 'slave(1)' });
    this.libprocess = new Libprocess(this.server, { ip: '127.0.0.1', port: 0 });
    const port = await this.server.listen();
    this.libprocess.setAddress('127.0.0.1', port);
    for (let i = 1; i <= count; i++) {
      const actor = this.libprocess.spawn(`slave(${i})`);
      actor.install(REGISTERED, (_from, msg) => {
        const id = (msg as { slave_id?: { value?: string } }).slave_id?.value;
        if (id && !this.acknowledged.has(id)) {
          this.acknowledged.set(id, actor.id);
          for (const l of this.listeners.splice(0)) l();
        }
      });
      this.actors.push(actor);
    }
  }

  /** Every actor sends one RegisterSlaveMessage (hostnames tagged so runs can be told apart). */
  registerAll(masterPid: string, tag: string): void {
    for (const [i, actor] of this.actors.entries()) {
      actor.send(masterPid, REGISTER, {
        slave: {
          hostname: `emu-${tag}-${i}`,
          port: 5051,
          resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 128 } }],
        },
        version: '1.12.0',
      });
    }
  }

  /** Resolves once `n` acknowledgements arrived in total. */
  async waitForAcks(n: number): Promise<void> {
    while (this.acknowledged.size < n) await new Promise<void>((r) => this.listeners.push(r));
  }

  async stop(): Promise<void> {
    this.libprocess?.close();
    await this.server?.close();
  }
}
