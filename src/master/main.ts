// Flags -> a running master: HTTP server, libprocess actors, allocator, endpoints (CMP-01).
import { lookup } from 'node:dns/promises';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { randomUUID } from 'node:crypto';
import { type Clock, SystemClock } from '../common/clock.js';
import { type FlagSpec, Flags, parseFlags } from '../common/flags.js';
import { HttpServer, sendJson } from '../common/http/server.js';
import { toJson } from '../protocol/codec.js';
import { logger, setLogLevel } from '../common/log.js';
import { Libprocess } from '../transport/libprocess.js';
import { formatUpid } from '../transport/upid.js';
import type { Allocator, AllocatorOptions, Msg } from './allocator/allocator.js';
import { createAllocator } from './allocator/index.js';
import { MASTER_CAPABILITIES, MESOS_VERSION } from './constants.js';
import { installDriverProtocol } from './driver.js';
import { REGISTRY_TYPE, type Registrar, registrarFromFlags } from './registry/index.js';
import { MASTER_FLAGS as FLAG_SPECS } from './flags.js';
import { masterAuth } from './http/auth.js';
import { installMasterRoutes } from './http/routes.js';
import { MSG, Master, type MasterSettings, type MasterTransport } from './master.js';

export const MASTER_FLAGS: FlagSpec[] = FLAG_SPECS;

const log = logger('master');

export interface MasterHandle {
  readonly master: Master;
  readonly port: number;
  /** `http://ip:port` */
  readonly url: string;
  /** `master@ip:port` */
  readonly pid: string;
  stop(): Promise<void>;
}

export interface StartMasterOptions {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** An allocator instance to use instead of `--allocator` (tests). */
  allocator?: Allocator;
}

/** IPv4 dotted quad -> uint32 in network byte order read as a host (little-endian) integer, as Mesos does. */
export function ipToNetworkOrder(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) return 0;
  return ((parts[3]! << 24) >>> 0) + (parts[2]! << 16) + (parts[1]! << 8) + parts[0]!;
}

async function advertisedIp(bindIp: string, host: string): Promise<string> {
  if (bindIp !== '0.0.0.0') return bindIp;
  try {
    const { address } = await lookup(host, { family: 4 });
    if (!address.startsWith('127.')) return address;
  } catch {
    // fall through
  }
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}

/** `cpus:0.01|mem:32` -> [{cpus: 0.01}, {mem: 32}] */
function parseMinAllocatable(text: string | undefined): Array<Record<string, number>> | undefined {
  if (!text) return undefined;
  return text.split('|').map((alt) => {
    const q: Record<string, number> = {};
    for (const part of alt.split(';')) {
      const [name, value] = part.split(':');
      if (name && value !== undefined) q[name.trim()] = Number(value);
    }
    return q;
  });
}

/** `--weights=role1=2.5,role2=1` */
function parseWeights(text: string | undefined): Record<string, number> | undefined {
  if (!text) return undefined;
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [role, w] = part.split('=');
    if (role && w !== undefined && Number.isFinite(Number(w))) out[role.trim()] = Number(w);
  }
  return out;
}

