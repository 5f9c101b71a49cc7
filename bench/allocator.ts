// `npm run bench -- allocator [--agents N --frameworks M] [--scenario NAME] [--rounds R]`
//
// Benchmarks of the hierarchical allocator, in the shapes of Mesos's allocator benchmarks:
//   allocator.decline_offers      agents `cpus:24;mem:4096;disk:4096;ports:[31000-32000]` with part in
//                                 use; every framework declines every offer with a huge refuse_seconds;
//                                 time per round and time to add all agents
//   allocator.suppress_offers     the same cluster, every framework suppressed after its first offers
//   allocator.large_and_small_quota  3,000 agents `cpus:2;mem:2048;disk:2048`, 2,500 small-quota and
//                                 500 large-quota roles, one framework each: full and empty round
//   allocator.add_and_update_agent  time to add N agents, then to update all of them
//   allocator.event_loop          max event-loop delay while a 50,000-agent round runs
// Prints one JSON line per scenario on stdout; progress goes to stderr.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ManualClock } from '../src/common/clock.js';
import { Resources } from '../src/resources/index.js';
import { HierarchicalAllocator } from '../src/master/allocator/hierarchical.js';
import type { Msg } from '../src/master/allocator/allocator.js';

function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

/** A positive integer flag, or undefined when absent; anything else ends the run with a usage line. */
function count(name: string): number | undefined {
  const v = arg(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive integer (got '${v}')\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

const USAGE = 'usage: allocator [--agents N] [--frameworks M] [--scenario decline_offers|suppress_offers|large_and_small_quota|add_and_update_agent|event_loop] [--rounds R]';
const SCENARIOS = ['decline_offers', 'suppress_offers', 'large_and_small_quota', 'add_and_update_agent', 'event_loop'];
// Either of --agents / --frameworks selects a single shape (the other defaults to 10,000 agents / 1,000 frameworks).
const SINGLE = arg('agents') !== undefined || arg('frameworks') !== undefined;
const AGENTS = SINGLE ? count('agents') ?? 10000 : undefined;
const FRAMEWORKS = SINGLE ? count('frameworks') ?? 1000 : undefined;
const SCENARIO = arg('scenario');
const ROUNDS = count('rounds') ?? 10;
if (SCENARIO !== undefined && !SCENARIOS.includes(SCENARIO)) {
  process.stderr.write(`unknown --scenario '${SCENARIO}'\n${USAGE}\n`);
  process.exit(2);
}
const CAPS = ['MULTI_ROLE', 'HIERARCHICAL_ROLE', 'RESERVATION_REFINEMENT'];
const HOUR_YEAR = 365 * 24 * 3600;

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const r2 = (n: number) => Math.round(n * 100) / 100;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const progress = (m: string) => process.stderr.write(`[allocator bench] ${m}\n`);
const gc = () => (globalThis as { gc?: () => void }).gc?.();

type OfferList = Array<[string, string, Resources]>;

function harness(): { allocator: HierarchicalAllocator; offers: OfferList; clock: ManualClock } {
  const clock = new ManualClock();
  const allocator = new HierarchicalAllocator();
  const offers: OfferList = [];
  allocator.initialize({ clock, allocationIntervalMs: 3_600_000 }, (fw, byRole) => {
    for (const byAgent of byRole.values()) for (const [agent, res] of byAgent) offers.push([fw, agent, res]);
  });
  return { allocator, offers, clock };
}

function frameworkInfo(id: string, role: string): Msg {
  return { user: 'bench', name: id, id: { value: id }, role, capabilities: [] };
}

const AGENT_TOTAL = Resources.parse('cpus:24;mem:4096;disk:4096;ports:[31000-32000]');
const AGENT_USED = Resources.parse('cpus:8;mem:1024;disk:1024;ports:[31000-31499]').allocate('*');

/** Adds `agents` agents, each with part of it used by one of the frameworks; returns the time taken. */
function addAgents(allocator: HierarchicalAllocator, agents: number, frameworks: number, prefix = 'agent'): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < agents; i++) {
    const used = new Map([[`fw-${i % frameworks}`, AGENT_USED]]);
    allocator.addAgent(`${prefix}-${i}`, { hostname: `${prefix}-${i}` }, CAPS, AGENT_TOTAL, used);
  }
  return ms(t0);
}

async function declineOffers(agents: number, frameworks: number): Promise<void> {
  gc();
  const { allocator, offers } = harness();
  for (let f = 0; f < frameworks; f++) allocator.addFramework(`fw-${f}`, frameworkInfo(`fw-${f}`, '*'), new Map(), true, []);
  const addMs = addAgents(allocator, agents, frameworks);
  const rounds: number[] = [];
  const declines: number[] = [];
  let offered = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    await allocator.allocate();
    rounds.push(ms(t0));
    offered += offers.length;
    const t1 = process.hrtime.bigint();
    for (const [fw, agent, res] of offers.splice(0)) allocator.recoverResources(fw, agent, res, HOUR_YEAR);
    declines.push(ms(t1));
  }
  allocator.close();
  console.log(JSON.stringify({
    bench: 'allocator.decline_offers', agents, frameworks, rounds: ROUNDS,
    round_ms_median: r2(median(rounds)), round_ms_max: r2(Math.max(...rounds)),
    add_agents_ms: r2(addMs), decline_all_ms_median: r2(median(declines)), offers_per_round: Math.round(offered / ROUNDS),
  }));
}

