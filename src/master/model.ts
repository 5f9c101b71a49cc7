// v1 protobuf models of the master's objects, as the operator API (GET_* calls and SUBSCRIBE events)
// reports them. Resources use Mesos's endpoint format (pre-refinement fields plus `reservations`).
import { Resources } from '../resources/index.js';
import type { Msg } from './allocator/allocator.js';
import type { Master } from './master.js';
import type { Agent, Framework, TaskRecord } from './records.js';

const timeInfo = (ms: number): Msg => ({ nanoseconds: Math.round(ms * 1e6) });
const endpoint = (r: Resources): Msg[] => r.toProto({ endpoint: true });

export function taskModel(t: TaskRecord): Msg {
  const info = t.info;
  const out: Msg = {
    name: info.name ?? '',
    task_id: { value: t.id },
    framework_id: { value: t.frameworkId },
    agent_id: { value: t.agentId },
    state: t.state,
    resources: endpoint(t.resources),
    statuses: t.statuses,
  };
  if (t.executorId !== undefined) out.executor_id = { value: t.executorId };
  if (t.statusUpdateState !== undefined) out.status_update_state = t.statusUpdateState;
  if (t.statusUpdateUuid !== undefined) out.status_update_uuid = t.statusUpdateUuid;
  for (const k of ['labels', 'discovery', 'container', 'health_check', 'kill_policy', 'limits']) {
    if (info[k] !== undefined) out[k] = info[k];
  }
  if (t.user !== undefined) out.user = t.user;
  return out;
}

function offeredOf(master: Master, ids: Iterable<string>): { offers: Msg[]; resources: Resources } {
  const offers: Msg[] = [];
  let resources = Resources.empty();
  for (const id of ids) {
    const o = master.offer(id);
    if (!o) continue;
    offers.push(o.message);
    resources = resources.plus(o.resources);
  }
  return { offers, resources };
}

export function frameworkModel(master: Master, fw: Framework): Msg {
  const { offers, resources } = offeredOf(master, fw.offers);
  const out: Msg = {
    framework_info: fw.info,
    active: fw.active,
    connected: fw.connected,
    recovered: fw.recovered,
    registered_time: timeInfo(fw.registeredTime),
    offers,
    allocated_resources: endpoint(fw.totalUsed()),
    offered_resources: endpoint(resources),
  };
  if (fw.reregisteredTime !== undefined) out.reregistered_time = timeInfo(fw.reregisteredTime);
  if (fw.unregisteredTime !== undefined) out.unregistered_time = timeInfo(fw.unregisteredTime);
  if (fw.offerConstraints) out.offer_constraints = fw.offerConstraints;
  return out;
}

export function agentModel(master: Master, a: Agent): Msg {
  const out: Msg = {
    agent_info: a.info,
    active: a.active,
    deactivated: a.deactivated,
    version: a.version,
    pid: a.pid,
    registered_time: timeInfo(a.registeredTime),
    total_resources: endpoint(a.total),
    allocated_resources: endpoint(a.totalUsed()),
    offered_resources: endpoint(offeredOf(master, a.offers).resources),
    capabilities: a.capabilities.map((type) => ({ type })),
  };
  if (a.reregisteredTime !== undefined) out.reregistered_time = timeInfo(a.reregisteredTime);
  if (a.drainInfo) out.drain_info = a.drainInfo;
  return out;
}

export function getAgents(master: Master): Msg {
  return { agents: [...master.agents].map((a) => agentModel(master, a)), recovered_agents: master.recoveredAgents };
}

export function getFrameworks(master: Master): Msg {
  return {
    frameworks: [...master.frameworks].map((f) => frameworkModel(master, f)),
    completed_frameworks: master.completedFrameworks.map((f) => frameworkModel(master, f)),
  };
}

export function getExecutors(master: Master): Msg {
  const executors: Msg[] = [];
  for (const fw of master.frameworks) {
    for (const [agentId, execs] of fw.executors) {
      for (const e of execs.values()) executors.push({ executor_info: e, agent_id: { value: agentId } });
    }
  }
  return { executors };
}

export function getTasks(master: Master): Msg {
  const tasks: Msg[] = [];
  const unreachable: Msg[] = [];
  const completed: Msg[] = [];
  for (const fw of master.frameworks) {
    for (const t of fw.tasks.values()) tasks.push(taskModel(t));
    for (const t of fw.unreachableTasks.values()) unreachable.push(taskModel(t));
    for (const t of fw.completedTasks) completed.push(taskModel(t));
  }
  for (const fw of master.completedFrameworks) for (const t of fw.completedTasks) completed.push(taskModel(t));
  return { pending_tasks: [], tasks, unreachable_tasks: unreachable, completed_tasks: completed };
}

export function getState(master: Master): Msg {
  return {
    get_tasks: getTasks(master),
    get_executors: getExecutors(master),
    get_frameworks: getFrameworks(master),
    get_agents: getAgents(master),
  };
}

export interface RoleSummary {
  name: string;
  weight: number;
  frameworks: string[];
  allocated: Resources;
  offered: Resources;
  reserved: Resources;
}

/** Roles known to the master: those of frameworks, reservations and weights, by name. */
export function roleSummaries(master: Master): RoleSummary[] {
  const byRole = new Map<string, RoleSummary>();
  const role = (name: string): RoleSummary => {
    let r = byRole.get(name);
    if (!r) {
      r = { name, weight: master.weights.get(name) ?? 1, frameworks: [], allocated: Resources.empty(), offered: Resources.empty(), reserved: Resources.empty() };
      byRole.set(name, r);
    }
    return r;
  };
  for (const fw of master.frameworks) {
    for (const name of fw.roles()) role(name).frameworks.push(fw.id);
    for (const t of fw.tasks.values()) role(t.role).allocated = role(t.role).allocated.plus(t.resources);
  }
  for (const o of master.offers) role(o.role).offered = role(o.role).offered.plus(o.resources);
  for (const a of master.agents) {
    for (const [name, r] of a.total.reservations()) role(name).reserved = role(name).reserved.plus(r);
  }
  for (const name of master.weights.keys()) role(name);
  return [...byRole.values()].sort((a, b) => a.name.localeCompare(b.name));
}
