// `meseta local` / bin/mesos-local (CMP-13): a master and --num_slaves agents in this one process.
// Master flags and agent flags pass through; each agent gets its own work dir and an ephemeral port.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FlagSpec, FlagsError, flagsUsage, parseFlags } from '../common/flags.js';
import { AGENT_FLAGS } from '../agent/flags.js';
import { startAgent } from '../agent/main.js';
import { MASTER_FLAGS } from '../master/flags.js';
import { startMaster } from '../master/main.js';
import { reportStartError, untilSignal, wantsHelp } from './daemon.js';
import { descendantPids, killAll } from './proc.js';

export const LOCAL_FLAGS: FlagSpec[] = [
  { name: 'num_slaves', kind: 'int', help: 'Number of agents to launch', default: '1' },
  { name: 'ip', kind: 'string', help: 'IP address the master and agents listen on', default: '127.0.0.1' },
  { name: 'port', kind: 'int', help: 'Port the master listens on', default: '5050' },
  { name: 'work_dir', kind: 'string', help: 'Root work dir: <work_dir>/master and <work_dir>/agent-<i>', default: join(tmpdir(), 'mesos', 'work') },
];

const LOCAL_NAMES = new Set(LOCAL_FLAGS.map((f) => f.name));
/** Flags the local runner sets itself on the master or the agents. */
const MANAGED = new Set(['master', 'work_dir', 'port', 'ip']);

export interface LocalCluster {
  masterUrl: string;
  agentUrls: string[];
  stop(): Promise<void>;
}

interface Routed {
  local: string[];
  master: string[];
  agent: string[];
}

function flagName(arg: string): string {
  const body = arg.slice(2);
  const eq = body.indexOf('=');
  return (eq >= 0 ? body.slice(0, eq) : body).replace(/-/g, '_');
}

/** Sends each flag to the local runner, the master, the agents, or both daemons. */
export function routeFlags(argv: string[]): Routed {
  const master = new Map(MASTER_FLAGS.map((f) => [f.name, f]));
  const agent = new Map(AGENT_FLAGS.map((f) => [f.name, f]));
  const out: Routed = { local: [], master: [], agent: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new FlagsError(`Unexpected argument '${arg}'`);
    let name = flagName(arg);
    const negated = name.startsWith('no_') && !master.has(name) && !agent.has(name) && !LOCAL_NAMES.has(name);
    if (negated) name = name.slice(3);
    const spec = LOCAL_FLAGS.find((f) => f.name === name) ?? master.get(name) ?? agent.get(name);
    if (!spec) throw new FlagsError(`Failed to load unknown flag '${name}'`);
    // `--flag value` form: the value is the next argument.
    const words = [arg];
    if (!arg.includes('=') && spec.kind !== 'bool' && !negated) {
      const next = argv[i + 1];
      if (next === undefined) throw new FlagsError(`Failed to load flag '${name}': missing value`);
      words.push(next);
      i++;
    }
    if (LOCAL_NAMES.has(name)) out.local.push(...words);
    else {
      if (master.has(name) && !MANAGED.has(name)) out.master.push(...words);
      if (agent.has(name) && !MANAGED.has(name)) out.agent.push(...words);
    }
  }
  return out;
}

/** Starts the cluster; on any failure everything already started is stopped again. */
export async function startLocal(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<LocalCluster> {
  const routed = routeFlags(argv);
  const parsed = parseFlags(LOCAL_FLAGS, routed.local, env);
  const n = parsed.values.get('num_slaves') as number;
  if (!Number.isInteger(n) || n < 0) throw new FlagsError(`Invalid '--num_slaves' ${n}`);
  const ip = parsed.values.get('ip') as string;
  const port = parsed.values.get('port') as number;
  const workDir = parsed.values.get('work_dir') as string;
  mkdirSync(workDir, { recursive: true });

  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    // Agents first (they kill their tasks), then the master.
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const masterWork = join(workDir, 'master');
    mkdirSync(masterWork, { recursive: true });
    const master = await startMaster([`--ip=${ip}`, `--port=${port}`, `--work_dir=${masterWork}`, ...routed.master], { env });
    stops.push(() => master.stop());
    const agentUrls: string[] = [];
    for (let i = 0; i < n; i++) {
      const agentWork = join(workDir, `agent-${i}`);
      mkdirSync(agentWork, { recursive: true });
      const agent = await startAgent(
        [`--master=${ip}:${master.port}`, `--ip=${ip}`, '--port=0', `--work_dir=${agentWork}`, ...routed.agent],
        { env },
      );
      stops.push(() => agent.stop());
      agentUrls.push(agent.url);
    }
    return { masterUrl: master.url, agentUrls, stop: stopAll };
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
}

export async function run(argv: string[]): Promise<number> {
  const specs = [...LOCAL_FLAGS, ...MASTER_FLAGS.filter((f) => !MANAGED.has(f.name)), ...AGENT_FLAGS.filter((f) => !MANAGED.has(f.name))];
  if (wantsHelp(argv)) {
    process.stdout.write(`${flagsUsage('mesos-local', dedupe(specs))}\n`);
    return 0;
  }
  let cluster: LocalCluster;
  try {
    cluster = await startLocal(argv);
  } catch (err) {
    return reportStartError('mesos-local', dedupe(specs), err);
  }
  process.stdout.write(`Master started at ${cluster.masterUrl}\n`);
  cluster.agentUrls.forEach((url, i) => process.stdout.write(`Agent ${i} started at ${url}\n`));
  return untilSignal(async () => {
    // Remember every process we started (supervisors and their tasks) before they get reparented.
    const before = descendantPids(process.pid);
    await cluster.stop();
    const leftovers = killAll([...new Set([...before, ...descendantPids(process.pid)])]);
    if (leftovers.length > 0) process.stderr.write(`Killed ${leftovers.length} leftover process(es)\n`);
  });
}

function dedupe(specs: FlagSpec[]): FlagSpec[] {
  const seen = new Set<string>();
  return specs.filter((s) => (seen.has(s.name) ? false : (seen.add(s.name), true)));
}
