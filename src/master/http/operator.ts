// POST /api/v1 on the master (operator API, spec 4.1): the GET_* calls over the master's state,
// TEARDOWN, weights, logging level, and the SUBSCRIBE event stream.
import type { ServerResponse } from 'node:http';
import { type Handler, type HttpRequest, sendEmpty, sendText } from '../../common/http/server.js';
import { setLogLevel } from '../../common/log.js';
import { validateRole } from '../../resources/index.js';
import { encodeJson, encodeProto } from '../../protocol/codec.js';
import { EventStream } from '../../protocol/event-stream.js';
import {
  APPLICATION_RECORDIO, type Encoding, NOT_ACCEPTABLE, contentType, isMediaError, requestEncoding, responseEncoding,
} from '../../protocol/media.js';
import type { Msg } from '../allocator/allocator.js';
import { HEARTBEAT_INTERVAL_MS, MESOS_VERSION } from '../constants.js';
import type { Master } from '../master.js';
import { getAgents, getExecutors, getFrameworks, getState, getTasks, roleSummaries } from '../model.js';
import { configFromRequest, quotaStatus } from '../quota.js';
import { BUILD } from './build.js';
import type { BasicAuth } from './auth.js';
import { metricsSnapshot } from './metrics.js';
import { decodeCallBody } from '../../protocol/call-body.js';

const CALL = 'mesos.v1.master.Call';
const RESPONSE = 'mesos.v1.master.Response';
const EVENT = 'mesos.v1.master.Event';

/** Sub-message a call type must carry. */
const PAYLOAD: Record<string, string> = {
  SET_LOGGING_LEVEL: 'set_logging_level',
  LIST_FILES: 'list_files',
  READ_FILE: 'read_file',
  UPDATE_WEIGHTS: 'update_weights',
  RESERVE_RESOURCES: 'reserve_resources',
  UNRESERVE_RESOURCES: 'unreserve_resources',
  CREATE_VOLUMES: 'create_volumes',
  DESTROY_VOLUMES: 'destroy_volumes',
  GROW_VOLUME: 'grow_volume',
  SHRINK_VOLUME: 'shrink_volume',
  UPDATE_MAINTENANCE_SCHEDULE: 'update_maintenance_schedule',
  START_MAINTENANCE: 'start_maintenance',
  STOP_MAINTENANCE: 'stop_maintenance',
  UPDATE_QUOTA: 'update_quota',
  SET_QUOTA: 'set_quota',
  REMOVE_QUOTA: 'remove_quota',
  TEARDOWN: 'teardown',
  MARK_AGENT_GONE: 'mark_agent_gone',
  DRAIN_AGENT: 'drain_agent',
  DEACTIVATE_AGENT: 'deactivate_agent',
  REACTIVATE_AGENT: 'reactivate_agent',
};

function validate(call: Msg): string | undefined {
  if (call.type === undefined) return "Expecting 'type' to be present";
  const payload = PAYLOAD[call.type as string];
  if (payload && call[payload] === undefined) return `Expecting '${payload}' to be present`;
  return undefined;
}

function respond(res: ServerResponse, encoding: Encoding, response: Msg): void {
  const body = encoding === 'json' ? Buffer.from(encodeJson(RESPONSE, response)) : encodeProto(RESPONSE, response);
  res.writeHead(200, { 'Content-Type': contentType(encoding), 'Content-Length': body.length });
  res.end(body);
}

