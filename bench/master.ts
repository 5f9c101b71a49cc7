// `npm run bench -- master [--agents N] [--frameworks M] [--tasks T]`
//
// The master's event-loop work at scale, in process (no sockets: agent and scheduler messages are
// direct calls, outgoing messages are counted, the allocator is the real hierarchical one on a
// manual clock):
//   master.register_agents   time to register N agents (the registry in memory)
//   master.offer_cycle       one allocation round over all agents for M frameworks: offers created
//                            and sent, then every offer declined
//   master.launch            T tasks launched through ACCEPT, then one TASK_RUNNING update each
//   master.state_json        time to build /master/state and /metrics/snapshot with those tasks
// Prints one JSON line per scenario on stdout; progress goes to stderr.
import { ManualClock } from '../src/common/clock.js';
import { uuidBytes } from '../src/common/ids.js';
import { Resources } from '../src/resources/index.js';
import { HierarchicalAllocator } from '../src/master/allocator/hierarchical.js';
import type { Msg } from '../src/master/allocator/allocator.js';
import { Master, type MasterTransport } from '../src/master/master.js';
import type { EventSink } from '../src/master/records.js';
import { stateJson } from '../src/master/http/state.js';
import { metricsSnapshot } from '../src/master/http/metrics.js';
import { positiveIntArg } from './support/args.js';

const arg = (name: string, def: number): number =>
  positiveIntArg(name, 'usage: master [--agents N] [--frameworks M] [--tasks T]') ?? def;

const AGENTS = arg('agents', 10_000);
const FRAMEWORKS = arg('frameworks', 100);
const TASKS = arg('tasks', 20_000);
const ms = (t0: bigint) => Math.round((Number(process.hrtime.bigint() - t0) / 1e6) * 100) / 100;
const progress = (m: string) => process.stderr.write(`[master bench] ${m}\n`);

let sent = 0;
const transport: MasterTransport = {
  send: () => {
    sent++;
  },
  link: () => {},
  spawnObserver: () => ({ pid: 'slave-observer(1)@127.0.0.1:5050', send: () => {}, stop: () => {} }),
};

class CountingSink implements EventSink {
  readonly streamId = 'bench';
  events = 0;
  offers: Msg[] = [];
  send(event: Msg): void {
    this.events++;
    if (event.type === 'OFFERS') this.offers.push(...event.offers.offers);
  }
  close(): void {}
}

async function main(): Promise<void> {
  const clock = new ManualClock();
  const allocator = new HierarchicalAllocator();
  const info = { id: 'bench', ip: 0, port: 5050, pid: 'master@127.0.0.1:5050', hostname: 'bench', version: '1.11.0' };
  const master = new Master({
    id: 'bench', info, clock, allocator, transport, flags: {},
    settings: { agentPingTimeoutMs: 15_000, maxAgentPingTimeouts: 5, maxCompletedFrameworks: 50, maxCompletedTasksPerFramework: 1000, maxUnreachableTasksPerFramework: 1000 },
  });
  allocator.initialize({ clock, allocationIntervalMs: 1000 }, (fid, offers) => master.onAllocation(fid, offers));
  allocator.pause?.();

  const resources = Resources.parse('cpus:24;mem:65536;disk:100000;ports:[31000-32000]').toProto();
  const caps = [{ type: 'MULTI_ROLE' }, { type: 'HIERARCHICAL_ROLE' }, { type: 'RESERVATION_REFINEMENT' }];
  progress(`registering ${AGENTS} agents`);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < AGENTS; i++) {
    master.registerSlave(`slave(1)@10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:5051`, {
      slave: { hostname: `agent-${i}`, port: 5051, resources }, version: '1.11.0', agent_capabilities: caps,
    });
  }
  await new Promise((r) => setImmediate(r));
  console.log(JSON.stringify({ bench: 'master.register_agents', agents: AGENTS, ms: ms(t0), messages: sent }));

  const sinks: CountingSink[] = [];
  for (let i = 0; i < FRAMEWORKS; i++) {
    const sink = new CountingSink();
    sinks.push(sink);
    master.subscribe(sink, { framework_info: { user: 'bench', name: `fw-${i}` } });
  }
  progress(`allocation round for ${FRAMEWORKS} frameworks`);
  allocator.resume?.();
  t0 = process.hrtime.bigint();
  await allocator.allocate();
  const offerMs = ms(t0);
  const offers = sinks.reduce((n, s) => n + s.offers.length, 0);
  const frameworks = [...master.frameworks];
  t0 = process.hrtime.bigint();
  for (let i = 0; i < sinks.length; i++) {
    const ids = sinks[i]!.offers.map((o) => o.id);
    if (i === 0) continue; // framework 0 keeps its offers for the launch scenario
    master.decline(frameworks[i]!, { offer_ids: ids, filters: { refuse_seconds: 3600 } });
  }
  console.log(JSON.stringify({ bench: 'master.offer_cycle', agents: AGENTS, frameworks: FRAMEWORKS, offers, allocate_and_offer_ms: offerMs, decline_ms: ms(t0) }));

  const fw = frameworks[0]!;
  const own = sinks[0]!.offers;
  const perOffer = Math.max(1, Math.ceil(TASKS / Math.max(1, own.length)));
  progress(`launching ${TASKS} tasks over ${own.length} offers`);
  let launched = 0;
  t0 = process.hrtime.bigint();
  for (const offer of own) {
    const tasks: Msg[] = [];
    for (let j = 0; j < perOffer && launched < TASKS; j++, launched++) {
      tasks.push({
        name: `t${launched}`, task_id: { value: `t${launched}` }, agent_id: offer.agent_id, command: { value: 'true' },
        resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.01 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 1 } }],
      });
    }
    master.accept(fw, { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }] });
  }
  const launchMs = ms(t0);
  t0 = process.hrtime.bigint();
  for (const task of fw.tasks.values()) {
    const agent = master.agent(task.agentId)!;
    const uuid = uuidBytes();
    master.statusUpdate(agent.pid, {
      update: {
        framework_id: { value: fw.id }, slave_id: { value: agent.id }, timestamp: 1, uuid,
        status: { task_id: { value: task.id }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', agent_id: { value: agent.id }, uuid, timestamp: 1 },
      },
    });
  }
  console.log(JSON.stringify({ bench: 'master.launch', tasks: launched, launch_ms: launchMs, status_updates_ms: ms(t0) }));

  t0 = process.hrtime.bigint();
  const state = JSON.stringify(stateJson(master));
  const stateMs = ms(t0);
  t0 = process.hrtime.bigint();
  JSON.stringify(metricsSnapshot(master));
  console.log(JSON.stringify({ bench: 'master.state_json', agents: AGENTS, tasks: launched, state_ms: stateMs, state_bytes: state.length, metrics_ms: ms(t0) }));

  master.stop();
}

void main();
