// Driver-based schedulers (WIRE-02): the libprocess side of the scheduler API. Calls arrive as
// `mesos.scheduler.Call` (or the pre-Call legacy messages) on the `master` actor; events leave as
// the v0 messages a MesosSchedulerDriver understands.
import { logger } from '../common/log.js';
import type { Msg } from './allocator/allocator.js';
import { applyCall, validateCall } from './calls.js';
import { HTTP_FRAMEWORK_PID } from './constants.js';
import type { Master } from './master.js';
import type { EventSink, Framework } from './records.js';

const log = logger('master');
const I = (name: string) => `mesos.internal.${name}`;

export const DRIVER_CALL = 'mesos.scheduler.Call';

export interface DriverTransport {
  send(to: string, name: string, msg: Msg): void;
}

/** A driver's "subscription": v1 events are translated into v0 messages sent to its pid. */
export class DriverSink implements EventSink {
  readonly streamId: string;
  private frameworkId?: string;

  constructor(
    readonly pid: string,
    /** Registered with an id: SUBSCRIBED becomes FrameworkReregisteredMessage. */
    private readonly reregister: boolean,
    private readonly transport: DriverTransport,
    private readonly agentPid: (agentId: string) => string | undefined,
  ) {
    this.streamId = `pid:${pid}`;
  }

  private out(name: string, msg: Msg): void {
    this.transport.send(this.pid, I(name), msg);
  }

  send(event: Msg): void {
    switch (event.type) {
      case 'SUBSCRIBED': {
        const s = event.subscribed;
        this.frameworkId = s.framework_id.value;
        this.out(this.reregister ? 'FrameworkReregisteredMessage' : 'FrameworkRegisteredMessage', {
          framework_id: s.framework_id,
          master_info: s.master_info,
        });
        return;
      }
      case 'OFFERS': {
        const offers: Msg[] = event.offers.offers ?? [];
        this.out('ResourceOffersMessage', { offers, pids: offers.map((o) => this.agentPid(o.agent_id.value) ?? '') });
        return;
      }
      case 'RESCIND':
        this.out('RescindResourceOfferMessage', { offer_id: event.rescind.offer_id });
        return;
      case 'UPDATE': {
        const status: Msg = event.update.status;
        const update: Msg = { framework_id: { value: this.frameworkId }, status, timestamp: status.timestamp ?? Date.now() / 1000 };
        if (status.executor_id) update.executor_id = status.executor_id;
        if (status.agent_id) update.slave_id = status.agent_id;
        if (status.uuid !== undefined) update.uuid = status.uuid;
        // Only updates with a uuid are acknowledged; the driver tells them apart by the pid.
        const pid = status.uuid !== undefined && status.agent_id ? this.agentPid(status.agent_id.value) ?? HTTP_FRAMEWORK_PID : HTTP_FRAMEWORK_PID;
        this.out('StatusUpdateMessage', { update, pid });
        return;
      }
      case 'MESSAGE': {
        const m = event.message;
        this.out('ExecutorToFrameworkMessage', { slave_id: m.agent_id, framework_id: { value: this.frameworkId }, executor_id: m.executor_id, data: m.data });
        return;
      }
      case 'FAILURE': {
        const f = event.failure;
        if (f.executor_id) {
          this.out('ExitedExecutorMessage', {
            slave_id: f.agent_id, framework_id: { value: this.frameworkId }, executor_id: f.executor_id, status: f.status ?? 0,
          });
        } else {
          this.out('LostSlaveMessage', { slave_id: f.agent_id });
        }
        return;
      }
      case 'ERROR':
        this.out('FrameworkErrorMessage', { message: event.error.message });
        return;
      default:
        // HEARTBEAT and inverse offers are never sent to drivers.
        return;
    }
  }

  close(): void {
    // Nothing to close: a driver has no stream, only its own link.
  }
}

/** v0 Call -> the v1 shape the master handles (`slave_id` becomes `agent_id`; `force` is implied). */
export function evolveCall(call: Msg): Msg {
  const out: Msg = { ...call };
  const rename = (key: string) => {
    const sub = call[key];
    if (!sub) return;
    const { slave_id, ...rest } = sub;
    out[key] = slave_id === undefined ? rest : { ...rest, agent_id: slave_id };
  };
  for (const key of ['kill', 'shutdown', 'acknowledge', 'acknowledge_operation_status', 'message']) rename(key);
  if (call.reconcile) {
    out.reconcile = {
      tasks: ((call.reconcile.tasks ?? []) as Msg[]).map(({ slave_id, ...rest }) => (slave_id === undefined ? rest : { ...rest, agent_id: slave_id })),
    };
  }
  if (call.subscribe) {
    const { force: _force, ...rest } = call.subscribe;
    out.subscribe = rest;
  }
  return out;
}

export interface DriverActor {
  install(name: string, handler: (from: string, msg: Msg) => void): void;
}