/** An operator reservation/volume call as the Offer.Operation the master applies. */
export function operatorOperation(call: Msg): { agentId: string; op: Msg } {
  switch (call.type as string) {
    case 'RESERVE_RESOURCES': {
      const c = call.reserve_resources;
      const reserve: Msg = { resources: c.resources ?? [] };
      if (c.source?.length) reserve.source = c.source;
      return { agentId: String(c.agent_id?.value ?? ''), op: { type: 'RESERVE', reserve } };
    }
    case 'UNRESERVE_RESOURCES':
      return { agentId: String(call.unreserve_resources.agent_id?.value ?? ''), op: { type: 'UNRESERVE', unreserve: { resources: call.unreserve_resources.resources ?? [] } } };
    case 'CREATE_VOLUMES':
      return { agentId: String(call.create_volumes.agent_id?.value ?? ''), op: { type: 'CREATE', create: { volumes: call.create_volumes.volumes ?? [] } } };
    default:
      return { agentId: String(call.destroy_volumes.agent_id?.value ?? ''), op: { type: 'DESTROY', destroy: { volumes: call.destroy_volumes.volumes ?? [] } } };
  }
}

function roles(master: Master): Msg[] {
  return roleSummaries(master).map((r) => ({
    name: r.name,
    weight: r.weight,
    frameworks: r.frameworks.map((value) => ({ value })),
    resources: r.allocated.toProto({ endpoint: true }),
  }));
}

export interface OperatorOptions {
  /** The --logging_level to return to after SET_LOGGING_LEVEL's duration. */
  loggingLevel: string;
  /** --authenticate_http_readwrite */
  auth?: BasicAuth;
}

