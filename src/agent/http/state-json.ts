// The agent's /state document (LEG-A01), in the shape Mesos's agent writes it.
import { hasCapability } from '../../executor/kill-policy.js';
import { BUILD } from '../../master/http/build.js';
import { toJson } from '../../protocol/codec.js';
import { attributesToLegacyJson, Resources } from '../../resources/index.js';
import type { Agent } from '../agent.js';
import { AGENT_CAPABILITIES, AGENT_VERSION } from '../agent.js';
import type { Executor, Framework } from '../state.js';
import { idValue, type Msg } from '../types.js';

/** The build facts /version and /state report: the same ones the master reports. */
export const BUILD_INFO = {
  build_date: BUILD.date,
  build_time: BUILD.time,
  build_user: BUILD.user,
};

function resourcesOf(list: Msg[] | undefined): Resources {
  try {
    return Resources.fromProto(list ?? []);
  } catch {
    return Resources.empty();
  }
}

function roleOf(resources: Msg[] | undefined): string | undefined {
  const first = resources?.[0];
  return (first?.allocation_info?.role as string | undefined) ?? (first?.role as string | undefined);
}

function labelsJson(labels: Msg | undefined): Msg[] | undefined {
  if (!labels) return undefined;
  return ((labels.labels as Msg[] | undefined) ?? []).map((l) => (l.value === undefined ? { key: l.key } : { key: l.key, value: l.value }));
}

function statusJson(s: Msg): Msg {
  const out: Msg = { state: s.state, timestamp: s.timestamp };
  const labels = labelsJson(s.labels);
  if (labels) out.labels = labels;
  if (s.container_status) out.container_status = toJson('mesos.v1.ContainerStatus', s.container_status);
  if (s.healthy !== undefined) out.healthy = s.healthy;
  return out;
}

export function taskJson(t: Msg): Msg {
  const out: Msg = {
    id: idValue(t.task_id),
    name: t.name ?? '',
    framework_id: idValue(t.framework_id),
    executor_id: idValue(t.executor_id),
    slave_id: idValue(t.agent_id),
    state: t.state,
    resources: resourcesOf(t.resources).toLegacyJson(),
  };
  const role = roleOf(t.resources);
  if (role !== undefined) out.role = role;
  out.statuses = ((t.statuses as Msg[] | undefined) ?? []).map(statusJson);
  if (t.user !== undefined) out.user = t.user;
  const labels = labelsJson(t.labels);
  if (labels) out.labels = labels;
  if (t.discovery) out.discovery = toJson('mesos.v1.DiscoveryInfo', t.discovery);
  if (t.container) out.container = toJson('mesos.v1.ContainerInfo', t.container);
  if (t.health_check) out.health_check = toJson('mesos.v1.HealthCheck', t.health_check);
  if (t.kill_policy) out.kill_policy = toJson('mesos.v1.KillPolicy', t.kill_policy);
  return out;
}

function queuedTaskJson(t: Msg): Msg {
  const out: Msg = {
    id: idValue(t.task_id),
    name: t.name ?? '',
    slave_id: idValue(t.agent_id),
    resources: resourcesOf(t.resources).toLegacyJson(),
  };
  if (t.command) out.command = toJson('mesos.v1.CommandInfo', t.command);
  if (t.executor) out.executor_id = idValue(t.executor.executor_id);
  if (t.discovery) out.discovery = toJson('mesos.v1.DiscoveryInfo', t.discovery);
  return out;
}

/** What an executor holds: its own resources plus its tasks'. */
export function executorAllocated(ex: Executor): Resources {
  let r = resourcesOf(ex.info.resources);
  for (const t of ex.launchedTasks.values()) r = r.plus(resourcesOf(t.resources));
  for (const t of ex.queuedTasks.values()) r = r.plus(resourcesOf(t.resources));
  return r;
}

