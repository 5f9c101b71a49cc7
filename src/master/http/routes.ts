// The master's HTTP endpoints. The server's delegate is `master`, so `/master/x` reaches `/x`.
import type { ServerResponse } from 'node:http';
import { type Handler, type HttpRequest, type HttpServer, sendJson, sendEmpty, sendText } from '../../common/http/server.js';
import { fromJson, toJson } from '../../protocol/codec.js';
import type { Msg } from '../allocator/allocator.js';
import { MESOS_VERSION } from '../constants.js';
import type { Master } from '../master.js';
import { BUILD } from './build.js';
import { roleSummaries } from '../model.js';
import { configFromRequest, quotaStatus } from '../quota.js';
import { validateRole } from '../../resources/index.js';
import { type MasterAuth, noAuth } from './auth.js';
import { metricsSnapshot } from './metrics.js';
import { operatorHandler } from './operator.js';
import { schedulerHandler } from './scheduler.js';
import { frameworksJson, parseTasksQuery, slavesJson, stateJson, stateSummaryJson, tasksJson } from './state.js';

type Get = (req: HttpRequest, res: ServerResponse) => void;

const readJson = async (req: HttpRequest): Promise<unknown> => JSON.parse((await req.body()).toString('utf8'));
const readForm = async (req: HttpRequest): Promise<URLSearchParams> => new URLSearchParams((await req.body()).toString('utf8'));

/** `//host:port` of the leading master, the way Mesos's redirects name it. */
function leaderUrl(leader: Msg): string {
  return `//${leader.address?.hostname ?? leader.hostname ?? leader.address?.ip}:${leader.port}`;
}

/**
 * A master that does not lead answers with a 307 to the leader (`//host:port<path>`), or 503 when no
 * leader is known or it is itself still recovering. Returns true when it answered.
 */
export function redirectToLeader(master: Master, req: HttpRequest, res: ServerResponse): boolean {
  if (master.leading) return false;
  const leader = master.leaderInfo;
  if (!leader) {
    sendText(res, 503, 'No leader elected');
    return true;
  }
  if (leader.pid === master.info.pid) {
    sendText(res, 503, 'Master has not finished recovery');
    return true;
  }
  const url = req.raw.url ?? '';
  const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  sendEmpty(res, 307, { Location: `${leaderUrl(leader)}${req.originalPath}${query}` });
  return true;
}

