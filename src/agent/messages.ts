// Building the agent's outgoing messages and adapting the in-agent command executor to a channel.
import type { CommandExecutorSeam } from './seams.js';
import { createTask, type ExecutorChannel, type Framework } from './state.js';
import type { Msg } from './types.js';

/** A StatusUpdate (mesos.internal) around a TaskStatus; uuid and timestamp come from the status. */
export function statusUpdateOf(frameworkId: Msg, executorId: Msg | undefined, agentId: string, status: Msg): Msg {
  const update: Msg = {
    framework_id: frameworkId,
    slave_id: { value: agentId },
    status,
    timestamp: status.timestamp,
    uuid: status.uuid,
  };
  if (executorId) update.executor_id = executorId;
  return update;
}

/** What a ReregisterSlaveMessage reports besides the AgentInfo: tasks, custom executors, frameworks. */
export function reregistrationContents(frameworks: Iterable<Framework>, agentId: string): { tasks: Msg[]; executor_infos: Msg[]; frameworks: Msg[] } {
  const tasks: Msg[] = [];
  const executorInfos: Msg[] = [];
  const infos: Msg[] = [];
  for (const fw of frameworks) {
    infos.push(fw.info);
    for (const ex of fw.executors.values()) {
      for (const t of ex.launchedTasks.values()) tasks.push(t);
      for (const t of ex.terminatedTasks.values()) tasks.push(t);
      for (const ti of ex.queuedTasks.values()) tasks.push(createTask(ti, fw.info.id, agentId, 'TASK_STAGING'));
      // The master does not keep the agent-generated command executors.
      if (ex.kind === 'custom' && ex.phase !== 'TERMINATED') executorInfos.push(ex.info);
    }
  }
  return { tasks, executor_infos: executorInfos, frameworks: infos };
}

/** The command executor seen as an executor channel (it takes its one task at construction). */
export function commandChannel(ce: CommandExecutorSeam): ExecutorChannel {
  return {
    subscribed: () => {},
    launch: () => {},
    kill: (_taskId, killPolicy) => ce.kill(killPolicy),
    message: () => {},
    acknowledged: (_taskId, uuid) => ce.acknowledged(uuid),
    shutdown: () => ce.shutdown(),
    close: () => {},
  };
}
