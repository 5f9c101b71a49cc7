// /metrics/snapshot (LEG-G01): the master/* counters and gauges that apply, plus the allocator's.
import { Resources } from '../../resources/index.js';
import type { Master } from '../master.js';
import type { Framework } from '../records.js';
import { TASK_STATES, isTerminalState } from '../task-states.js';

/** Counters that always exist (Mesos publishes them from start, at zero). */
const COUNTERS = [
  'master/messages_register_slave', 'master/messages_reregister_slave', 'master/messages_unregister_slave',
  'master/messages_status_update', 'master/messages_exited_executor', 'master/messages_executor_to_framework',
  'master/messages_framework_to_executor', 'master/messages_kill_task', 'master/messages_status_update_acknowledgement',
  'master/messages_launch_tasks', 'master/messages_decline_offers', 'master/messages_revive_offers',
  'master/messages_suppress_offers', 'master/messages_reconcile_tasks', 'master/messages_register_framework',
  'master/messages_reregister_framework', 'master/messages_unregister_framework', 'master/messages_deactivate_framework',
  'master/messages_resource_request', 'master/messages_authenticate', 'master/messages_update_slave',
  'master/valid_status_updates', 'master/invalid_status_updates',
  'master/valid_status_update_acknowledgements', 'master/invalid_status_update_acknowledgements',
  'master/valid_framework_to_executor_messages', 'master/invalid_framework_to_executor_messages',
  'master/valid_executor_to_framework_messages', 'master/invalid_executor_to_framework_messages',
  'master/tasks_finished', 'master/tasks_failed', 'master/tasks_killed', 'master/tasks_lost', 'master/tasks_error',
  'master/tasks_dropped', 'master/tasks_gone', 'master/tasks_gone_by_operator',
  'master/slave_registrations', 'master/slave_reregistrations', 'master/slave_removals',
  'master/slave_removals/reason_unhealthy', 'master/slave_removals/reason_unregistered',
  'master/slave_removals/reason_registered', 'master/slave_unreachable_scheduled', 'master/slave_unreachable_completed',
  'master/slave_unreachable_canceled', 'master/recovery_slave_removals', 'master/dropped_messages',
];

export function metricsSnapshot(master: Master): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of COUNTERS) out[k] = 0;
  for (const [k, v] of master.counters) out[k] = v;

  const now = master.clock.now();
  out['master/uptime_secs'] = (now - master.startTime) / 1000;
  out['master/elected'] = master.leading ? 1 : 0;

  const agents = [...master.agents];
  out['master/slaves_active'] = agents.filter((a) => a.active).length;
  out['master/slaves_inactive'] = agents.filter((a) => !a.active).length;
  out['master/slaves_connected'] = agents.filter((a) => a.connected).length;
  out['master/slaves_disconnected'] = agents.filter((a) => !a.connected).length;
  out['master/slaves_unreachable'] = master.unreachableAgents.size;

  const frameworks = [...master.frameworks];
  out['master/frameworks_active'] = frameworks.filter((f) => f.active).length;
  out['master/frameworks_inactive'] = frameworks.filter((f) => !f.active).length;
  out['master/frameworks_connected'] = frameworks.filter((f) => f.connected).length;
  out['master/frameworks_disconnected'] = frameworks.filter((f) => !f.connected).length;

  const gauges: Record<string, number> = { TASK_STAGING: 0, TASK_STARTING: 0, TASK_RUNNING: 0, TASK_KILLING: 0, TASK_UNREACHABLE: 0 };
  for (const f of frameworks) {
    for (const t of f.tasks.values()) if (t.state in gauges) gauges[t.state]!++;
    for (const t of f.unreachableTasks.values()) if (t.state === 'TASK_UNREACHABLE') gauges.TASK_UNREACHABLE!++;
  }
  for (const [state, n] of Object.entries(gauges)) out[`master/tasks_${state.slice(5).toLowerCase()}`] = n;

  let total = Resources.empty();
  let used = Resources.empty();
  for (const a of agents) {
    if (!a.active) continue;
    total = total.plus(a.total);
    used = used.plus(a.totalUsed());
  }
  for (const name of ['cpus', 'mem', 'disk', 'gpus']) {
    const t = total.nonRevocable().scalar(name);
    const u = used.nonRevocable().scalar(name);
    out[`master/${name}_total`] = t;
    out[`master/${name}_used`] = u;
    out[`master/${name}_percent`] = t > 0 ? u / t : 0;
    const rt = total.revocable().scalar(name);
    const ru = used.revocable().scalar(name);
    out[`master/${name}_revocable_total`] = rt;
    out[`master/${name}_revocable_used`] = ru;
    out[`master/${name}_revocable_percent`] = rt > 0 ? ru / rt : 0;
  }

  out['master/outstanding_offers'] = [...master.offers].length;
  out['master/event_queue_messages'] = 0;
  out['master/event_queue_dispatches'] = 0;
  out['master/event_queue_http_requests'] = 0;
  out['master/operator_event_stream_subscribers'] = 0;
  if (master.flagValues.publish_per_framework_metrics !== 'false') {
    for (const fw of frameworks) frameworkMetrics(fw, out);
  }
  for (const [k, v] of Object.entries(master.allocatorMetrics())) out[k] = v;
  for (const [k, v] of Object.entries(master.registryMetrics())) out[k] = v;
  return out;
}

/** `master/frameworks/<name>/<id>/...` (Mesos's per-framework metrics). */
function frameworkMetrics(fw: Framework, out: Record<string, number>): void {
  const prefix = `master/frameworks/${encodeURIComponent(fw.name)}/${fw.id}/`;
  out[`${prefix}subscribed`] = fw.connected ? 1 : 0;
  for (const k of ['calls', 'events', 'offers/sent', 'offers/accepted', 'offers/declined', 'offers/rescinded']) out[prefix + k] = 0;
  for (const [k, v] of fw.counters) out[prefix + k] = v;
  const active: Record<string, number> = {};
  const terminal: Record<string, number> = {};
  for (const s of TASK_STATES) (isTerminalState(s) ? terminal : active)[s] = 0;
  for (const t of fw.tasks.values()) (isTerminalState(t.state) ? terminal : active)[t.state]!++;
  for (const t of fw.unreachableTasks.values()) active[t.state] = (active[t.state] ?? 0) + 1;
  for (const t of fw.completedTasks) terminal[t.state] = (terminal[t.state] ?? 0) + 1;
  for (const [s, n] of Object.entries(active)) out[`${prefix}tasks/active/${s.toLowerCase()}`] = n;
  for (const [s, n] of Object.entries(terminal)) out[`${prefix}tasks/terminal/${s.toLowerCase()}`] = n;
  for (const role of fw.roles()) out[`${prefix}roles/${role}/suppressed`] = fw.suppressedRoles.has(role) ? 1 : 0;
}
