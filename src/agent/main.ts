// `mesos-agent`: flags -> a running agent (HTTP server, libprocess actor `slave(1)`, containerizer,
// executor API, endpoints), registered with the master given by --master.
import { execSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../common/clock.js';
import { SystemClock } from '../common/clock.js';
import { Flags, FlagsError, parseFlags, type FlagSpec } from '../common/flags.js';
import { HttpServer } from '../common/http/server.js';
import { fromJson } from '../protocol/codec.js';
import { logger, setLogLevel } from '../common/log.js';
import { detectAgentResources, parseAttributes, Resources } from '../resources/index.js';
import { Libprocess } from '../transport/libprocess.js';
import { CommandExecutor } from '../executor/command-executor.js';
import { Agent, type AgentConfig } from './agent.js';
import { containerizerFromFlags } from './containerizer/from-flags.js';
import { PosixContainerizer } from './containerizer/posix.js';
import { destroyOrphans } from './containerizer/recover.js';
import { Files } from './files/index.js';
import { AGENT_FLAGS as FLAGS } from './flags.js';
import { installEndpoints } from './http/endpoints.js';
import { ExecutorApi } from './http/executor-api.js';
import { AgentOperatorApi } from './http/operator-api.js';
import { NestedContainers } from './nested/containers.js';
import { adoptNestedOf, trackNested } from './nested/recover.js';
import { applyCheckpointedResources } from './checkpoint/resources.js';
import { agentRootLookup } from './nested/root-lookup.js';
import { REGISTER_RETRY_INTERVAL_MAX_MS, resolveMasterPid } from './registration.js';
import { type LeaderFollower, followLeader, masterHostHint, needsDetection } from './detection/index.js';
import { currentBootId, planRecovery, removeCheckpoints, type RecoveryPlan } from './recovery/index.js';
import type { Msg } from './types.js';

const log = logger('agent');

export const AGENT_FLAGS: FlagSpec[] = FLAGS;
export { Agent } from './agent.js';

export interface AgentHandle {
  readonly agent: Agent;
  readonly port: number;
  readonly url: string;
  /** `slave(1)@ip:port` */
  readonly pid: string;
  /** Kills every task and executor the agent started, then closes its server. */
  stop(): Promise<void>;
  /** Resolves once the agent stopped (stop() or a ShutdownMessage from the master). */
  readonly stopped: Promise<void>;
  /**
   * For recovery tests: closes the agent as if its process had been kill -9'ed (its tasks keep
   * running, checkpoints stay as they are), so a new agent can recover on the same work_dir.
   */
  crash(): Promise<void>;
  /**
   * SIGTERM (Mesos): kills the executors of frameworks without checkpointing, leaves those of
   * checkpointing frameworks running for the next agent to recover, and closes.
   */
  terminate(): Promise<void>;
  /** SIGUSR1 (Mesos): unregisters from the master, kills everything and closes. */
  shutdown(): Promise<void>;
}

export interface StartAgentOptions {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
}

function firstExternalIPv4(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** The IP others use to reach us: --advertise_ip, --ip, LIBPROCESS_IP, else loopback next to a loopback master. */
function advertisedIp(flags: Flags, env: NodeJS.ProcessEnv, masterIp: string): string {
  const given = flags.str('advertise_ip') ?? flags.str('ip') ?? env.LIBPROCESS_ADVERTISE_IP ?? env.LIBPROCESS_IP;
  if (given && given !== '0.0.0.0') return given;
  if (masterIp.startsWith('127.') || masterIp === '::1') return '127.0.0.1';
  return firstExternalIPv4() ?? '127.0.0.1';
}

function executorBaseEnv(flags: Flags, env: NodeJS.ProcessEnv): Record<string, string> {
  const text = flags.str('executor_environment_variables');
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new FlagsError(`Failed to load flag 'executor_environment_variables': ${(e as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new FlagsError("Failed to load flag 'executor_environment_variables': expecting a JSON object");
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new FlagsError(`Flag 'executor_environment_variables': value of '${k}' is not a string`);
      out[k] = v;
    }
    return out;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}

export async function startAgent(argv: string[], options: StartAgentOptions = {}): Promise<AgentHandle> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? new SystemClock();
  const flags = new Flags(parseFlags(AGENT_FLAGS, argv, env));
  if (flags.has('logging_level')) setLogLevel(flags.str('logging_level')!);

  const workDir = flags.str('work_dir')!;
  const backoffFactor = flags.num('registration_backoff_factor')!;
  if (backoffFactor > REGISTER_RETRY_INTERVAL_MAX_MS) {
    throw new FlagsError(`Invalid value '${flags.parsed.raw.get('registration_backoff_factor')}' for --registration_backoff_factor: must be less than 1mins`);
  }
  const recover = flags.str('recover');
  if (recover !== 'reconnect' && recover !== 'cleanup') throw new FlagsError(`Unknown option for 'recover' flag ${recover}`);
  // Recovery waits for executors this long before re-registering: it must end before the master gives up on us.
  if (flags.num('executor_reregistration_timeout')! > 15_000) {
    throw new FlagsError('Expected `--executor_reregistration_timeout` to be not more than 15secs');
  }
  const reconfigurationPolicy = flags.str('reconfiguration_policy')!;
  if (reconfigurationPolicy !== 'equal' && reconfigurationPolicy !== 'additive') {
    throw new FlagsError(`Unknown option for 'reconfiguration_policy' flag ${reconfigurationPolicy}`);
  }
  // zk:// and file:// masters are found by a detector once the agent runs; '' until then.
  const masterFlag = flags.str('master')!;
  const detectMaster = needsDetection(masterFlag);
  let masterHint: string | undefined;
  if (detectMaster) {
    try {
      masterHint = masterHostHint(masterFlag);
    } catch (e) {
      throw new FlagsError(`Failed to parse --master '${masterFlag}': ${(e as Error).message}`);
    }
  }
  const masterPid = detectMaster ? '' : await resolveMasterPid(masterFlag);
  mkdirSync(workDir, { recursive: true });

  let resources = detectAgentResources({ resources: flags.str('resources'), workDir, defaultRole: flags.str('default_role') });
  // Before anything listens: a bad --isolation/--launcher (or a missing cgroup controller) stops the agent here.
  const { containerizer: baseContainerizer, discoveredGpus } = await containerizerFromFlags(flags, {
    clock,
    workDir,
    ...(resources.names().includes('gpus') ? { resourcesGpus: resources.scalar('gpus') } : {}),
  }).catch((e: Error) => {
    throw new Error(`Failed to create a containerizer: ${e.message}`);
  });
  // Nested containers (task groups) end with their executor's container.
  const containerizer = new NestedContainers(baseContainerizer);
  if (discoveredGpus > 0) resources = resources.plus(Resources.parse(`gpus:${discoveredGpus}`, flags.str('default_role')));
  const attributes = flags.has('attributes') ? parseAttributes(flags.str('attributes')!) : [];
  const masterIp = masterHint ?? masterPid.slice(masterPid.indexOf('@') + 1).replace(/:\d+$/, '').replace(/^\[|\]$/g, '');

  if (!flags.has('ip') && flags.has('ip_discovery_command')) {
    // Mesos runs the command and uses its output as --ip.
    let out: string;
    try {
      out = execSync(flags.str('ip_discovery_command')!, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    } catch (e) {
      throw new FlagsError(`Failed to run --ip_discovery_command: ${(e as Error).message}`);
    }
    if (!isIP(out)) throw new FlagsError(`--ip_discovery_command printed '${out}', which is not an IP address`);
    flags.parsed.values.set('ip', out);
    flags.parsed.raw.set('ip', out);
  }
  let domain: Msg | undefined;
  if (flags.has('domain')) {
    try {
      domain = fromJson('mesos.v1.DomainInfo', JSON.parse(flags.str('domain')!));
    } catch (e) {
      throw new FlagsError(`Failed to load flag 'domain': ${(e as Error).message}`);
    }
  }
  const baseEnv = executorBaseEnv(flags, env);
  const listenIp = flags.str('ip') ?? env.LIBPROCESS_IP ?? '0.0.0.0';
  const server = new HttpServer({ host: listenIp, port: flags.num('port')!, delegate: 'slave(1)' });
  const ip = advertisedIp(flags, env, masterIp);
  const lp = new Libprocess(server, { ip, port: 0, clock });
  const boundPort = await server.listen();
  const port = flags.num('advertise_port') ?? boundPort;
  // From here on a failure must not leave the port open.
  let plan: RecoveryPlan = { rebooted: false, errors: 0 };
  // Containers of the previous agent process that recovery takes over; the rest are orphans.
  const adopted = new Set<string>();
  // Nested containers (task groups) re-adopted with their executor's container.
  const adoptedNested: string[] = [];
  const adoptable = baseContainerizer instanceof PosixContainerizer ? baseContainerizer : undefined;
  let follower: LeaderFollower | undefined;
  let started: {
    agent: Agent;
    actor: ReturnType<Libprocess['spawn']>;
    stop: () => Promise<void>;
    stopped: Promise<void>;
    crash: () => Promise<void>;
    terminate: () => Promise<void>;
    shutdown: () => Promise<void>;
  };
  try {
    lp.setAddress(ip, port);
    const actor = lp.spawn('slave(1)');

    const hostname = flags.str('hostname') ?? (flags.bool('hostname_lookup') ? os.hostname() : ip);
    const info: Msg = { hostname, port, resources: resources.toProto(), attributes };
    if (domain) info.domain = domain;
    const bootId = currentBootId();
    // Checkpoints of a previous run on this work_dir (FT-05); --strict makes problems fatal.
    plan = planRecovery({ workDir, info, bootId, strict: flags.bool('strict'), reconfigurationPolicy });

    const files = new Files();
    files.install(server);
    // Mesos serves the agent's log file as /slave/log.
    const logFile = flags.str('external_log_file');
    if (logFile) files.attach(logFile, '/slave/log');

    const config: AgentConfig = {
      workDir,
      launcherDir: flags.str('launcher_dir')!,
      executorRegistrationTimeoutMs: flags.num('executor_registration_timeout')!,
      executorShutdownGracePeriodMs: flags.num('executor_shutdown_grace_period')!,
      executorReregistrationTimeoutMs: flags.num('executor_reregistration_timeout')!,
      recoveryTimeoutMs: flags.num('recovery_timeout')!,
      registrationBackoffFactorMs: backoffFactor,
      httpCommandExecutor: flags.bool('http_command_executor'),
      switchUser: flags.bool('switch_user'),
      maxCompletedExecutorsPerFramework: flags.num('max_completed_executors_per_framework')!,
      executorBaseEnv: baseEnv,
      gcDelayMs: flags.num('gc_delay')!,
      gcDiskHeadroom: flags.num('gc_disk_headroom')!,
      diskWatchIntervalMs: flags.num('disk_watch_interval')!,
    };

    let stopping: Promise<void> | undefined;
    let resolveStopped!: () => void;
    const stopped = new Promise<void>((r) => (resolveStopped = r));
    const agent = new Agent({
      clock,
      actor,
      masterPid,
      info,
      endpoint: `${ip}:${port}`,
      config,
      containerizer,
      createCommandExecutor: (o) => new CommandExecutor(o),
      files,
      onShutdown: () => void stop(),
      bootId,
      adoptContainer: adoptable
        ? (id) => {
            adopted.add(id);
            const adoption = adoptable.adopt(id);
            if (adoption.running) adoptedNested.push(...adoptNestedOf(path.dirname(adoptable.runDir(id)), id, adopted, (n) => adoptable.adopt(n)));
            return adoption;
          }
        : undefined,
    });
    const executorApi = new ExecutorApi(agent);
    executorApi.install(server);
    installEndpoints(server, agent, flags.toJSON(), containerizer);
    containerizer.setRootLookup(agentRootLookup(agent));
    new AgentOperatorApi({ agent, flags: flags.toJSON(), containerizer, files, nested: containerizer }).install(server);

    // One way out: stop() kills everything, terminate() only what would not be recovered.
    const close = (how: 'stop' | 'terminate' | 'shutdown'): Promise<void> => {
      stopping ??= (async () => {
        follower?.close();
        if (how === 'terminate') {
          await agent.terminate();
          (baseContainerizer as { release?: () => void }).release?.();
        } else if (how === 'shutdown') {
          await agent.shutdown();
        } else {
          await agent.stop();
        }
        executorApi.stop();
        lp.close();
        await server.close();
        log.info('Agent stopped');
        resolveStopped();
      })();
      return stopping;
    };
    const stop = (): Promise<void> => close('stop');
    const terminate = (): Promise<void> => close('terminate');
    const shutdown = (): Promise<void> => close('shutdown');
    const crash = async (): Promise<void> => {
      follower?.close();
      agent.abandon();
      (baseContainerizer as { release?: () => void }).release?.();
      executorApi.stop();
      lp.close();
      await server.close();
      resolveStopped();
    };
    started = { agent, actor, stop, stopped, crash, terminate, shutdown };
  } catch (e) {
    lp.close();
    await server.close();
    throw e;
  }
  const { agent, actor, stop, stopped, crash, terminate, shutdown } = started;
  agent.counters.recoveryErrors = plan.errors;
  try {
    agent.recoverResources();
  } catch (e) {
    if (flags.bool('strict')) {
      await crash();
      throw new Error(`Failed to recover checkpointed resources: ${(e as Error).message}`);
    }
    // --strict=false: start without them, as a fresh agent would.
    agent.counters.recoveryErrors++;
    log.error(`Skipping checkpointed resources: ${(e as Error).message}`);
  }
  try {
    // As Mesos: restarted with --resources that cannot hold its reservations and volumes, the agent does not start.
    applyCheckpointedResources(resources, agent.checkpointedResources, true);
  } catch (e) {
    await crash();
    throw new Error(`Incompatible agent resources: ${(e as Error).message}`);
  }
  if (plan.agent) {
    log.info(`Recovering agent ${plan.agent.id} from ${workDir}/meta${plan.rebooted ? ' (the host rebooted)' : ''}`);
    try {
      await agent.recover(plan.agent, { rebooted: plan.rebooted });
    } catch (e) {
      // Never leave a half-recovered agent listening; what it adopted is left running, as a
      // crashed agent would leave it, for the next attempt.
      await crash();
      throw new Error(`Failed to recover agent ${plan.agent.id}: ${(e as Error).message}`);
    }
  }
  if (adoptable) {
    trackNested(containerizer, adoptedNested);
    if (adoptedNested.length > 0) log.info(`Re-adopted ${adoptedNested.length} nested container(s) of recovered executors: ${adoptedNested.join(', ')}`);
    const orphans = destroyOrphans(path.dirname(adoptable.runDir('x')), adopted);
    if (orphans.length > 0) log.info(`Destroyed ${orphans.length} orphan container(s) of the previous agent: ${orphans.join(', ')}`);
  }
  if (recover === 'cleanup') {
    // Everything recovered is killed, the checkpoints are removed, and the agent exits.
    await stop();
    removeCheckpoints(workDir);
    log.info('Agent finished cleanup (--recover=cleanup); exiting');
  } else {
    agent.start();
    // The agent registers with whichever master leads, and follows it through failovers.
    if (detectMaster) follower = followLeader(masterFlag, agent, { clock });
  }
  log.info(`Agent ${actor.pid} started (work_dir ${workDir}, resources ${resources.toString()})`);
  return {
    agent,
    port,
    url: `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`,
    pid: actor.pid,
    stop,
    stopped,
    crash,
    terminate,
    shutdown,
  };
}
