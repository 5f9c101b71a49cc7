// Legacy JSON views (spec 5.1): /state, /state-summary, /frameworks, /slaves, /tasks. Resources are
// flattened with Resources.toLegacyJson, times are float seconds, capabilities enum-name arrays.
import { toJson } from '../../protocol/codec.js';
import { Resources, attributesToLegacyJson } from '../../resources/index.js';
import type { Msg } from '../allocator/allocator.js';
import { MASTER_CAPABILITIES, MESOS_VERSION } from '../constants.js';
import type { Master } from '../master.js';
import type { Agent, Framework, OfferRecord, TaskRecord } from '../records.js';
import { TASK_STATES } from '../task-states.js';
import { BUILD } from './build.js';

const secs = (ms: number | undefined): number => (ms ?? 0) / 1000;

function labelsJson(labels: Msg | undefined): Msg[] | undefined {
  const list = labels?.labels as Msg[] | undefined;
  return list ? list.map((l) => (l.value === undefined ? { key: l.key } : { key: l.key, value: l.value })) : undefined;
}

function statusJson(s: Msg): Msg {
  const out: Msg = { state: s.state, timestamp: s.timestamp ?? 0 };
  const labels = labelsJson(s.labels);
  if (labels) out.labels = labels;
  if (s.container_status) out.container_status = toJson('mesos.v1.ContainerStatus', s.container_status);
  if (s.healthy !== undefined) out.healthy = s.healthy;
  return out;
}

export function taskJson(t: TaskRecord): Msg {
  const info = t.info;
  const out: Msg = {
    id: t.id,
    name: info.name ?? '',
    framework_id: t.frameworkId,
    executor_id: t.executorId ?? '',
    slave_id: t.agentId,
    state: t.state,
    resources: t.resources.toLegacyJson(),
  };
  if (info.limits && Object.keys(info.limits).length > 0) {
    const limits: Msg = {};
    for (const [k, v] of Object.entries(info.limits as Msg)) limits[k] = (v as Msg).value;
    out.limits = limits;
  }
  out.role = t.role;
  out.statuses = t.statuses.map(statusJson);
  if (t.user !== undefined) out.user = t.user;
  const labels = labelsJson(info.labels);
  if (labels) out.labels = labels;
  if (info.discovery) out.discovery = toJson('mesos.v1.DiscoveryInfo', info.discovery);
  if (info.container) out.container = toJson('mesos.v1.ContainerInfo', info.container);
  if (info.health_check) out.health_check = toJson('mesos.v1.HealthCheck', info.health_check);
  return out;
}

function executorJson(e: Msg, agentId: string): Msg {
  const out: Msg = {
    executor_id: e.executor_id?.value ?? '',
    name: e.name ?? '',
    framework_id: e.framework_id?.value ?? '',
    command: e.command ? toJson('mesos.v1.CommandInfo', e.command) : {},
    resources: Resources.fromProto(e.resources ?? []).toLegacyJson(),
  };
  const labels = labelsJson(e.labels);
  if (labels) out.labels = labels;
  if (e.type !== undefined) out.type = e.type;
  out.slave_id = agentId;
  return out;
}

function offerJson(o: OfferRecord): Msg {
  return {
    id: o.id,
    framework_id: o.frameworkId,
    allocation_info: { role: o.role },
    slave_id: o.agentId,
    resources: o.resources.toLegacyJson(),
  };
}

function capabilityNames(info: Msg): string[] {
  return ((info.capabilities ?? []) as Msg[]).map((c) => String(c.type));
}

function offered(master: Master, ids: Iterable<string>): Resources {
  let r = Resources.empty();
  for (const id of ids) {
    const o = master.offer(id);
    if (o) r = r.plus(o.resources);
  }
  return r;
}

function countStates(tasks: Iterable<TaskRecord>, counts: Record<string, number>): void {
  for (const t of tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
}

function stateCounts(fwTasks: Array<Iterable<TaskRecord>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of TASK_STATES) counts[s] = 0;
  for (const tasks of fwTasks) countStates(tasks, counts);
  return counts;
}

/** The leading fields of a framework, shared by /state and /state-summary. */
function frameworkHeadJson(fw: Framework, used: Resources, offeredRes: Resources): Msg {
  const out: Msg = { id: fw.id, name: fw.name };
  if (fw.pid !== undefined) out.pid = fw.pid;
  out.used_resources = used.toLegacyJson();
  out.offered_resources = offeredRes.toLegacyJson();
  out.capabilities = capabilityNames(fw.info);
  out.hostname = fw.info.hostname ?? '';
  out.webui_url = fw.info.webui_url ?? '';
  out.active = fw.active;
  out.connected = fw.connected;
  out.recovered = fw.recovered;
  return out;
}

