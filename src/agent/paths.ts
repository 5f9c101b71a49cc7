// The agent's work_dir layout (AGT-04): sandboxes under slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>.
import { mkdirSync, symlinkSync, lstatSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export function agentDir(workDir: string, agentId: string): string {
  return join(workDir, 'slaves', agentId);
}

export function frameworkDir(workDir: string, agentId: string, frameworkId: string): string {
  return join(agentDir(workDir, agentId), 'frameworks', frameworkId);
}

export function executorDir(workDir: string, agentId: string, frameworkId: string, executorId: string): string {
  return join(frameworkDir(workDir, agentId, frameworkId), 'executors', executorId);
}

export function executorRunDir(workDir: string, agentId: string, frameworkId: string, executorId: string, containerId: string): string {
  return join(executorDir(workDir, agentId, frameworkId, executorId), 'runs', containerId);
}

export function latestRunLink(workDir: string, agentId: string, frameworkId: string, executorId: string): string {
  return join(executorDir(workDir, agentId, frameworkId, executorId), 'runs', 'latest');
}

/** The virtual path under which /files serves an executor's latest sandbox. */
export function latestRunVirtualPath(frameworkId: string, executorId: string): string {
  return `/frameworks/${frameworkId}/executors/${executorId}/runs/latest`;
}

/** Creates the run directory and points runs/latest at it; returns the sandbox path. */
export function createExecutorSandbox(workDir: string, agentId: string, frameworkId: string, executorId: string, containerId: string): string {
  const dir = executorRunDir(workDir, agentId, frameworkId, executorId, containerId);
  mkdirSync(dir, { recursive: true });
  const link = latestRunLink(workDir, agentId, frameworkId, executorId);
  try {
    lstatSync(link);
    unlinkSync(link);
  } catch {
    // no previous run
  }
  // A relative target keeps the link valid if the work_dir is moved.
  symlinkSync(containerId, link);
  return dir;
}