/** Installs the driver-facing message handlers on the master actor. */
export function installDriverProtocol(actor: DriverActor, master: Master, transport: DriverTransport): void {
  const agentPid = (id: string) => master.agent(id)?.pid;
  const subscribe = (from: string, subscribeMsg: Msg, reregister: boolean) => {
    master.subscribe(new DriverSink(from, reregister, transport, agentPid), subscribeMsg);
  };
  /** The framework a driver message is about, if `from` is its registered pid. */
  const framework = (from: string, id: string | undefined, what: string): Framework | undefined => {
    const fw = master.framework(id);
    if (!fw) {
      log.warn(`Dropping ${what} from ${from}: framework ${id} cannot be found`);
      return undefined;
    }
    if (!fw.connection || fw.connection.pid !== from) {
      log.warn(`Dropping ${what} from ${from}: it is not the registered pid of framework ${id}`);
      return undefined;
    }
    return fw;
  };
  const apply = (from: string, call: Msg) => {
    const err = validateCall(call);
    if (err) {
      log.warn(`Dropping ${call.type ?? 'UNKNOWN'} call from ${from}: ${err}`);
      return;
    }
    if (call.type === 'SUBSCRIBE') {
      subscribe(from, call.subscribe, call.framework_id !== undefined);
      return;
    }
    const fw = framework(from, call.framework_id?.value, `${call.type} call`);
    if (!fw) return;
    const result = applyCall(master, fw, call);
    if (result.status >= 400) log.warn(`${call.type} call of framework ${fw.id} failed: ${result.body}`);
  };

  actor.install(DRIVER_CALL, (from, msg) => apply(from, evolveCall(msg)));

  // The pre-Call messages older drivers send.
  actor.install(I('RegisterFrameworkMessage'), (from, msg) => {
    master.inc('master/messages_register_framework');
    if (msg.framework?.id !== undefined) {
      transport.send(from, I('FrameworkErrorMessage'), { message: "Registering with 'id' already set" });
      return;
    }
    subscribe(from, { framework_info: msg.framework }, false);
  });
  actor.install(I('ReregisterFrameworkMessage'), (from, msg) => {
    master.inc('master/messages_reregister_framework');
    if (msg.framework?.id === undefined) {
      transport.send(from, I('FrameworkErrorMessage'), { message: "Re-registering without an 'id'" });
      return;
    }
    subscribe(from, { framework_info: msg.framework }, true);
  });
  actor.install(I('UnregisterFrameworkMessage'), (from, msg) => {
    const fw = framework(from, msg.framework_id?.value, 'UnregisterFrameworkMessage');
    if (fw) master.teardown(fw);
  });
  actor.install(I('DeactivateFrameworkMessage'), (from, msg) => {
    const fw = framework(from, msg.framework_id?.value, 'DeactivateFrameworkMessage');
    if (fw) master.deactivateFramework(fw);
  });
  actor.install(I('ResourceRequestMessage'), (from, msg) =>
    apply(from, { type: 'REQUEST', framework_id: msg.framework_id, request: { requests: msg.requests ?? [] } }),
  );
  actor.install(I('LaunchTasksMessage'), (from, msg) =>
    apply(from, {
      type: 'ACCEPT',
      framework_id: msg.framework_id,
      accept: { offer_ids: msg.offer_ids ?? [], operations: [{ type: 'LAUNCH', launch: { task_infos: msg.tasks ?? [] } }], filters: msg.filters },
    }),
  );
  actor.install(I('ReviveOffersMessage'), (from, msg) =>
    apply(from, { type: 'REVIVE', framework_id: msg.framework_id, revive: { roles: msg.roles ?? [] } }),
  );
  actor.install(I('KillTaskMessage'), (from, msg) => {
    const kill: Msg = { task_id: msg.task_id };
    if (msg.kill_policy) kill.kill_policy = msg.kill_policy;
    apply(from, { type: 'KILL', framework_id: msg.framework_id, kill });
  });
  actor.install(I('StatusUpdateAcknowledgementMessage'), (from, msg) =>
    apply(from, {
      type: 'ACKNOWLEDGE',
      framework_id: msg.framework_id,
      acknowledge: { agent_id: msg.slave_id, task_id: msg.task_id, uuid: msg.uuid },
    }),
  );
  actor.install(I('FrameworkToExecutorMessage'), (from, msg) =>
    apply(from, {
      type: 'MESSAGE',
      framework_id: msg.framework_id,
      message: { agent_id: msg.slave_id, executor_id: msg.executor_id, data: msg.data },
    }),
  );
  actor.install(I('ReconcileTasksMessage'), (from, msg) =>
    apply(from, {
      type: 'RECONCILE',
      framework_id: msg.framework_id,
      reconcile: { tasks: ((msg.statuses ?? []) as Msg[]).map((s) => (s.agent_id ? { task_id: s.task_id, agent_id: s.agent_id } : { task_id: s.task_id })) },
    }),
  );
}
