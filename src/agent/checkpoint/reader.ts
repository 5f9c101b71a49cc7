// Reads the FT-05 checkpoints back. Problems are collected, not thrown: with --strict the caller
// refuses to start, otherwise it logs them and recovers what could be read.
import fs from 'node:fs';
import type { Msg } from '../../protocol/codec.js';
import { listDir, parseRecords, readMessage, readText } from './io.js';
import * as P from './paths.js';
import { AGENT_INFO, EXECUTOR_INFO, FRAMEWORK_INFO, STATUS_UPDATE_RECORD, TASK } from './writer.js';

export interface TaskState {
  id: string;
  /** The checkpointed v1 Task (absent if the agent died before writing it). */
  info?: Msg;
  /** Every accepted StatusUpdate, oldest first. */
  updates: Msg[];
  /** Uuids (hex) acknowledged by the master. */
  acks: Set<string>;
  /** Bytes of a torn trailing record that were cut off. */
  tornBytes: number;
}

export interface RunState {
  containerId: string;
  forkedPid?: number;
  libprocessPid?: string;
  http: boolean;
  completed: boolean;
  tasks: TaskState[];
}

export interface ExecutorState {
  id: string;
  info: Msg;
  latest?: RunState;
}

export interface FrameworkState {
  id: string;
  info: Msg;
  pid?: string;
  executors: ExecutorState[];
}

export interface AgentState {
  id: string;
  info: Msg;
  frameworks: FrameworkState[];
}

export interface CheckpointState {
  bootId?: string;
  agent?: AgentState;
  errors: string[];
}

const hex = (b: unknown) => (b instanceof Uint8Array ? Buffer.from(b).toString('hex') : '');

/** Replays task.updates: UPDATE records in order, ACKs by uuid. Cuts a torn tail off the file. */
export function readTaskUpdates(file: string): { updates: Msg[]; acks: Set<string>; tornBytes: number } {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return { updates: [], acks: new Set(), tornBytes: 0 };
  }
  const { records, tornBytes, validLength } = parseRecords(STATUS_UPDATE_RECORD, data);
  // Later appends must not land behind half a record.
  if (tornBytes > 0) fs.truncateSync(file, validLength);
  const updates: Msg[] = [];
  const acks = new Set<string>();
  for (const r of records) {
    if (r.type === 'UPDATE' && r.update) updates.push(r.update);
    else if (r.type === 'ACK') acks.add(hex(r.uuid));
  }
  return { updates, acks, tornBytes };
}

/** Updates of a task not yet acknowledged, oldest first. */
export function pendingUpdates(t: Pick<TaskState, 'updates' | 'acks'>): Msg[] {
  return t.updates.filter((u) => !t.acks.has(hex(u.uuid)));
}

function readRun(dir: string, containerId: string, errors: string[]): RunState {
  const pidText = readText(P.forkedPidPath(dir))?.trim();
  const run: RunState = {
    containerId,
    http: fs.existsSync(P.httpMarkerPath(dir)),
    completed: fs.existsSync(P.sentinelPath(dir)),
    tasks: [],
  };
  if (pidText && /^\d+$/.test(pidText)) run.forkedPid = Number(pidText);
  const upid = readText(P.libprocessPidPath(dir))?.trim();
  if (upid) run.libprocessPid = upid;
  for (const taskId of listDir(P.tasksMetaDir(dir))) {
    const t: TaskState = { id: taskId, updates: [], acks: new Set(), tornBytes: 0 };
    const infoFile = P.taskInfoPath(dir, taskId);
    if (fs.existsSync(infoFile)) {
      try {
        t.info = readMessage(infoFile, TASK);
      } catch (e) {
        errors.push(`Failed to read task ${taskId}: ${(e as Error).message}`);
      }
    }
    try {
      Object.assign(t, readTaskUpdates(P.taskUpdatesPath(dir, taskId)));
    } catch (e) {
      errors.push(`Failed to replay the status updates of task ${taskId}: ${(e as Error).message}`);
    }
    run.tasks.push(t);
  }
  return run;
}

/** Everything under <work_dir>/meta for the latest agent. */
export function readCheckpoints(workDir: string): CheckpointState {
  const errors: string[] = [];
  const state: CheckpointState = { errors };
  const bootId = readText(P.bootIdPath(workDir))?.trim();
  if (bootId) state.bootId = bootId;
  let agentId: string;
  try {
    agentId = fs.readlinkSync(P.latestAgentLink(workDir)).replace(/\/+$/, '').split('/').pop()!;
  } catch {
    return state; // never registered: nothing to recover
  }
  let info: Msg;
  try {
    info = readMessage(P.agentInfoPath(workDir, agentId), AGENT_INFO);
  } catch (e) {
    errors.push(`Failed to read the agent info of ${agentId}: ${(e as Error).message}`);
    return state;
  }
  const agent: AgentState = { id: agentId, info, frameworks: [] };
  state.agent = agent;
  for (const fwId of listDir(P.frameworksMetaDir(workDir, agentId))) {
    let fwInfo: Msg;
    try {
      fwInfo = readMessage(P.frameworkInfoPath(workDir, agentId, fwId), FRAMEWORK_INFO);
    } catch (e) {
      errors.push(`Failed to read framework ${fwId}: ${(e as Error).message}`);
      continue;
    }
    const fw: FrameworkState = { id: fwId, info: fwInfo, executors: [] };
    const pid = readText(P.frameworkPidPath(workDir, agentId, fwId))?.trim();
    if (pid) fw.pid = pid;
    for (const exId of listDir(P.executorsMetaDir(workDir, agentId, fwId))) {
      let exInfo: Msg;
      try {
        exInfo = readMessage(P.executorInfoPath(workDir, agentId, fwId, exId), EXECUTOR_INFO);
      } catch (e) {
        errors.push(`Failed to read executor ${exId} of framework ${fwId}: ${(e as Error).message}`);
        continue;
      }
      const ex: ExecutorState = { id: exId, info: exInfo };
      let cid: string | undefined;
      try {
        cid = fs.readlinkSync(P.latestRunMetaLink(workDir, agentId, fwId, exId)).replace(/\/+$/, '').split('/').pop();
      } catch {
        // no run recorded
      }
      if (cid) ex.latest = readRun(P.runMetaDir(workDir, agentId, fwId, exId, cid), cid, errors);
      fw.executors.push(ex);
    }
    agent.frameworks.push(fw);
  }
  return state;
}