export function frameworkJson(master: Master, fw: Framework): Msg {
  const used = fw.totalUsed();
  const offeredRes = offered(master, fw.offers);
  const out = frameworkHeadJson(fw, used, offeredRes);
  out.user = fw.info.user ?? '';
  out.failover_timeout = fw.info.failover_timeout ?? 0;
  out.checkpoint = fw.info.checkpoint ?? false;
  out.registered_time = secs(fw.registeredTime);
  out.unregistered_time = secs(fw.unregisteredTime);
  if (fw.info.principal !== undefined) out.principal = fw.info.principal;
  out.resources = used.plus(offeredRes).toLegacyJson();
  if (fw.reregisteredTime !== undefined) out.reregistered_time = secs(fw.reregisteredTime);
  if (fw.hasCapability('MULTI_ROLE')) out.roles = fw.info.roles ?? [];
  else out.role = fw.info.role ?? '*';
  out.tasks = [...fw.tasks.values()].map(taskJson);
  out.unreachable_tasks = [...fw.unreachableTasks.values()].map(taskJson);
  out.completed_tasks = fw.completedTasks.map(taskJson);
  out.offers = [...fw.offers].map((id) => master.offer(id)).filter((o): o is OfferRecord => !!o).map(offerJson);
  const executors: Msg[] = [];
  for (const [agentId, execs] of fw.executors) for (const e of execs.values()) executors.push(executorJson(e, agentId));
  out.executors = executors;
  const labels = labelsJson(fw.info.labels);
  if (labels) out.labels = labels;
  out.offer_constraints = fw.offerConstraints ? toJson('mesos.v1.scheduler.OfferConstraints', fw.offerConstraints) : {};
  return out;
}

/** The identity fields shared by registered and recovered agents. */
function agentIdentityJson(id: string, hostname: string, info: Msg): Msg {
  const out: Msg = { id, hostname, port: info.port ?? 5051, attributes: attributesToLegacyJson(info.attributes ?? []) };
  if (info.domain) out.domain = toJson('mesos.v1.DomainInfo', info.domain);
  return out;
}

const recoveredJson = (info: Msg): Msg => agentIdentityJson(info.id?.value ?? '', info.hostname ?? '', info);

export function agentJson(master: Master, a: Agent, full = false): Msg {
  const out = agentIdentityJson(a.id, a.hostname, a.info);
  out.pid = a.pid;
  out.registered_time = secs(a.registeredTime);
  if (a.reregisteredTime !== undefined) out.reregistered_time = secs(a.reregisteredTime);
  const used = a.totalUsed();
  const offeredRes = offered(master, a.offers);
  out.resources = a.total.toLegacyJson();
  out.used_resources = used.toLegacyJson();
  out.offered_resources = offeredRes.toLegacyJson();
  out.reserved_resources = a.total.legacyReservedByRole();
  out.unreserved_resources = a.total.unreserved().toLegacyJson();
  out.active = a.active;
  out.deactivated = a.deactivated;
  out.version = a.version;
  out.capabilities = [...a.capabilities];
  if (a.drainInfo) out.drain_info = toJson('mesos.v1.DrainInfo', a.drainInfo);
  if (full) {
    const reserved: Msg = {};
    for (const [role, r] of a.total.reservations()) reserved[role] = r.toProto({ endpoint: true });
    out.reserved_resources_full = reserved;
    out.unreserved_resources_full = a.total.unreserved().toProto({ endpoint: true });
    out.used_resources_full = used.toProto({ endpoint: true });
    out.offered_resources_full = offeredRes.toProto({ endpoint: true });
  }
  return out;
}

export function stateJson(master: Master): Msg {
  const agents = [...master.agents];
  const out: Msg = {
    version: MESOS_VERSION,
    build_date: BUILD.date,
    build_time: BUILD.time,
    build_user: BUILD.user,
    start_time: secs(master.startTime),
  };
  if (master.electedTime !== undefined) out.elected_time = secs(master.electedTime);
  Object.assign(out, {
    id: master.id,
    pid: master.info.pid,
    hostname: master.info.hostname,
    capabilities: MASTER_CAPABILITIES,
    activated_slaves: agents.filter((a) => a.active).length,
    deactivated_slaves: agents.filter((a) => !a.active).length,
    unreachable_slaves: master.unreachableAgents.size,
  });
  const leader = master.leaderInfo;
  if (leader) {
    out.leader = leader.pid;
    out.leader_info = toJson('mesos.v1.MasterInfo', leader);
  }
  if (master.flagValues.cluster !== undefined) out.cluster = master.flagValues.cluster;
  if (master.flagValues.log_dir !== undefined) out.log_dir = master.flagValues.log_dir;
  if (master.flagValues.external_log_file !== undefined) out.external_log_file = master.flagValues.external_log_file;
  out.flags = master.flagValues;
  out.slaves = agents.map((a) => agentJson(master, a));
  out.recovered_slaves = master.recoveredAgents.map(recoveredJson);
  out.frameworks = [...master.frameworks].map((f) => frameworkJson(master, f));
  out.completed_frameworks = master.completedFrameworks.map((f) => frameworkJson(master, f));
  out.orphan_tasks = [];
  out.unregistered_frameworks = [];
  return out;
}

