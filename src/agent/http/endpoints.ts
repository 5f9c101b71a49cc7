// The agent's plain endpoints: /state, /flags, /health, /version, /metrics/snapshot,
// /monitor/statistics (LEG-A01..A03, LEG-G01, LEG-G02).
import type { ServerResponse } from 'node:http';
import os from 'node:os';
import { sendJson, type HttpRequest, type HttpServer } from '../../common/http/server.js';
import { Resources } from '../../resources/index.js';
import type { Agent } from '../agent.js';
import { AGENT_VERSION } from '../agent.js';
import type { Containerizer } from '../containerizer/index.js';
import { isTerminalState, type Msg } from '../types.js';
import type { Executor } from '../state.js';
import { allocatedResources, BUILD_INFO, executorAllocated, stateJson } from './state-json.js';

const READ_METHODS = ['GET', 'HEAD'];

function ok(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

export function installEndpoints(server: HttpServer, agent: Agent, flags: Record<string, string>, containerizer: Containerizer): void {
  const json = (value: () => unknown) => (req: HttpRequest, res: ServerResponse) => sendJson(res, 200, value(), req);
  server.route('/state', json(() => stateJson(agent, flags)), READ_METHODS);
  server.route('/state.json', json(() => stateJson(agent, flags)), READ_METHODS);
  server.route('/flags', json(() => ({ flags })), READ_METHODS);
  server.route('/health', (_req, res) => ok(res), READ_METHODS);
  server.route('/version', json(() => ({ version: AGENT_VERSION, ...BUILD_INFO })), READ_METHODS);
  server.route('/metrics/snapshot', json(() => agentMetrics(agent)), READ_METHODS);
  // Statistics come from the containerizer's isolators (cgroups or /proc), read per request.
  const later = (value: (req: HttpRequest) => Promise<unknown>) => (req: HttpRequest, res: ServerResponse) =>
    void value(req).then((v) => sendJson(res, 200, v, req), (e: Error) => sendJson(res, 500, { error: e.message }, req));
  server.route('/monitor/statistics', later(() => monitorStatistics(agent, containerizer)), READ_METHODS);
  server.route('/monitor/statistics.json', later(() => monitorStatistics(agent, containerizer)), READ_METHODS);
  server.route('/containers', later((req) => containersJson(agent, containerizer, req.query)), READ_METHODS);
}

const TASK_GAUGES = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING'];
const TASK_COUNTERS = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR'];

export function agentMetrics(agent: Agent): Record<string, number> {
  const m: Record<string, number> = {};
  const now = agent.clock.now();
  m['slave/uptime_secs'] = (now - agent.startTime) / 1000;
  m['slave/registered'] = agent.registered ? 1 : 0;
  m['slave/recovery_errors'] = agent.counters.recoveryErrors;
  m['slave/container_launch_errors'] = 0;

  const current = new Map<string, number>(TASK_GAUGES.map((s) => [s, 0]));
  const executors = { REGISTERING: 0, RUNNING: 0, TERMINATING: 0 };
  let frameworks = 0;
  for (const fw of agent.frameworks) {
    frameworks++;
    for (const ex of fw.executors.values()) {
      if (ex.phase !== 'TERMINATED') executors[ex.phase]++;
      current.set('TASK_STAGING', current.get('TASK_STAGING')! + ex.queuedTasks.size);
      for (const t of ex.launchedTasks.values()) {
        if (!isTerminalState(t.state) && current.has(t.state)) current.set(t.state, current.get(t.state)! + 1);
      }
    }
  }
  for (const s of TASK_GAUGES) m[`slave/tasks_${s.slice(5).toLowerCase()}`] = current.get(s)!;
  for (const s of TASK_COUNTERS) m[`slave/tasks_${s.slice(5).toLowerCase()}`] = agent.counters.terminalTasks.get(s) ?? 0;
  m['slave/frameworks_active'] = frameworks;
  m['slave/executors_registering'] = executors.REGISTERING;
  m['slave/executors_running'] = executors.RUNNING;
  m['slave/executors_terminating'] = executors.TERMINATING;
  m['slave/executors_terminated'] = agent.counters.executorsTerminated;
  m['slave/executors_preempted'] = 0;
  m['slave/valid_status_updates'] = agent.counters.validStatusUpdates;
  m['slave/invalid_status_updates'] = agent.counters.invalidStatusUpdates;
  m['slave/valid_framework_messages'] = agent.counters.validFrameworkMessages;
  m['slave/invalid_framework_messages'] = agent.counters.invalidFrameworkMessages;

  // libprocess's system metrics, present on every Mesos daemon.
  const [l1, l5, l15] = os.loadavg();
  m['system/cpus_total'] = os.cpus().length;
  m['system/load_1min'] = l1!;
  m['system/load_5min'] = l5!;
  m['system/load_15min'] = l15!;
  m['system/mem_total_bytes'] = os.totalmem();
  m['system/mem_free_bytes'] = os.freemem();
  m['containerizer/mesos/container_destroy_errors'] = 0;

  m['gc/path_removals_succeeded'] = agent.gc.removalsSucceeded;
  m['gc/path_removals_failed'] = agent.gc.removalsFailed;
  m['gc/path_removals_pending'] = agent.gc.pending;

  let total: Resources;
  try {
    total = Resources.fromProto(agent.info.resources ?? []);
  } catch {
    total = Resources.empty();
  }
  const used = allocatedResources(agent);
  for (const name of ['cpus', 'gpus', 'mem', 'disk']) {
    const t = total.nonRevocable().scalar(name);
    const u = used.nonRevocable().scalar(name);
    m[`slave/${name}_total`] = t;
    m[`slave/${name}_used`] = u;
    m[`slave/${name}_percent`] = t > 0 ? u / t : 0;
    const rt = total.revocable().scalar(name);
    const ru = used.revocable().scalar(name);
    m[`slave/${name}_revocable_total`] = rt;
    m[`slave/${name}_revocable_used`] = ru;
    m[`slave/${name}_revocable_percent`] = rt > 0 ? ru / rt : 0;
  }
  return m;
}

interface ContainerView {
  frameworkId: string;
  executor: Executor;
  statistics: Msg;
}

async function containerViews(agent: Agent, containerizer: Containerizer): Promise<ContainerView[]> {
  const out: ContainerView[] = [];
  const now = agent.clock.now() / 1000;
  for (const fw of agent.frameworks) {
    for (const ex of fw.executors.values()) {
      if (ex.phase === 'TERMINATED') continue;
      const limits = executorAllocated(ex);
      const statistics: Msg = {
        timestamp: now,
        cpus_limit: limits.scalar('cpus'),
        mem_limit_bytes: Math.round(limits.scalar('mem') * 1024 * 1024),
      };
      out.push({ frameworkId: fw.id, executor: ex, statistics });
    }
  }
  // AGT-08: the isolators' ResourceStatistics (a container that just ended has none).
  await Promise.all(
    out.map(async (v) => {
      const usage = await containerizer.usage(v.executor.containerId).catch(() => undefined);
      if (!usage) return;
      const { timestamp: _timestamp, ...fields } = usage;
      Object.assign(v.statistics, fields);
    }),
  );
  return out;
}

/** LEG-A03: one entry per live executor. */
export async function monitorStatistics(agent: Agent, containerizer: Containerizer): Promise<Msg[]> {
  return (await containerViews(agent, containerizer)).map((v) => ({
    executor_id: v.executor.id,
    executor_name: v.executor.info.name ?? '',
    framework_id: v.frameworkId,
    source: v.executor.info.source ?? '',
    statistics: v.statistics,
  }));
}

/** LEG-A04: like /monitor/statistics, plus container ids and status, filtered by the query. */
export async function containersJson(agent: Agent, containerizer: Containerizer, query: URLSearchParams): Promise<Msg[]> {
  const byContainer = query.get('container_id');
  const byFramework = query.get('framework_id');
  const byExecutor = query.get('executor_id');
  return (await containerViews(agent, containerizer))
    .filter((v) => (!byContainer || v.executor.containerId === byContainer) && (!byFramework || v.frameworkId === byFramework) && (!byExecutor || v.executor.id === byExecutor))
    .map((v) => {
      const status: Msg = { container_id: { value: v.executor.containerId } };
      const pid = containerizer.pid(v.executor.containerId);
      if (pid !== undefined) status.executor_pid = pid;
      return {
        framework_id: v.frameworkId,
        executor_id: v.executor.id,
        executor_name: v.executor.info.name ?? '',
        source: v.executor.info.source ?? '',
        container_id: v.executor.containerId,
        status,
        statistics: v.statistics,
      };
    });
}
