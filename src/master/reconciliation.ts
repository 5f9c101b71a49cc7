// Task reconciliation (TSK-05): what the master answers for implicit and explicit RECONCILE calls.
import type { Msg } from './allocator/allocator.js';
import type { Framework, TaskRecord } from './records.js';
import { masterStatus } from './task-states.js';

export interface ReconcileView {
  nowSeconds: number;
  isRegistered(agentId: string): boolean;
  /** Unreachable agents with the time (seconds) they became unreachable. */
  unreachableSince(agentId: string): number | undefined;
  isGone(agentId: string): boolean;
  /** Agents known from the registry that have not re-registered since a failover. */
  isRecovered(agentId: string): boolean;
  anyRecovered(): boolean;
}

function latestStatus(view: ReconcileView, t: TaskRecord): Msg {
  const last = t.statuses[t.statuses.length - 1];
  return masterStatus({
    taskId: t.id,
    state: t.statusUpdateState ?? t.state,
    reason: 'REASON_RECONCILIATION',
    message: 'Reconciliation: Latest task state',
    agentId: t.agentId,
    executorId: t.executorId,
    nowSeconds: view.nowSeconds,
    unreachableTime: t.unreachableTime,
    healthy: last?.healthy,
    checkStatus: last?.check_status,
    containerStatus: last?.container_status,
  });
}

/** Implicit reconciliation: the latest state of every task the master knows for the framework. */
export function reconcileImplicit(view: ReconcileView, fw: Framework): Msg[] {
  const out: Msg[] = [];
  for (const t of fw.tasks.values()) out.push(latestStatus(view, t));
  for (const t of fw.unreachableTasks.values()) out.push(latestStatus(view, t));
  return out;
}

/** Explicit reconciliation: one answer per listed task, or none while its agent may still come back. */
export function reconcileExplicit(view: ReconcileView, fw: Framework, requests: Msg[]): Msg[] {
  const out: Msg[] = [];
  const pa = fw.partitionAware;
  for (const req of requests) {
    const taskId: string | undefined = req.task_id?.value;
    if (taskId === undefined) continue;
    const agentId: string | undefined = req.agent_id?.value;
    const known = fw.tasks.get(taskId) ?? fw.unreachableTasks.get(taskId);
    if (known && (agentId === undefined || agentId === known.agentId)) {
      out.push(latestStatus(view, known));
      continue;
    }
    if (agentId !== undefined ? view.isRecovered(agentId) : view.anyRecovered()) continue;
    const base = { taskId, reason: 'REASON_RECONCILIATION', agentId, nowSeconds: view.nowSeconds };
    if (agentId !== undefined && view.isRegistered(agentId)) {
      out.push(masterStatus({ ...base, state: pa ? 'TASK_GONE' : 'TASK_LOST', message: 'Reconciliation: Task is unknown to the agent' }));
    } else if (agentId !== undefined && view.unreachableSince(agentId) !== undefined) {
      out.push(masterStatus({
        ...base,
        state: pa ? 'TASK_UNREACHABLE' : 'TASK_LOST',
        message: 'Reconciliation: Task is unreachable',
        unreachableTime: view.unreachableSince(agentId),
      }));
    } else if (agentId !== undefined && view.isGone(agentId)) {
      out.push(masterStatus({ ...base, state: pa ? 'TASK_GONE_BY_OPERATOR' : 'TASK_LOST', message: 'Reconciliation: Task is gone' }));
    } else {
      out.push(masterStatus({ ...base, state: pa ? 'TASK_UNKNOWN' : 'TASK_LOST', message: 'Reconciliation: Task is unknown' }));
    }
  }
  return out;
}
