// The FT-05 checkpoint layout under <work_dir>/meta (Mesos's slave/paths.hpp names).
import { join } from 'node:path';

export const meta = (workDir: string) => join(workDir, 'meta');
export const bootIdPath = (workDir: string) => join(meta(workDir), 'boot_id');
export const agentsDir = (workDir: string) => join(meta(workDir), 'slaves');
export const latestAgentLink = (workDir: string) => join(agentsDir(workDir), 'latest');
export const agentMetaDir = (workDir: string, agentId: string) => join(agentsDir(workDir), agentId);
export const agentInfoPath = (workDir: string, agentId: string) => join(agentMetaDir(workDir, agentId), 'slave.info');

export const frameworksMetaDir = (workDir: string, agentId: string) => join(agentMetaDir(workDir, agentId), 'frameworks');
export const frameworkMetaDir = (workDir: string, agentId: string, fw: string) => join(frameworksMetaDir(workDir, agentId), fw);
export const frameworkInfoPath = (workDir: string, agentId: string, fw: string) => join(frameworkMetaDir(workDir, agentId, fw), 'framework.info');
export const frameworkPidPath = (workDir: string, agentId: string, fw: string) => join(frameworkMetaDir(workDir, agentId, fw), 'framework.pid');

export const executorsMetaDir = (workDir: string, agentId: string, fw: string) => join(frameworkMetaDir(workDir, agentId, fw), 'executors');
export const executorMetaDir = (workDir: string, agentId: string, fw: string, ex: string) =>
  join(executorsMetaDir(workDir, agentId, fw), ex);
export const executorInfoPath = (workDir: string, agentId: string, fw: string, ex: string) =>
  join(executorMetaDir(workDir, agentId, fw, ex), 'executor.info');
export const latestRunMetaLink = (workDir: string, agentId: string, fw: string, ex: string) =>
  join(executorMetaDir(workDir, agentId, fw, ex), 'runs', 'latest');

export const runMetaDir = (workDir: string, agentId: string, fw: string, ex: string, cid: string) =>
  join(executorMetaDir(workDir, agentId, fw, ex), 'runs', cid);
export const forkedPidPath = (run: string) => join(run, 'pids', 'forked.pid');
export const libprocessPidPath = (run: string) => join(run, 'pids', 'libprocess.pid');
export const httpMarkerPath = (run: string) => join(run, 'http.marker');
export const sentinelPath = (run: string) => join(run, 'executor.sentinel');
export const tasksMetaDir = (run: string) => join(run, 'tasks');
export const taskMetaDir = (run: string, task: string) => join(tasksMetaDir(run), task);
export const taskInfoPath = (run: string, task: string) => join(taskMetaDir(run, task), 'task.info');
export const taskUpdatesPath = (run: string, task: string) => join(taskMetaDir(run, task), 'task.updates');

// Checkpointed resources (reservations, persistent volumes), independent of the agent id.
export const resourcesDir = (workDir: string) => join(meta(workDir), 'resources');
export const resourcesInfoPath = (workDir: string) => join(resourcesDir(workDir), 'resources.info');
export const resourcesTargetPath = (workDir: string) => join(resourcesDir(workDir), 'resources.target');
export const persistentVolumePath = (workDir: string, role: string, persistenceId: string) =>
  join(workDir, 'volumes', 'roles', role, persistenceId);