export function installMasterRoutes(server: HttpServer, master: Master, auth: MasterAuth = noAuth()): void {
  // Everything about the cluster is answered by the leader; other masters redirect there.
  const leaderOnly = (fn: Handler): Handler => (req, res) => (redirectToLeader(master, req, res) ? undefined : fn(req, res));
  const leaderRoute = (path: string, fn: Handler, methods: string[] | null = null) => server.route(path, leaderOnly(fn), methods);
  // Read-only views answer 401 without credentials when --authenticate_http_readonly is set.
  const get = (path: string, fn: Get) =>
    leaderRoute(path, (req, res) => (auth.readonly.authenticate(req, res) ? fn(req, res) : undefined), ['GET', 'HEAD']);
  // Served by any master, leading or not.
  const open = (path: string, fn: Get) => server.route(path, fn, ['GET', 'HEAD']);
  leaderRoute('/api/v1/scheduler', schedulerHandler(master, auth.scheduler));
  leaderRoute('/api/v1', operatorHandler(master, { loggingLevel: master.flagValues.logging_level ?? 'INFO', auth: auth.readwrite }));

  get('/state', (req, res) => sendJson(res, 200, stateJson(master), req));
  get('/state-summary', (req, res) => sendJson(res, 200, stateSummaryJson(master), req));
  get('/frameworks', (req, res) => sendJson(res, 200, frameworksJson(master, req.query.get('framework_id') ?? undefined), req));
  get('/slaves', (req, res) => sendJson(res, 200, slavesJson(master, req.query.get('slave_id') ?? undefined), req));
  get('/tasks', (req, res) => {
    const q = parseTasksQuery(req.query);
    if (typeof q === 'string') return sendText(res, 400, q);
    sendJson(res, 200, tasksJson(master, q), req);
  });
  get('/flags', (req, res) => sendJson(res, 200, { flags: master.flagValues }, req));
  open('/version', (req, res) =>
    sendJson(res, 200, { version: MESOS_VERSION, build_date: BUILD.date, build_time: BUILD.time, build_user: BUILD.user }, req),
  );
  open('/health', (_req, res) => {
    sendEmpty(res);
  });
  open('/redirect', (_req, res) => {
    const leader = master.leaderInfo;
    if (!leader) return sendText(res, 503, 'No leader elected');
    sendEmpty(res, 307, { Location: leaderUrl(leader) });
  });
  open('/metrics/snapshot', (req, res) => sendJson(res, 200, metricsSnapshot(master), req));
  get('/roles', (req, res) =>
    sendJson(res, 200, {
      roles: roleSummaries(master).map((r) => ({
        name: r.name,
        weight: r.weight,
        frameworks: r.frameworks,
        resources: r.allocated.toLegacyJson(),
        allocated: r.allocated.toLegacyJson(),
        offered: r.offered.toLegacyJson(),
        reserved: r.reserved.toLegacyJson(),
      })),
    }, req),
  );
  // LEG-M07: GET lists the weights; PUT replaces the given roles' weights.
  leaderRoute(
    '/weights',
    async (req, res) => {
      if (!(req.method === 'PUT' ? auth.readwrite : auth.readonly).authenticate(req, res)) return;
      if (req.method !== 'PUT') {
        return sendJson(res, 200, [...master.weights].map(([role, weight]) => ({ role, weight })), req);
      }
      let list: unknown;
      try {
        list = await readJson(req);
      } catch (e) {
        return sendText(res, 400, `Failed to parse update weights request JSON: ${(e as Error).message}`);
      }
      if (!Array.isArray(list)) return sendText(res, 400, 'Failed to parse update weights request JSON: expecting an array');
      const weights: Array<{ role: string; weight: number }> = [];
      for (const w of list as Array<Record<string, unknown>>) {
        const role = typeof w?.role === 'string' ? w.role : undefined;
        const weight = Number(w?.weight);
        const err = role === undefined ? 'Weight role must be set' : validateRole(role);
        if (err) return sendText(res, 400, `Failed to validate update weights request: ${err}`);
        if (!(weight > 0)) return sendText(res, 400, `Failed to validate update weights request: invalid weight '${w?.weight}'`);
        weights.push({ role: role!, weight });
      }
      master.updateWeights(weights);
      sendEmpty(res);
    },
    ['GET', 'HEAD', 'PUT'],
  );
  // LEG-M08 (deprecated quota endpoint): GET status, POST a QuotaRequest, DELETE /quota/<role>.
  const quota = async (req: HttpRequest, res: ServerResponse): Promise<void> => {
    if (!(req.method === 'GET' || req.method === 'HEAD' ? auth.readonly : auth.readwrite).authenticate(req, res)) return;
    if (req.method === 'GET' || req.method === 'HEAD') return sendJson(res, 200, toJson('mesos.v1.quota.QuotaStatus', quotaStatus(master.quotas.values())), req);
    if (req.method === 'POST' && req.path === '/quota') {
      let request: Msg;
      try {
        request = fromJson('mesos.v1.quota.QuotaRequest', await readJson(req));
      } catch (e) {
        return sendText(res, 400, `Failed to parse set quota request JSON: ${(e as Error).message}`);
      }
      const config = configFromRequest(request);
      if (typeof config === 'string') return sendText(res, 400, config);
      if (master.quotas.has(config.role)) {
        return sendText(res, 400, `Failed to validate set quota request: Can not set quota for role '${config.role}' which already has quota`);
      }
      const err = master.updateQuota([config], request.force === true);
      if (err) return sendText(res, 400, err);
      sendEmpty(res);
      return;
    }
    if (req.method === 'DELETE' && req.path.startsWith('/quota/')) {
      const role = req.path.slice('/quota/'.length);
      if (!master.quotas.has(role)) return sendText(res, 400, `Failed to remove quota: Role '${role}' has no quota set`);
      master.updateQuota([{ role }], true);
      sendEmpty(res);
      return;
    }
    sendText(res, 405, `Expecting one of { 'GET', 'POST', 'DELETE' }, but received '${req.method}'`, { Allow: 'GET, POST, DELETE' });
  };
  leaderRoute('/quota', quota);
  server.routePrefix('/quota/', leaderOnly(quota));
  // LEG-M12..M14: maintenance schedule, status, machine down/up.
  leaderRoute(
    '/maintenance/schedule',
    async (req, res) => {
      if (!(req.method === 'POST' ? auth.readwrite : auth.readonly).authenticate(req, res)) return;
      if (req.method !== 'POST') return sendJson(res, 200, toJson('mesos.v1.maintenance.Schedule', master.maintenanceSchedule), req);
      let schedule: Msg;
      try {
        schedule = fromJson('mesos.v1.maintenance.Schedule', await readJson(req));
      } catch (e) {
        return sendText(res, 400, `Failed to parse the maintenance schedule: ${(e as Error).message}`);
      }
      const err = master.updateMaintenanceSchedule(schedule);
      if (err) return sendText(res, 400, err);
      sendEmpty(res);
    },
    ['GET', 'HEAD', 'POST'],
  );
  get('/maintenance/status', (req, res) => sendJson(res, 200, toJson('mesos.v1.maintenance.ClusterStatus', master.maintenanceStatus()), req));
  for (const [path, down] of [['/machine/down', true], ['/machine/up', false]] as const) {
    leaderRoute(
      path,
      async (req, res) => {
        if (!auth.readwrite.authenticate(req, res)) return;
        let machines: Msg[];
        try {
          const list = await readJson(req);
          if (!Array.isArray(list)) throw new Error('expecting a JSON array of machine ids');
          machines = list.map((m) => fromJson('mesos.v1.MachineID', m));
        } catch (e) {
          return sendText(res, 400, `Failed to parse the list of machines: ${(e as Error).message}`);
        }
        const err = down ? master.startMaintenance(machines) : master.stopMaintenance(machines);
        if (err) return sendText(res, 400, err);
        sendEmpty(res);
      },
      ['POST'],
    );
  }
  // LEG-M09/M10: POST form `slaveId=<id>&resources=<JSON array>` (volumes=... for the volume calls).
  for (const [path, type, key, field] of [
    ['/reserve', 'RESERVE', 'reserve', 'resources'],
    ['/unreserve', 'UNRESERVE', 'unreserve', 'resources'],
    ['/create-volumes', 'CREATE', 'create', 'volumes'],
    ['/destroy-volumes', 'DESTROY', 'destroy', 'volumes'],
  ] as const) {
    leaderRoute(
      path,
      async (req, res) => {
        const authenticated = auth.readwrite.authenticate(req, res);
        if (!authenticated) return;
        const form = await readForm(req);
        const agentId = form.get('slaveId');
        if (agentId === null) return sendText(res, 400, "Missing 'slaveId' query parameter in the request body");
        const text = form.get(field);
        if (text === null) return sendText(res, 400, `Missing '${field}' query parameter in the request body`);
        let list: Msg[];
        try {
          const parsed = JSON.parse(text);
          if (!Array.isArray(parsed)) throw new Error('expecting a JSON array');
          list = parsed.map((r) => fromJson('mesos.v1.Resource', r));
        } catch (e) {
          return sendText(res, 400, `Error in parsing '${field}' query parameter in the request body: ${(e as Error).message}`);
        }
        const result = master.applyOperatorOperation(agentId, { type, [key]: { [field]: list } }, authenticated.principal);
        if (result.status !== 202) return sendText(res, result.status, result.message ?? '');
        sendEmpty(res, 202);
      },
      ['POST'],
    );
  }
  // LEG-M11: POST form `frameworkId=<id>`.
  leaderRoute(
    '/teardown',
    async (req, res) => {
      if (!auth.readwrite.authenticate(req, res)) return;
      const form = await readForm(req);
      const id = form.get('frameworkId');
      if (id === null) return sendText(res, 400, "Missing 'frameworkId' query parameter in the request body");
      const fw = master.framework(id);
      if (!fw) return sendText(res, 400, 'No framework found with specified ID');
      master.removeFramework(fw);
      sendEmpty(res);
    },
    ['POST'],
  );
}