function executorJson(ex: Executor): Msg {
  const out: Msg = {
    id: ex.id,
    name: ex.info.name ?? '',
    source: ex.info.source ?? '',
    container: ex.containerId,
    directory: ex.directory,
    resources: executorAllocated(ex).toLegacyJson(),
  };
  const role = roleOf(ex.info.resources);
  if (role !== undefined) out.role = role;
  const labels = labelsJson(ex.info.labels);
  if (labels) out.labels = labels;
  if (ex.info.type !== undefined) out.type = ex.info.type;
  out.tasks = [...ex.launchedTasks.values()].map(taskJson);
  out.queued_tasks = [...ex.queuedTasks.values()].map(queuedTaskJson);
  out.completed_tasks = [...ex.completedTasks, ...ex.terminatedTasks.values()].map(taskJson);
  return out;
}

function frameworkJson(fw: Framework): Msg {
  const info = fw.info;
  const out: Msg = {
    id: fw.id,
    name: info.name ?? '',
    user: info.user ?? '',
    failover_timeout: info.failover_timeout ?? 0,
    checkpoint: info.checkpoint ?? false,
    hostname: info.hostname ?? '',
  };
  if (info.principal !== undefined) out.principal = info.principal;
  const multiRole = hasCapability(info, 'MULTI_ROLE');
  if (multiRole) out.roles = info.roles ?? [];
  else out.role = info.role ?? '*';
  out.executors = [...fw.executors.values()].map(executorJson);
  out.completed_executors = fw.completedExecutors.map(executorJson);
  return out;
}

export function allocatedResources(agent: Agent): Resources {
  let r = Resources.empty();
  for (const fw of agent.frameworks) for (const ex of fw.executors.values()) if (ex.phase !== 'TERMINATED') r = r.plus(executorAllocated(ex));
  return r;
}

function byRole(reserved: Map<string, Resources>, fn: (r: Resources) => unknown): Msg {
  const out: Msg = {};
  for (const [role, r] of reserved) out[role] = fn(r);
  return out;
}

export function stateJson(agent: Agent, flags: Record<string, string>): Msg {
  const info = agent.info;
  // With the checkpointed reservations and volumes, as Mesos's agent reports its total.
  const total = agent.totalResources;
  const allocated = allocatedResources(agent);
  const fullJson = (r: Resources) => r.toProto({ endpoint: true }).map((x) => toJson('mesos.v1.Resource', x));
  const masterIp = agent.master.slice(agent.master.indexOf('@') + 1).replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const out: Msg = {
    version: AGENT_VERSION,
    ...BUILD_INFO,
    start_time: agent.startTime / 1000,
    id: agent.agentId ?? '',
    pid: agent.pid,
    hostname: info.hostname,
    capabilities: AGENT_CAPABILITIES.map((c) => c.type),
  };
  if (info.domain) out.domain = toJson('mesos.v1.DomainInfo', info.domain);
  const drain = agent.draining;
  if (drain) {
    out.drain_config = toJson('mesos.v1.DrainConfig', drain.config);
    out.estimated_drain_start_time_seconds = Math.floor(drain.since / 1000);
  }
  Object.assign(out, {
    resources: total.toLegacyJson(),
    reserved_resources: total.legacyReservedByRole(),
    unreserved_resources: total.unreserved().toLegacyJson(),
    reserved_resources_full: byRole(total.reservations(), fullJson),
    unreserved_resources_full: fullJson(total.unreserved()),
    reserved_resources_allocated: allocated.legacyReservedByRole(),
    unreserved_resources_allocated: allocated.unreserved().toLegacyJson(),
    resource_providers: [],
    attributes: attributesToLegacyJson(info.attributes),
    master_hostname: masterIp,
  });
  if (flags.log_dir !== undefined) out.log_dir = flags.log_dir;
  if (flags.external_log_file !== undefined) out.external_log_file = flags.external_log_file;
  out.flags = flags;
  out.frameworks = [...agent.frameworks].map(frameworkJson);
  out.completed_frameworks = agent.completedFrameworks.map(frameworkJson);
  return out;
}