export function operatorHandler(master: Master, opts: OperatorOptions): Handler {
  let logTimer: ReturnType<Master['clock']['setTimeout']> | undefined;
  let verbosity = 0;

  return async (req: HttpRequest, res: ServerResponse) => {
    if (opts.auth && !opts.auth.authenticate(req, res)) return;
    if (req.method !== 'POST') {
      sendText(res, 405, `Expecting one of { 'POST' }, but received '${req.method}'`, { Allow: 'POST' });
      return;
    }
    const encoding = requestEncoding(req.headers['content-type']);
    if (isMediaError(encoding)) {
      sendText(res, encoding.status, encoding.error);
      return;
    }
    // Streaming answers may be asked as application/recordio with Message-Accept.
    const acceptHeader = req.header('accept') ?? '';
    const recordio = acceptHeader.toLowerCase().includes(APPLICATION_RECORDIO);
    const accept = recordio ? responseEncoding(req.headers['message-accept']) : responseEncoding(req.headers.accept);
    if (accept === null) {
      sendText(res, 406, NOT_ACCEPTABLE);
      return;
    }
    const call = decodeCallBody(CALL, encoding, await req.body());
    if (typeof call === 'string') {
      sendText(res, 400, call);
      return;
    }
    const invalid = validate(call);
    if (invalid) {
      sendText(res, 400, `Failed to validate master::Call: ${invalid}`);
      return;
    }

    switch (call.type as string) {
      case 'GET_HEALTH':
        return respond(res, accept, { type: 'GET_HEALTH', get_health: { healthy: true } });
      case 'GET_FLAGS':
        return respond(res, accept, {
          type: 'GET_FLAGS',
          get_flags: { flags: Object.entries(master.flagValues).map(([name, value]) => ({ name, value })) },
        });
      case 'GET_VERSION':
        return respond(res, accept, {
          type: 'GET_VERSION',
          get_version: { version_info: { version: MESOS_VERSION, build_date: BUILD.date, build_time: BUILD.time, build_user: BUILD.user } },
        });
      case 'GET_METRICS':
        return respond(res, accept, {
          type: 'GET_METRICS',
          get_metrics: { metrics: Object.entries(metricsSnapshot(master)).map(([name, value]) => ({ name, value })) },
        });
      case 'GET_LOGGING_LEVEL':
        return respond(res, accept, { type: 'GET_LOGGING_LEVEL', get_logging_level: { level: verbosity } });
      case 'SET_LOGGING_LEVEL': {
        const { level, duration } = call.set_logging_level;
        verbosity = Number(level);
        setLogLevel(verbosity > 0 ? 'DEBUG' : opts.loggingLevel);
        master.clock.clearTimeout(logTimer);
        logTimer = master.clock.setTimeout(() => {
          verbosity = 0;
          setLogLevel(opts.loggingLevel);
        }, Number(duration?.nanoseconds ?? 0) / 1e6);
        return sendEmpty(res);
      }
      case 'GET_STATE':
        return respond(res, accept, { type: 'GET_STATE', get_state: getState(master) });
      case 'GET_AGENTS':
        return respond(res, accept, { type: 'GET_AGENTS', get_agents: getAgents(master) });
      case 'GET_FRAMEWORKS':
        return respond(res, accept, { type: 'GET_FRAMEWORKS', get_frameworks: getFrameworks(master) });
      case 'GET_EXECUTORS':
        return respond(res, accept, { type: 'GET_EXECUTORS', get_executors: getExecutors(master) });
      case 'GET_TASKS':
        return respond(res, accept, { type: 'GET_TASKS', get_tasks: getTasks(master) });
      case 'GET_OPERATIONS':
        return respond(res, accept, { type: 'GET_OPERATIONS', get_operations: {} });
      case 'GET_ROLES':
        return respond(res, accept, { type: 'GET_ROLES', get_roles: { roles: roles(master) } });
      case 'GET_WEIGHTS':
        return respond(res, accept, {
          type: 'GET_WEIGHTS',
          get_weights: { weight_infos: [...master.weights].map(([role, weight]) => ({ role, weight })) },
        });
      case 'UPDATE_WEIGHTS': {
        const infos: Msg[] = call.update_weights.weight_infos ?? [];
        for (const w of infos) {
          const err = w.role === undefined ? 'Weight role must be set' : validateRole(String(w.role));
          if (err) return sendText(res, 400, `Failed to validate update weights: ${err}`);
          if (!(Number(w.weight) > 0)) return sendText(res, 400, `Invalid weight '${w.weight}': weights must be positive`);
        }
        master.updateWeights(infos.map((w) => ({ role: String(w.role), weight: Number(w.weight) })));
        return sendEmpty(res);
      }
      case 'GET_MASTER':
        return respond(res, accept, {
          type: 'GET_MASTER',
          get_master: { master_info: master.info, start_time: master.startTime / 1000, ...(master.electedTime !== undefined ? { elected_time: master.electedTime / 1000 } : {}) },
        });
      case 'TEARDOWN': {
        const fw = master.framework(call.teardown.framework_id?.value);
        if (!fw) return sendText(res, 400, 'No framework found with specified ID');
        master.removeFramework(fw);
        return sendEmpty(res);
      }
      case 'GET_QUOTA':
        return respond(res, accept, { type: 'GET_QUOTA', get_quota: { status: quotaStatus(master.quotas.values()) } });
      case 'UPDATE_QUOTA': {
        const err = master.updateQuota(call.update_quota.quota_configs ?? [], call.update_quota.force === true);
        if (err) return sendText(res, 400, err);
        return sendEmpty(res);
      }
      case 'SET_QUOTA': {
        const config = configFromRequest(call.set_quota.quota_request ?? {});
        if (typeof config === 'string') return sendText(res, 400, config);
        if (master.quotas.has(config.role)) {
          return sendText(res, 400, `Failed to validate set quota request: Can not set quota for role '${config.role}' which already has quota`);
        }
        const err = master.updateQuota([config], call.set_quota.quota_request?.force === true);
        if (err) return sendText(res, 400, err);
        return sendEmpty(res);
      }
      case 'REMOVE_QUOTA': {
        const role = String(call.remove_quota.role);
        if (!master.quotas.has(role)) return sendText(res, 400, `Failed to remove quota: Role '${role}' has no quota set`);
        master.updateQuota([{ role }], true);
        return sendEmpty(res);
      }
      case 'RESERVE_RESOURCES':
      case 'UNRESERVE_RESOURCES':
      case 'CREATE_VOLUMES':
      case 'DESTROY_VOLUMES': {
        const { agentId, op } = operatorOperation(call);
        const result = master.applyOperatorOperation(agentId, op);
        if (result.status !== 202) return sendText(res, result.status, result.message ?? '');
        return sendEmpty(res, 202);
      }
      case 'GET_MAINTENANCE_STATUS':
        return respond(res, accept, { type: 'GET_MAINTENANCE_STATUS', get_maintenance_status: { status: master.maintenanceStatus() } });
      case 'GET_MAINTENANCE_SCHEDULE':
        return respond(res, accept, { type: 'GET_MAINTENANCE_SCHEDULE', get_maintenance_schedule: { schedule: master.maintenanceSchedule } });
      case 'UPDATE_MAINTENANCE_SCHEDULE': {
        const err = master.updateMaintenanceSchedule(call.update_maintenance_schedule.schedule ?? {});
        if (err) return sendText(res, 400, err);
        return sendEmpty(res);
      }
      case 'START_MAINTENANCE':
      case 'STOP_MAINTENANCE': {
        const machines = ((call.type === 'START_MAINTENANCE' ? call.start_maintenance : call.stop_maintenance).machines ?? []) as Msg[];
        const err = call.type === 'START_MAINTENANCE' ? master.startMaintenance(machines) : master.stopMaintenance(machines);
        if (err) return sendText(res, 400, err);
        return sendEmpty(res);
      }
      case 'MARK_AGENT_GONE': {
        const err = master.markAgentGone(String(call.mark_agent_gone.agent_id?.value ?? ''));
        if (err) return sendText(res, err.status, err.message);
        return sendEmpty(res);
      }
      case 'DRAIN_AGENT': {
        const d = call.drain_agent;
        const config: Msg = { mark_gone: d.mark_gone === true };
        if (d.max_grace_period !== undefined) {
          // google.protobuf.Duration {seconds, nanos} -> DurationInfo nanoseconds.
          config.max_grace_period = { nanoseconds: Number(d.max_grace_period.seconds ?? 0) * 1e9 + Number(d.max_grace_period.nanos ?? 0) };
        }
        const err = master.drainAgent(String(d.agent_id?.value ?? ''), config);
        if (err) return sendText(res, err.status, err.message);
        return sendEmpty(res);
      }
      case 'DEACTIVATE_AGENT':
      case 'REACTIVATE_AGENT': {
        const deactivate = call.type === 'DEACTIVATE_AGENT';
        const id = String((deactivate ? call.deactivate_agent : call.reactivate_agent).agent_id?.value ?? '');
        if (!master.setAgentDeactivated(id, deactivate)) return sendText(res, 404, `Agent '${id}' not found`);
        return sendEmpty(res);
      }
      case 'SUBSCRIBE':
        return subscribe(master, res, accept, recordio);
      case 'UNKNOWN':
        return sendText(res, 501, "Received an unexpected 'UNKNOWN' call");
      default:
        return sendText(res, 501, `The '${call.type}' call is not implemented by this master`);
    }
  };
}

function subscribe(master: Master, res: ServerResponse, encoding: Encoding, recordio: boolean): void {
  const headers: Record<string, string> = recordio
    ? { 'Content-Type': APPLICATION_RECORDIO, 'Message-Content-Type': contentType(encoding) }
    : {};
  const stream = new EventStream(res, encoding, EVENT, headers);
  stream.send({ type: 'SUBSCRIBED', subscribed: { get_state: getState(master), heartbeat_interval_seconds: HEARTBEAT_INTERVAL_MS / 1000 } });
  const heartbeat = () => stream.send({ type: 'HEARTBEAT' });
  heartbeat();
  const timer = master.clock.setInterval(heartbeat, HEARTBEAT_INTERVAL_MS);
  const unsubscribe = master.onOperatorEvent((event) => {
    if (!stream.send(event)) stop();
  });
  const stop = () => {
    unsubscribe();
    master.clock.clearInterval(timer);
  };
  stream.onClose(stop);
}