export function stateSummaryJson(master: Master): Msg {
  const frameworks = [...master.frameworks];
  const agents = [...master.agents];
  const out: Msg = { hostname: master.info.hostname };
  if (master.flagValues.cluster !== undefined) out.cluster = master.flagValues.cluster;
  // Completed and unreachable tasks grouped by agent in one pass, not once per agent.
  const inactiveByAgent = new Map<string, TaskRecord[]>();
  for (const fw of frameworks) {
    for (const list of [fw.completedTasks, fw.unreachableTasks.values()]) {
      for (const t of list) {
        const group = inactiveByAgent.get(t.agentId);
        if (group) group.push(t);
        else inactiveByAgent.set(t.agentId, [t]);
      }
    }
  }
  out.slaves = agents.map((a) => {
    const j = agentJson(master, a);
    Object.assign(j, stateCounts([a.allTasks(), inactiveByAgent.get(a.id) ?? []]));
    j.framework_ids = frameworks.filter((f) => a.tasks.has(f.id) || a.executors.has(f.id)).map((f) => f.id);
    return j;
  });
  out.frameworks = frameworks.map((fw) => {
    const j = frameworkHeadJson(fw, fw.totalUsed(), offered(master, fw.offers));
    Object.assign(j, stateCounts([fw.tasks.values(), fw.unreachableTasks.values(), fw.completedTasks]));
    j.slave_ids = [...new Set([...fw.tasks.values()].map((t) => t.agentId).concat([...fw.executors.keys()]))];
    return j;
  });
  return out;
}

export function frameworksJson(master: Master, frameworkId?: string): Msg {
  const keep = (f: Framework) => frameworkId === undefined || f.id === frameworkId;
  return {
    frameworks: [...master.frameworks].filter(keep).map((f) => frameworkJson(master, f)),
    completed_frameworks: master.completedFrameworks.filter(keep).map((f) => frameworkJson(master, f)),
    unregistered_frameworks: [],
  };
}

export function slavesJson(master: Master, agentId?: string): Msg {
  return {
    slaves: [...master.agents].filter((a) => agentId === undefined || a.id === agentId).map((a) => agentJson(master, a, true)),
    recovered_slaves: master.recoveredAgents.map(recoveredJson),
  };
}

export interface TasksQuery {
  frameworkId?: string;
  taskId?: string;
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
}

/** Parses /tasks query parameters; returns an error text for a 400. */
export function parseTasksQuery(q: URLSearchParams): TasksQuery | string {
  const num = (name: string, def: number): number | string => {
    const v = q.get(name);
    if (v === null) return def;
    if (!/^\d+$/.test(v.trim())) return `Failed to parse ${name}: '${v}' is not a non-negative integer`;
    return Number(v);
  };
  const limit = num('limit', 100);
  if (typeof limit === 'string') return limit;
  const offset = num('offset', 0);
  if (typeof offset === 'string') return offset;
  const order = q.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') return `Failed to parse order: '${order}'. Must be 'asc' or 'desc'`;
  return { frameworkId: q.get('framework_id') ?? undefined, taskId: q.get('task_id') ?? undefined, limit, offset, order };
}

export function tasksJson(master: Master, query: TasksQuery): Msg {
  const all: TaskRecord[] = [];
  for (const fw of [...master.frameworks, ...master.completedFrameworks]) {
    if (query.frameworkId !== undefined && fw.id !== query.frameworkId) continue;
    all.push(...fw.tasks.values(), ...fw.unreachableTasks.values(), ...fw.completedTasks);
  }
  const filtered = query.taskId === undefined ? all : all.filter((t) => t.id === query.taskId);
  const stamp = (t: TaskRecord) => Number(t.statuses[0]?.timestamp ?? 0);
  filtered.sort((a, b) => (query.order === 'asc' ? stamp(a) - stamp(b) : stamp(b) - stamp(a)));
  return { tasks: filtered.slice(query.offset, query.offset + query.limit).map(taskJson) };
}