async function suppressOffers(agents: number, frameworks: number): Promise<void> {
  gc();
  const { allocator, offers } = harness();
  for (let f = 0; f < frameworks; f++) allocator.addFramework(`fw-${f}`, frameworkInfo(`fw-${f}`, '*'), new Map(), true, []);
  addAgents(allocator, agents, frameworks);
  const rounds: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    await allocator.allocate();
    rounds.push(ms(t0));
    // Every offered framework declines (no filter) and suppresses: later rounds have nobody to offer to.
    for (const [fw, agent, res] of offers.splice(0)) {
      allocator.recoverResources(fw, agent, res);
      allocator.suppressOffers(fw, []);
    }
  }
  allocator.close();
  console.log(JSON.stringify({
    bench: 'allocator.suppress_offers', agents, frameworks, rounds: ROUNDS,
    first_round_ms: r2(rounds[0]), round_ms_median: r2(median(rounds.slice(1))),
  }));
}

async function largeAndSmallQuota(): Promise<void> {
  gc();
  const agents = AGENTS ?? 3000;
  const small = 2500;
  const large = 500;
  const { allocator, offers } = harness();
  const total = Resources.parse('cpus:2;mem:2048;disk:2048');
  for (let i = 0; i < agents; i++) allocator.addAgent(`agent-${i}`, { hostname: `agent-${i}` }, CAPS, total, new Map());
  const smallQuota = Resources.parse('cpus:0.5;mem:512');
  const largeQuota = Resources.parse('cpus:4;mem:4096');
  for (let i = 0; i < small + large; i++) {
    const role = i < small ? `small-${i}` : `large-${i}`;
    allocator.updateQuota(role, { guarantees: i < small ? smallQuota : largeQuota });
    allocator.addFramework(`fw-${i}`, frameworkInfo(`fw-${i}`, role), new Map(), true, []);
  }
  let t0 = process.hrtime.bigint();
  await allocator.allocate();
  const full = ms(t0);
  const offered = offers.splice(0).length;
  // Everything is out on offer: the next round finds nothing to give.
  t0 = process.hrtime.bigint();
  await allocator.allocate();
  const empty = ms(t0);
  allocator.close();
  console.log(JSON.stringify({
    bench: 'allocator.large_and_small_quota', agents, small_quota_roles: small, large_quota_roles: large,
    full_round_ms: r2(full), empty_round_ms: r2(empty), offers: offered,
  }));
}

async function addAndUpdateAgent(agents: number, frameworks: number): Promise<void> {
  gc();
  const { allocator } = harness();
  for (let f = 0; f < frameworks; f++) allocator.addFramework(`fw-${f}`, frameworkInfo(`fw-${f}`, '*'), new Map(), true, []);
  allocator.pause();
  const addMs = addAgents(allocator, agents, frameworks);
  const bigger = Resources.parse('cpus:32;mem:8192;disk:4096;ports:[31000-32000]');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < agents; i++) allocator.updateAgent(`agent-${i}`, { hostname: `agent-${i}` }, bigger, CAPS);
  const updateMs = ms(t0);
  allocator.close();
  console.log(JSON.stringify({ bench: 'allocator.add_and_update_agent', agents, frameworks, add_agents_ms: r2(addMs), update_agents_ms: r2(updateMs) }));
}

async function eventLoop(agents: number, frameworks: number): Promise<void> {
  gc();
  const { allocator, offers } = harness();
  for (let f = 0; f < frameworks; f++) allocator.addFramework(`fw-${f}`, frameworkInfo(`fw-${f}`, '*'), new Map(), true, []);
  addAgents(allocator, agents, frameworks);
  const h = monitorEventLoopDelay({ resolution: 1 });
  // Keep a timer ticking so the histogram sees the loop's responsiveness during the round.
  const tick = setInterval(() => {}, 1);
  h.enable();
  const t0 = process.hrtime.bigint();
  await allocator.allocate();
  const round = ms(t0);
  h.disable();
  clearInterval(tick);
  allocator.close();
  console.log(JSON.stringify({
    bench: 'allocator.event_loop', agents, frameworks, round_ms: r2(round), offers: offers.length,
    max_delay_ms: r2(h.max / 1e6), p99_delay_ms: r2(h.percentile(99) / 1e6), mean_delay_ms: r2(h.mean / 1e6),
  }));
}

const DECLINE_SIZES: Array<[number, number]> = [[1000, 50], [5000, 500], [10000, 1000], [20000, 2000], [50000, 1000]];

async function main(): Promise<void> {
  const only = (name: string) => SCENARIO === undefined || SCENARIO === name;
  const sizes: Array<[number, number]> = AGENTS !== undefined ? [[AGENTS, FRAMEWORKS ?? 1000]] : DECLINE_SIZES;
  if (only('decline_offers')) {
    for (const [a, f] of sizes) {
      progress(`decline_offers ${a}x${f}`);
      await declineOffers(a, f);
    }
  }
  if (only('suppress_offers')) {
    const [a, f] = AGENTS !== undefined ? [AGENTS, FRAMEWORKS ?? 1000] : [10000, 1000];
    progress(`suppress_offers ${a}x${f}`);
    await suppressOffers(a, f);
  }
  if (only('large_and_small_quota')) {
    progress('large_and_small_quota');
    await largeAndSmallQuota();
  }
  if (only('add_and_update_agent')) {
    const [a, f] = AGENTS !== undefined ? [AGENTS, FRAMEWORKS ?? 1000] : [10000, 1000];
    progress(`add_and_update_agent ${a}x${f}`);
    await addAndUpdateAgent(a, f);
  }
  if (only('event_loop')) {
    const [a, f] = AGENTS !== undefined ? [AGENTS, FRAMEWORKS ?? 1000] : [50000, 1000];
    progress(`event_loop ${a}x${f}`);
    await eventLoop(a, f);
  }
}

await main();
