// Flags -> a running master: HTTP server, libprocess actors, allocator, endpoints (CMP-01).
import { lookup } from 'node:dns/promises';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { createHash, randomUUID } from 'node:crypto';
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
import { InMemoryStore, REGISTRY_TYPE, type Registrar, type RegistryStore, registrarFromFlags } from './registry/index.js';
import { ZkRegistryStore } from './registry/zk-store.js';
import { ZooKeeperMasterContender, ZooKeeperMasterDetector, haConfigFromFlags, registryPath } from './election/index.js';
import { type ZkClient, connectZk } from '../zookeeper/index.js';
import { MASTER_FLAGS as FLAG_SPECS } from './flags.js';
import { masterAuth } from './http/auth.js';
import { installMasterRoutes } from './http/routes.js';
import { MSG, Master, type MasterSettings, type MasterTransport } from './master.js';
import { parseRemovalLimit, parseRemovalRate } from './removals.js';

export const MASTER_FLAGS: FlagSpec[] = FLAG_SPECS;

const log = logger('master');

export interface MasterHandle {
  readonly master: Master;
  readonly port: number;
  /** `http://ip:port` */
  readonly url: string;
  /** `master@ip:port` */
  readonly pid: string;
  /** Resolves when the master stopped on its own (it lost leadership). */
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

export interface StartMasterOptions {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** An allocator instance to use instead of `--allocator` (tests). */
  allocator?: Allocator;
  /** A ZooKeeper session to use with --zk instead of connecting to the URL's servers (tests). */
  zkClient?: ZkClient;
  /** Called at once when an elected master loses leadership, before it stops (bin/mesos-master exits here). */
  onLeadershipLost?: (reason: string) => void;
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
  // Agent removal flags, checked before anything binds.
  const agentRemovalRate = parseRemovalRate(flags.str('agent_removal_rate_limit'));
  const recoveryAgentRemovalLimit = parseRemovalLimit(flags.str('recovery_agent_removal_limit'));

  // HA flags (--zk, --quorum) and the registry store (--registry, --work_dir) are checked before
  // anything binds. With --zk and the replicated_log registry, the registry lives in ZooKeeper.
  const ha = haConfigFromFlags({
    zk: flags.str('zk'),
    quorum: flags.str('quorum'),
    zk_session_timeout: flags.num('zk_session_timeout'),
    registry: flags.str('registry'),
  });
  const zkRegistry = ha !== undefined && (flags.str('registry') ?? 'replicated_log') === 'replicated_log';
  let master: Master | undefined;
  const makeRegistrar = (store?: RegistryStore): Registrar =>
    registrarFromFlags(flags, clock, { onPruned: (pruned) => master?.pruneAgents(pruned), log: (m) => log.info(m), store });
  // Standalone: made now, so a missing --work_dir fails before binding. With ZooKeeper: once the
  // master's own MasterInfo (its group member) is known.
  let registrar: Registrar | undefined = zkRegistry ? undefined : makeRegistrar(ha ? new InMemoryStore() : undefined);
  const closeRegistrar = async () => {
    await registrar?.close().catch(() => undefined);
  };

