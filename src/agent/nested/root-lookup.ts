// Which executor container a top-level ContainerID names, read from the agent's bookkeeping.
import type { Agent } from '../agent.js';
import type { RootLookup } from './containers.js';

export function agentRootLookup(agent: Agent): RootLookup {
  return (containerId) => {
    for (const fw of agent.frameworks) {
      for (const ex of fw.executors.values()) {
        if (ex.containerId !== containerId || ex.phase === 'TERMINATED' || ex.phase === 'TERMINATING') continue;
        const user = agent.config.switchUser ? ((ex.info.command?.user as string | undefined) ?? (fw.info.user as string | undefined)) : undefined;
        return { sandbox: ex.directory, frameworkId: fw.id, executorId: ex.id, executorName: String(ex.info.name ?? ''), ...(user ? { user } : {}) };
      }
    }
    return undefined;
  };
}
