// Agent health checks (FT-04): one `slave-observer(N)` actor per agent pings it every
// --agent_ping_timeout; --max_agent_ping_timeouts consecutive unanswered pings make it unreachable.
import type { Clock, TimerHandle } from '../common/clock.js';
import type { Msg } from './allocator/allocator.js';

/** A `slave-observer(N)` actor pinging one agent. */
export interface ObserverActor {
  readonly pid: string;
  send(to: string, name: string, msg: Msg): void;
  stop(): void;
}

export const PING = 'mesos.internal.PingSlaveMessage';
export const PONG = 'mesos.internal.PongSlaveMessage';

interface Observer {
  actor: ObserverActor;
  timer?: TimerHandle;
  pinged: boolean;
  timeouts: number;
}

export interface HealthOptions {
  clock: Clock;
  pingTimeoutMs: number;
  maxPingTimeouts: number;
  spawn(onPong: (from: string) => void): ObserverActor;
  /** Current pid and connectedness of an agent, undefined once it is gone. */
  lookup(agentId: string): { pid: string; connected: boolean } | undefined;
  /** Too many pings went unanswered. */
  onUnreachable(agentId: string): void;
  /** A pong arrived (calls off a pending, rate-limited removal). */
  onPong?(agentId: string): void;
}

export class AgentHealth {
  private readonly observers = new Map<string, Observer>();

  constructor(private readonly o: HealthOptions) {}

  /** (Re)starts pinging an agent; the first ping goes out now. */
  start(agentId: string): void {
    this.stop(agentId);
    const obs: Observer = {
      actor: this.o.spawn(() => {
        obs.pinged = false;
        obs.timeouts = 0;
        this.o.onPong?.(agentId);
      }),
      pinged: false,
      timeouts: 0,
    };
    this.observers.set(agentId, obs);
    const ping = () => {
      const agent = this.o.lookup(agentId);
      if (!agent || this.observers.get(agentId) !== obs) return;
      obs.actor.send(agent.pid, PING, { connected: agent.connected });
      obs.pinged = true;
      obs.timer = this.o.clock.setTimeout(timeout, this.o.pingTimeoutMs);
    };
    const timeout = () => {
      obs.timer = undefined;
      if (obs.pinged && ++obs.timeouts >= this.o.maxPingTimeouts) {
        this.stop(agentId);
        this.o.onUnreachable(agentId);
        return;
      }
      ping();
    };
    ping();
  }

  stop(agentId: string): void {
    const obs = this.observers.get(agentId);
    if (!obs) return;
    this.observers.delete(agentId);
    this.o.clock.clearTimeout(obs.timer);
    obs.actor.stop();
  }

  close(): void {
    for (const id of [...this.observers.keys()]) this.stop(id);
  }
}