  let allocator: Allocator;
  try {
    allocator = options.allocator ?? (await createAllocator(flags.str('allocator') ?? 'hierarchical'));
  } catch (e) {
    await closeRegistrar();
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
    await closeRegistrar();
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
  // After a failover every agent hears an UpdateFrameworkMessage per framework it runs tasks of
  // (100,000 for 10,000 agents): encoded once per FrameworkInfo object, which the master replaces
  // on every change and never mutates.
  const updateFrameworkBodies = new WeakMap<object, { id: unknown; pid: unknown; body: Buffer }>();
  const encodeUpdateFramework = (msg: Msg): Buffer => {
    const info = msg.framework_info;
    const keys = Object.keys(msg);
    if (typeof info !== 'object' || info === null || keys.length !== 3) return libprocess.codec.encode(MSG.updateFramework, msg);
    const cached = updateFrameworkBodies.get(info);
    if (cached && cached.id === msg.framework_id?.value && cached.pid === msg.pid) return cached.body;
    const body = libprocess.codec.encode(MSG.updateFramework, msg);
    updateFrameworkBodies.set(info, { id: msg.framework_id?.value, pid: msg.pid, body });
    return body;
  };
  const transport: MasterTransport = {
    send: (to, name, msg) => (name === MSG.updateFramework ? actor.sendRaw(to, name, encodeUpdateFramework(msg)) : actor.send(to, name, msg)),
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
    agentRemovalRate,
    recoveryAgentRemovalLimit,
  };

  // HA: this master contends for leadership in the ZooKeeper group and follows the detected leader.
  let election: { client: ZkClient; contender: ZooKeeperMasterContender; detector: ZooKeeperMasterDetector } | undefined;
  if (ha) {
    const client = options.zkClient ?? connectZk(ha.url, { sessionTimeoutMs: ha.sessionTimeoutMs, clock });
    const contender = new ZooKeeperMasterContender({ client, path: ha.url.path, info, clock });
    const detector = new ZooKeeperMasterDetector({ client, path: ha.url.path, clock });
    election = { client, contender, detector };
    if (zkRegistry) {
      registrar = makeRegistrar(
        new ZkRegistryStore({ client, path: registryPath(ha.url.path), guard: () => (contender.state === 'elected' ? contender.nodePath : undefined) }),
      );
    }
  }
  const reg = registrar!;

  master = new Master({ id, info, clock, allocator, transport, settings, flags: flags.toJSON(), registry: reg });
  const m = master;
  if (ha) m.setLeading(false);
  const allocatorOptions: AllocatorOptions = {
    clock,
    allocationIntervalMs: flags.num('allocation_interval') ?? 1000,
    roleSorter: flags.str('role_sorter'),
    frameworkSorter: flags.str('framework_sorter'),
    minAllocatableResources: parseMinAllocatable(flags.str('min_allocatable_resources')),
    fairnessExcludedResourceNames: flags.str('fair_sharing_excluded_resource_names')?.split(',').map((s) => s.trim()).filter(Boolean),
    filterGpuResources: flags.bool('filter_gpu_resources'),
    weights: parseWeights(flags.str('weights')),
    // How many recovered agents must re-register before allocation resumes under quota (ALC-10).
    agentRecoveryFactor: flags.num('allocator_agent_recovery_factor'),
    recoveryTimeoutMs: flags.num('allocator_recovery_timeout'),
  };
  allocator.initialize(allocatorOptions, (fid, offers) => m.onAllocation(fid, offers), (fid, agentIds) => m.onInverseOffers(fid, agentIds), {
    rescind: (fid, aid) => m.rescindOffersOn(fid, aid),
  });
  if (!election) {
    // Standalone: not leading (HTTP 503 "Master has not finished recovery") until the registry is recovered below.
    m.setDetectedLeader(info);
    m.setLeading(false);
  }

  // A master that does not lead drops agent and framework messages, as Mesos does. One that is
  // recovering the registry after its election keeps them for the end of recovery, so agents that
  // found the new leader before it finished need not wait out a registration backoff.
  let recovering: Array<() => void> | undefined = election ? undefined : [];
  // (Re-)registrations held during recovery, by message and sender: an agent's retry while its
  // first attempt waits is dropped, as Mesos drops one whose re-registration is in progress.
  const heldRegistrations = new Set<string>();
  const startLeading = () => {
    const held = recovering ?? [];
    recovering = undefined;
    heldRegistrations.clear();
    m.setLeading(true);
    for (const run of held) run();
  };
  const install = (name: string, handler: (from: string, msg: Msg) => void) =>
    actor.install(name, (from, msg) => {
      if (m.leading) handler(formatUpid(from), msg as Msg);
      else if (recovering) recovering.push(() => handler(formatUpid(from), msg as Msg));
      else log.debug(`Dropping ${name} from ${formatUpid(from)}: not the leading master`);
    });
  // Agent registrations are decoded only when handled: in a failover storm most bodies that
  // arrive early are retries that end up dropped.
  const installRegistration = (name: string, handler: (from: string, msg: Msg, digest: string | undefined) => void) =>
    actor.installRaw(name, (from, body) => {
      const sender = formatUpid(from);
      // Hashed at most once per body: by the retry check below, or when the held message is handled.
      let digest = name === MSG.reregisterSlave && m.leading ? bodyDigest(body) : undefined;
      const handle = () => {
        let msg: Msg;
        try {
          msg = libprocess.codec.decode(name, body);
        } catch (e) {
          log.warn(`master: dropping malformed '${name}' from ${sender}: ${(e as Error).message}`);
          return;
        }
        if (name === MSG.reregisterSlave) digest ??= bodyDigest(body);
        handler(sender, msg, digest);
      };
      if (m.leading) {
        // An agent's retry of the re-registration just handled (a failover storm is mostly these).
        if (digest !== undefined && m.reregisterSlaveRetry(sender, digest)) return;
        return handle();
      }
      if (!recovering) return log.debug(`Dropping ${name} from ${sender}: not the leading master`);
      const key = `${name} ${sender}`;
      if (heldRegistrations.has(key)) return log.debug(`Dropping ${name} from ${sender}: an earlier one is held until recovery ends`);
      heldRegistrations.add(key);
      recovering.push(handle);
    });
  installRegistration(MSG.registerSlave, (from, msg) => m.registerSlave(from, msg));
  installRegistration(MSG.reregisterSlave, (from, msg, digest) => m.reregisterSlave(from, msg, digest));
  install(MSG.unregisterSlave, (from, msg) => m.unregisterSlave(from, msg));
  install(MSG.statusUpdate, (from, msg) => m.statusUpdate(from, msg));
  install(MSG.exitedExecutor, (from, msg) => m.exitedExecutor(from, msg));
  install(MSG.executorToFramework, (from, msg) => m.executorToFramework(from, msg));
  install(MSG.updateSlave, () => m.inc('master/messages_update_slave'));
  actor.onExited((peer) => m.exited(formatUpid(peer)));
  installDriverProtocol({ install }, m, transport);

  installMasterRoutes(server, m, auth);
  // The registrar's own endpoint, as Mesos serves it.
  server.route('/registrar(1)/registry', (req, res) => sendJson(res, 200, toJson(REGISTRY_TYPE, reg.registry() ?? {}), req), ['GET', 'HEAD']);
  if (!election) {
    try {
      m.recover(await reg.recover(info));
      startLeading();
    } catch (e) {
      m.stop();
      libprocess.close();
      await server.close();
      await closeRegistrar();
      throw e;
    }
  }
  log.info(`Master ${id} (${hostname}) started on ${bindIp}:${boundPort}, advertised as ${pid}`);

  let stopped = false;
  let stoppedByItself: () => void = () => {};
  const handle: MasterHandle = {
    master: m,
    port: boundPort,
    url: `http://${bindIp === '0.0.0.0' ? ip : bindIp}:${boundPort}`,
    pid,
    stopped: new Promise<void>((resolve) => (stoppedByItself = resolve)),
    async stop() {
      if (stopped) return;
      stopped = true;
      m.stop();
      libprocess.close();
      await server.close();
      if (election) {
        election.detector.close();
        await election.contender.withdraw().catch(() => undefined);
        if (!options.zkClient) await election.client.close().catch(() => undefined);
      }
      await closeRegistrar();
    },
  };

  if (election) {
    const { contender, detector } = election;
    // Mesos aborts a master that loses leadership; here it stops and `stopped` resolves.
    const lose = (reason: string) => {
      if (stopped) return;
      log.error(`Lost leadership (${reason}); stopping`);
      options.onLeadershipLost?.(reason);
      void handle.stop().then(stoppedByItself);
    };
    detector.onChange((leader) => m.setDetectedLeader(leader));
    void detector.detect().then((leader) => m.setDetectedLeader(leader), () => undefined);
    contender.onEvent((event) => {
      if (event.type === 'lost') return lose(event.reason);
      log.info('Elected as the leading master; recovering the registry');
      recovering = [];
      reg.recover(info).then(
        (state) => {
          if (stopped) return;
          m.recover(state);
          startLeading();
          log.info(`Master ${id} is the leader`);
        },
        (e) => lose(`registry recovery failed: ${(e as Error).message}`),
      );
    });
    contender.contend().catch((e) => lose((e as Error).message));
  }
  return handle;
}

/** Identifies a message body (an agent's re-registration retries are byte-identical). */
function bodyDigest(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}
