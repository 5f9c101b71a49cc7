// Validation of what a framework sends: FrameworkInfo on SUBSCRIBE/UPDATE_FRAMEWORK, the offers of an
// ACCEPT, and each task of a LAUNCH (TSK-03 step 1). Errors are Mesos's messages.
import { validateIdValue } from '../../common/ids.js';
import { Resources, validateRole } from '../../resources/index.js';
import { validateCheckInfo, validateHealthCheck } from '../../executor/checks/validation.js';
import type { Msg } from '../allocator/allocator.js';
import type { Agent, Framework, OfferRecord } from '../records.js';
import { frameworkRoles } from '../records.js';

export function validateFrameworkInfo(info: Msg, suppressedRoles: readonly string[], whitelist?: Set<string>): string | undefined {
  const caps = ((info.capabilities ?? []) as Msg[]).map((c) => c.type);
  const multiRole = caps.includes('MULTI_ROLE');
  if (multiRole) {
    if (info.role !== undefined) return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
    const seen = new Set<string>();
    for (const role of (info.roles ?? []) as string[]) {
      if (seen.has(role)) return "'FrameworkInfo.roles' contains duplicate items";
      seen.add(role);
      const err = validateRole(role);
      if (err) return `'FrameworkInfo.roles' contains invalid role: ${err}`;
    }
  } else {
    if (Array.isArray(info.roles) && info.roles.length > 0) {
      return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
    }
    if (info.role !== undefined) {
      const err = validateRole(String(info.role));
      if (err) return `'FrameworkInfo.role' is not a valid role: ${err}`;
    }
  }
  if (info.id !== undefined) {
    const err = validateIdValue('FrameworkID', info.id?.value);
    if (err) return `'FrameworkInfo.id' is invalid: ${err}`;
  }
  const roles = new Set(frameworkRoles(info));
  if (whitelist) {
    for (const role of roles) {
      if (role !== '*' && !whitelist.has(role)) return `Role '${role}' is not present in the master's --roles`;
    }
  }
  for (const role of suppressedRoles) {
    if (!roles.has(role)) return `Suppressed role '${role}' is not contained in the list of roles`;
  }
  return undefined;
}

/** Fields a running framework may not change (SCH-26). */
export function validateFrameworkUpdate(old: Msg, next: Msg): string | undefined {
  if ((old.principal ?? undefined) !== (next.principal ?? undefined)) return "Changing framework's principal is not allowed.";
  if ((old.user ?? '') !== (next.user ?? '')) return "Updating 'FrameworkInfo.user' is unsupported";
  if ((old.checkpoint ?? false) !== (next.checkpoint ?? false)) return "Updating 'FrameworkInfo.checkpoint' is unsupported";
  return undefined;
}

export interface OfferLookup {
  offer(id: string): OfferRecord | undefined;
  agent(id: string): Agent | undefined;
}

/** ACCEPT/DECLINE offer checks (SCH-12): exist, unique, this framework's, one agent, one role. */
export function validateOffers(lookup: OfferLookup, framework: Framework, offerIds: readonly string[]): string | undefined {
  if (offerIds.length === 0) return 'No offers specified';
  const seen = new Set<string>();
  for (const id of offerIds) {
    if (seen.has(id)) return `Duplicate offer ${id} in offer list`;
    seen.add(id);
  }
  let first: OfferRecord | undefined;
  for (const id of offerIds) {
    const offer = lookup.offer(id);
    if (!offer) return `Offer ${id} is no longer valid`;
    if (offer.frameworkId !== framework.id) {
      return `Offer ${id} has invalid framework ${offer.frameworkId} while framework ${framework.id} is expected`;
    }
    const agent = lookup.agent(offer.agentId);
    if (!agent) return `Offer ${id} outlived agent ${offer.agentId}`;
    if (!agent.connected) return `Offer ${id} outlived disconnected agent ${offer.agentId}`;
    if (first) {
      if (offer.agentId !== first.agentId) {
        return `Aggregated offers must belong to one single agent. Offer ${id} uses agent ${offer.agentId} and offer ${first.id} uses agent ${first.agentId}`;
      }
      if (offer.role !== first.role) {
        return `Aggregated offers must be allocated to the same role. Offer ${id} uses role ${offer.role} and offer ${first.id} uses role ${first.role}`;
      }
    } else {
      first = offer;
    }
  }
  return undefined;
}

/** Stable JSON (sorted keys, Buffers as base64) for comparing proto-shaped objects. */
export function canonicalJson(v: unknown): string {
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('base64'));
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v as object).filter((k) => (v as Msg)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Msg)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Parses resources and stamps the offer's allocation role on entries the framework left unallocated. */
export function allocatedResources(list: Msg[] | undefined, role: string): Resources {
  const r = Resources.fromProto(list ?? []);
  const unallocated = r.filter((e) => e.allocation_info === undefined);
  if (unallocated.isEmpty()) return r;
  return r.filter((e) => e.allocation_info !== undefined).plus(unallocated.allocate(role));
}

