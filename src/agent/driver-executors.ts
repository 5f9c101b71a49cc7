// Driver-based executors (WIRE-04): executors built on libmesos's MesosExecutorDriver register with
// libprocess messages instead of the v1 HTTP API. They get the same treatment as HTTP executors;
// only the channel differs.
import { logger } from '../common/log.js';
import type { Actor } from '../transport/libprocess.js';
import { formatUpid, type UPID } from '../transport/upid.js';
import type { Agent } from './agent.js';
import type { ExecutorChannel, Framework } from './state.js';
import { idValue, type Msg } from './types.js';

const log = logger('agent');
const M = (name: string) => `mesos.internal.${name}`;

class DriverExecutorChannel implements ExecutorChannel {
  constructor(
    private readonly actor: Actor,
    private readonly agent: Agent,
    private readonly fw: Framework,
    private readonly executorId: Msg,
    readonly pid: string,
    /** Came back after an agent restart (ReregisterExecutorMessage). */
    private readonly reregistered = false,
  ) {}

  private send(name: string, msg: Msg): void {
    this.actor.send(this.pid, M(name), msg);
  }

  subscribed(event: Msg): void {
    if (this.reregistered) {
      this.send('ExecutorReregisteredMessage', { slave_id: { value: this.agent.agentId }, slave_info: event.agent_info });
      return;
    }
    this.send('ExecutorRegisteredMessage', {
      executor_info: event.executor_info,
      framework_id: this.fw.info.id,
      framework_info: event.framework_info,
      slave_id: { value: this.agent.agentId },
      slave_info: event.agent_info,
    });
  }
  launch(task: Msg): void {
    this.send('RunTaskMessage', { framework_id: this.fw.info.id, framework: this.fw.info, pid: this.fw.pid ?? '', task });
  }
  kill(taskId: Msg, killPolicy?: Msg): void {
    const m: Msg = { framework_id: this.fw.info.id, task_id: taskId };
    if (killPolicy) m.kill_policy = killPolicy;
    this.send('KillTaskMessage', m);
  }
  message(data: Buffer): void {
    this.send('FrameworkToExecutorMessage', { slave_id: { value: this.agent.agentId }, framework_id: this.fw.info.id, executor_id: this.executorId, data });
  }
  acknowledged(taskId: Msg, uuid: Buffer): void {
    this.send('StatusUpdateAcknowledgementMessage', { slave_id: { value: this.agent.agentId }, framework_id: this.fw.info.id, task_id: taskId, uuid });
  }
  shutdown(): void {
    this.send('ShutdownExecutorMessage', { executor_id: this.executorId, framework_id: this.fw.info.id });
  }
  close(): void {}
}

/** Installs the executor-side libprocess handlers on the agent's actor. */
export function installDriverExecutors(agent: Agent, actor: Actor): void {
  const channelOf = (from: UPID, frameworkId: string, executorId: string) => {
    const fw = agent.framework(frameworkId);
    const ex = fw?.executors.get(executorId);
    if (!fw || !ex) return undefined;
    const ch = ex.channel;
    if (!(ch instanceof DriverExecutorChannel) || ch.pid !== formatUpid(from)) return undefined;
    return { fw, ex };
  };

  actor.install(M('RegisterExecutorMessage'), (from, m) => {
    const frameworkId = idValue(m.framework_id);
    const executorId = idValue(m.executor_id);
    const fw = agent.framework(frameworkId);
    const ex = fw?.executors.get(executorId);
    if (!fw || !ex || ex.kind !== 'custom' || ex.phase === 'TERMINATING' || ex.phase === 'TERMINATED') {
      log.warn(`Shutting down executor '${executorId}' of framework ${frameworkId} registering from ${formatUpid(from)}: unknown or terminating`);
      actor.send(from, M('ShutdownExecutorMessage'), { executor_id: m.executor_id, framework_id: m.framework_id });
      return;
    }
    if (ex.phase === 'RUNNING' && ex.channel) {
      log.warn(`Shutting down executor '${executorId}': it registered a second time from ${formatUpid(from)}`);
      actor.send(from, M('ShutdownExecutorMessage'), { executor_id: m.executor_id, framework_id: m.framework_id });
      return;
    }
    agent.executorSubscribed(fw, ex, new DriverExecutorChannel(actor, agent, fw, ex.info.executor_id, formatUpid(from)));
  });

  // The answer to the ReconnectExecutorMessage a recovering agent sends (FT-05): the executor
  // comes back with the updates the old agent never acknowledged.
  actor.install(M('ReregisterExecutorMessage'), (from, m) => {
    const frameworkId = idValue(m.framework_id);
    const executorId = idValue(m.executor_id);
    const fw = agent.framework(frameworkId);
    const ex = fw?.executors.get(executorId);
    if (!fw || !ex || ex.kind !== 'custom' || ex.phase !== 'REGISTERING' || !agent.recovering) {
      log.warn(`Shutting down executor '${executorId}' of framework ${frameworkId} re-registering from ${formatUpid(from)}: not being recovered`);
      actor.send(from, M('ShutdownExecutorMessage'), { executor_id: m.executor_id, framework_id: m.framework_id });
      return;
    }
    agent.executorSubscribed(fw, ex, new DriverExecutorChannel(actor, agent, fw, ex.info.executor_id, formatUpid(from), true));
    for (const u of (m.updates as Msg[] | undefined) ?? []) {
      const status = executorStatusOf(u);
      if (status) agent.executorStatus(fw, ex, status);
    }
  });

  actor.install(M('StatusUpdateMessage'), (from, m) => {
    const update = m.update as Msg | undefined;
    const status = update?.status as Msg | undefined;
    if (!update || !status) return;
    const found = channelOf(from, idValue(update.framework_id), idValue(update.executor_id ?? status.executor_id));
    if (!found) {
      log.warn(`Dropping status update from unknown executor at ${formatUpid(from)}`);
      agent.counters.invalidStatusUpdates++;
      return;
    }
    const valid = executorStatusOf(update);
    if (!valid) {
      agent.counters.invalidStatusUpdates++;
      return;
    }
    agent.executorStatus(found.fw, found.ex, valid);
  });

  actor.install(M('ExecutorToFrameworkMessage'), (from, m) => {
    const found = channelOf(from, idValue(m.framework_id), idValue(m.executor_id));
    if (!found) {
      agent.counters.invalidFrameworkMessages++;
      return;
    }
    agent.executorMessage(found.fw, found.ex, Buffer.from(m.data ?? []));
  });
}

/**
 * The TaskStatus of a driver executor's StatusUpdate as the agent takes it (source EXECUTOR, the
 * update's 16-byte uuid), or undefined for one it must refuse (no status or uuid, TASK_STAGING).
 */
function executorStatusOf(update: Msg): Msg | undefined {
  const status = update.status as Msg | undefined;
  const uuid = update.uuid ?? status?.uuid;
  if (!status || !uuid || Buffer.from(uuid).length !== 16 || status.state === 'TASK_STAGING') return undefined;
  return { ...status, source: 'SOURCE_EXECUTOR', uuid: Buffer.from(uuid) };
}