export async function startMaster(argv: string[], options: StartMasterOptions = {}): Promise<MasterHandle> {
  const flags = new Flags(parseFlags(MASTER_FLAGS, argv, options.env ?? process.env));
  const clock = options.clock ?? new SystemClock();
  // An explicit --logging_level wins; otherwise the process-wide default (MESETA_LOG) stays.
  const env = options.env ?? process.env;
  if (argv.some((a) => a.startsWith('--logging_level')) || env.MESOS_LOGGING_LEVEL !== undefined) {
    setLogLevel(flags.str('logging_level') ?? 'INFO');
  }

  // Fails before binding anything when the credentials can't be read.
  const auth = masterAuth({
    credentials: flags.str('credentials'),
    frameworks: flags.bool('authenticate_http_frameworks'),
    readonly: flags.bool('authenticate_http_readonly'),
    readwrite: flags.bool('authenticate_http_readwrite'),
  });

  // The registry store (--registry, --work_dir) is checked before anything binds.
  let master: Master | undefined;
  const registrar: Registrar = registrarFromFlags(flags, clock, {
    onPruned: (pruned) => master?.pruneAgents(pruned),
    log: (m) => log.info(m),
  });

  let allocator: Allocator;
  try {
    allocator = options.allocator ?? (await createAllocator(flags.str('allocator') ?? 'hierarchical'));
  } catch (e) {
    await registrar.close().catch(() => undefined);
    throw e;
  }

  const bindIp = flags.str('ip') ?? '0.0.0.0';
  const server = new HttpServer({ host: bindIp, port: flags.num('port') ?? 5050, delegate: 'master' });
  const libprocess = new Libprocess(server, { ip: bindIp, port: 0, clock });
  let boundPort: number;
  try {
    boundPort = await server.listen();
  } catch (e) {
    libprocess.close();
    await registrar.close().catch(() => undefined);
    throw e;
  }

  const host = flags.str('hostname') ?? osHostname();
  const ip = flags.str('advertise_ip') ?? (await advertisedIp(bindIp, host));
  const port = flags.str('advertise_port') !== undefined ? Number(flags.str('advertise_port')) : boundPort;
  libprocess.setAddress(ip, port);
  const hostname = flags.str('hostname') ?? (flags.bool('hostname_lookup') ? host : ip);

  const id = randomUUID();
  const pid = `master@${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
  const info: Msg = {
    id,
    ip: ipToNetworkOrder(ip),
    port,
    pid,
    hostname,
    version: MESOS_VERSION,
    address: { hostname, ip, port },
    capabilities: MASTER_CAPABILITIES.map((type) => ({ type })),
  };

  const actor = libprocess.spawn('master');
  const transport: MasterTransport = {
    send: (to, name, msg) => actor.send(to, name, msg),
    link: (to) => actor.link(to),
    spawnObserver: (onPong) => {
      const observer = libprocess.spawn(libprocess.generateId('slave-observer'));
      observer.install(MSG.pong, (from) => onPong(formatUpid(from)));
      return {
        pid: observer.pid,
        send: (to, name, msg) => observer.send(to, name, msg),
        stop: () => libprocess.terminate(observer.id),
      };
    },
  };

  const settings: MasterSettings = {
    agentPingTimeoutMs: flags.num('agent_ping_timeout') ?? 15_000,
    maxAgentPingTimeouts: flags.num('max_agent_ping_timeouts') ?? 5,
    offerTimeoutMs: flags.num('offer_timeout'),
    maxCompletedFrameworks: flags.num('max_completed_frameworks') ?? 50,
    maxCompletedTasksPerFramework: flags.num('max_completed_tasks_per_framework') ?? 1000,
    maxUnreachableTasksPerFramework: flags.num('max_unreachable_tasks_per_framework') ?? 1000,
    rolesWhitelist: flags.str('roles') ? new Set(flags.str('roles')!.split(',').map((r) => r.trim())) : undefined,
    weights: parseWeights(flags.str('weights')),
    agentReregisterTimeoutMs: flags.num('agent_reregister_timeout'),
  };

  master = new Master({ id, info, clock, allocator, transport, settings, flags: flags.toJSON(), registry: registrar });
  const m = master;
  const allocatorOptions: AllocatorOptions = {
    clock,
    allocationIntervalMs: flags.num('allocation_interval') ?? 1000,
    roleSorter: flags.str('role_sorter'),
    frameworkSorter: flags.str('framework_sorter'),
    minAllocatableResources: parseMinAllocatable(flags.str('min_allocatable_resources')),
    fairnessExcludedResourceNames: flags.str('fair_sharing_excluded_resource_names')?.split(',').map((s) => s.trim()).filter(Boolean),
    filterGpuResources: flags.bool('filter_gpu_resources'),
    weights: parseWeights(flags.str('weights')),
  };
  allocator.initialize(allocatorOptions, (fid, offers) => m.onAllocation(fid, offers), (fid, agentIds) => m.onInverseOffers(fid, agentIds), {
    rescind: (fid, aid) => m.rescindOffersOn(fid, aid),
  });
  try {
    m.recover(await registrar.recover(info));
  } catch (e) {
    m.stop();
    libprocess.close();
    await server.close();
    await registrar.close().catch(() => undefined);
    throw e;
  }

  actor.install(MSG.registerSlave, (from, msg) => m.registerSlave(formatUpid(from), msg));
  actor.install(MSG.reregisterSlave, (from, msg) => m.reregisterSlave(formatUpid(from), msg));
  actor.install(MSG.unregisterSlave, (from, msg) => m.unregisterSlave(formatUpid(from), msg));
  actor.install(MSG.statusUpdate, (from, msg) => m.statusUpdate(formatUpid(from), msg));
  actor.install(MSG.exitedExecutor, (from, msg) => m.exitedExecutor(formatUpid(from), msg));
  actor.install(MSG.executorToFramework, (from, msg) => m.executorToFramework(formatUpid(from), msg));
  actor.install(MSG.updateSlave, () => m.inc('master/messages_update_slave'));
  actor.onExited((peer) => m.exited(formatUpid(peer)));
  installDriverProtocol(
    { install: (name, handler) => actor.install(name, (from, msg) => handler(formatUpid(from), msg as Msg)) },
    m,
    transport,
  );

  installMasterRoutes(server, m, auth);
  // The registrar's own endpoint, as Mesos serves it.
  server.route('/registrar(1)/registry', (req, res) => sendJson(res, 200, toJson(REGISTRY_TYPE, registrar.registry() ?? {}), req), ['GET', 'HEAD']);
  log.info(`Master ${id} (${hostname}) started on ${bindIp}:${boundPort}, advertised as ${pid}`);

  let stopped = false;
  return {
    master: m,
    port: boundPort,
    url: `http://${bindIp === '0.0.0.0' ? ip : bindIp}:${boundPort}`,
    pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      m.stop();
      libprocess.close();
      await server.close();
      await registrar.close().catch(() => undefined);
    },
  };
}