export interface TaskCheck {
  /** Resources the task (plus a new executor) consumes from the offer. */
  consumed: Resources;
  taskResources: Resources;
  executorResources: Resources;
  /** The executor must be launched with this task. */
  newExecutor: boolean;
}

/**
 * Validates one TaskInfo of a LAUNCH against the framework, the agent of the offers and the
 * resources still available in them. Returns an error message or what the task consumes.
 */
export function validateTask(
  task: Msg,
  framework: Framework,
  agent: Agent,
  available: Resources,
  role: string,
  pendingExecutors: Map<string, Msg>,
): string | TaskCheck {
  const taskId = task.task_id?.value;
  const idErr = validateIdValue('TaskID', taskId);
  if (idErr) return `Task ID is invalid: ${idErr}`;
  if (framework.tasks.has(taskId) || framework.unreachableTasks.has(taskId)) return `Task has duplicate ID: ${taskId}`;
  if (task.agent_id?.value !== agent.id) {
    return `Task uses invalid agent: ${task.agent_id?.value ?? ''} while agent ${agent.id} is expected`;
  }
  const hasExecutor = task.executor !== undefined;
  const hasCommand = task.command !== undefined;
  if (hasExecutor === hasCommand) return 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present';

  let taskResources: Resources;
  try {
    taskResources = allocatedResources(task.resources, role);
  } catch (e) {
    return `Task uses invalid resources: ${(e as Error).message}`;
  }
  if (taskResources.isEmpty()) return 'Task uses no resources';

  const revocable = taskResources.revocable();
  if (!revocable.isEmpty() && !taskResources.nonRevocable().isEmpty()) return 'Task mixes revocable and non-revocable resources';

  if (task.limits !== undefined && Object.keys(task.limits).length > 0) {
    if (!agent.capabilities.includes('TASK_RESOURCE_LIMITS')) return 'Task has resource limits but the agent does not support TASK_RESOURCE_LIMITS';
    for (const [name, v] of Object.entries(task.limits as Msg)) {
      if (name !== 'cpus' && name !== 'mem') return `Resource limits are only supported for cpus and mem, not '${name}'`;
      const limit = Number((v as Msg)?.value);
      if (Number.isNaN(limit)) return `Invalid ${name} limit`;
      const request = taskResources.scalar(name);
      if (limit < request) return `The ${name} limit ${limit} is smaller than the ${name} request ${request}`;
    }
  }

  const grace = task.kill_policy?.grace_period?.nanoseconds;
  if (typeof grace === 'number' && grace < 0) return "Task's 'kill_policy.grace_period' must be non-negative";

  if (task.health_check !== undefined) {
    const err = validateHealthCheck(task.health_check);
    if (err) return `Task uses invalid health check: ${err}`;
  }
  if (task.check !== undefined) {
    const err = validateCheckInfo(task.check);
    if (err) return `Task uses invalid check: ${err}`;
  }

  let executorResources = Resources.empty();
  let newExecutor = false;
  if (hasExecutor) {
    const executor = task.executor as Msg;
    const execId = executor.executor_id?.value;
    const execErr = validateIdValue('ExecutorID', execId);
    if (execErr) return `Executor ID is invalid: ${execErr}`;
    if (executor.framework_id !== undefined && executor.framework_id.value !== framework.id) {
      return `ExecutorInfo has an invalid FrameworkID (Actual: ${executor.framework_id.value} vs Expected: ${framework.id})`;
    }
    if (executor.command === undefined && executor.type !== 'DEFAULT') {
      return "ExecutorInfo must have 'command' set for a CUSTOM executor";
    }
    try {
      executorResources = allocatedResources(executor.resources, role);
    } catch (e) {
      return `Executor uses invalid resources: ${(e as Error).message}`;
    }
    const existing = agent.executors.get(framework.id)?.get(execId) ?? pendingExecutors.get(execId);
    if (existing) {
      // Same ExecutorInfo: equal fields, and equal resources whatever their format or allocation.
      const strip = (e: Msg) => canonicalJson({ ...e, framework_id: { value: framework.id }, resources: undefined });
      let sameResources = false;
      try {
        sameResources = Resources.fromProto(existing.resources ?? []).unallocate().equals(executorResources.unallocate());
      } catch {
        sameResources = false;
      }
      if (!sameResources || strip(existing) !== strip(executor)) {
        return `ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID ${execId}`;
      }
    } else {
      newExecutor = true;
    }
  }
  const consumed = newExecutor ? taskResources.plus(executorResources) : taskResources;
  if (!available.contains(consumed)) {
    return `Task uses more resources ${consumed.toString()} than available ${available.toString()}`;
  }
  return { consumed, taskResources, executorResources, newExecutor };
}
