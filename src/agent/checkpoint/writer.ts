// Writes the FT-05 checkpoints. Only the Agent calls it, and only for frameworks with
// checkpoint=true. `.info` files are replaced atomically; task.updates is an fsync'ed append log.
import fs from 'node:fs';
import type { Msg } from '../../protocol/codec.js';
import { appendDurably, frameRecord, pointLink, writeFileAtomic, writeMessageAtomic } from './io.js';
import * as P from './paths.js';

export const AGENT_INFO = 'mesos.v1.AgentInfo';
export const FRAMEWORK_INFO = 'mesos.v1.FrameworkInfo';
export const EXECUTOR_INFO = 'mesos.v1.ExecutorInfo';
export const TASK = 'mesos.v1.Task';
export const STATUS_UPDATE_RECORD = 'mesos.internal.StatusUpdateRecord';

/** Where one executor run's checkpoints live. */
export interface RunRef {
  agentId: string;
  frameworkId: string;
  executorId: string;
  containerId: string;
}

export class Checkpointer {
  constructor(readonly workDir: string) {}

  bootId(id: string): void {
    writeFileAtomic(P.bootIdPath(this.workDir), id);
  }

  /** slave.info, and slaves/latest pointing at this agent's directory. */
  agent(info: Msg): void {
    const id = info.id?.value as string;
    writeMessageAtomic(P.agentInfoPath(this.workDir, id), AGENT_INFO, info);
    pointLink(P.latestAgentLink(this.workDir), id);
  }

  framework(agentId: string, info: Msg, pid: string | undefined): void {
    const id = info.id?.value as string;
    writeMessageAtomic(P.frameworkInfoPath(this.workDir, agentId, id), FRAMEWORK_INFO, info);
    if (pid !== undefined) writeFileAtomic(P.frameworkPidPath(this.workDir, agentId, id), pid);
  }

  /** executor.info and a fresh run directory that runs/latest points at. */
  executor(run: RunRef, info: Msg): void {
    writeMessageAtomic(P.executorInfoPath(this.workDir, run.agentId, run.frameworkId, run.executorId), EXECUTOR_INFO, info);
    fs.mkdirSync(this.runDir(run), { recursive: true });
    pointLink(P.latestRunMetaLink(this.workDir, run.agentId, run.frameworkId, run.executorId), run.containerId);
  }

  forkedPid(run: RunRef, pid: number): void {
    writeFileAtomic(P.forkedPidPath(this.runDir(run)), String(pid));
  }

  libprocessPid(run: RunRef, upid: string): void {
    writeFileAtomic(P.libprocessPidPath(this.runDir(run)), upid);
  }

  /** The executor speaks the v1 HTTP API (it re-subscribes instead of being reconnected). */
  httpMarker(run: RunRef): void {
    writeFileAtomic(P.httpMarkerPath(this.runDir(run)), '');
  }

  /** The run is over: recovery skips it. */
  executorCompleted(run: RunRef): void {
    writeFileAtomic(P.sentinelPath(this.runDir(run)), '');
  }

  task(run: RunRef, task: Msg): void {
    writeMessageAtomic(P.taskInfoPath(this.runDir(run), task.task_id?.value as string), TASK, task);
  }

  /** An accepted update, durable before anyone acknowledges it to the executor. */
  update(run: RunRef, taskId: string, update: Msg): void {
    const { latest_state: _latest, ...plain } = update;
    appendDurably(P.taskUpdatesPath(this.runDir(run), taskId), frameRecord(STATUS_UPDATE_RECORD, { type: 'UPDATE', update: plain }));
  }

  ack(run: RunRef, taskId: string, uuid: Buffer): void {
    appendDurably(P.taskUpdatesPath(this.runDir(run), taskId), frameRecord(STATUS_UPDATE_RECORD, { type: 'ACK', uuid }));
  }

  runDir(run: RunRef): string {
    return P.runMetaDir(this.workDir, run.agentId, run.frameworkId, run.executorId, run.containerId);
  }
}
