// End to end: `--allocator` changes who gets offers. A real master (in process, real HTTP and
// libprocess on 127.0.0.1) runs with `--weights=hi=10,lo=1`; two v1 HTTP schedulers subscribe in
// roles `hi` and `lo`; then four identical agents register one after another. The same cluster
// under each policy:
//   hierarchical     weighted DRF shares the agents: hi 3, lo 1 (hi's weighted share stays lower);
//   strict-priority  hi gets every agent while it wants them; once hi declines them, lo gets them;
//   the example plugin (round-robin, compiled module path) ignores weights: whole agents in turn, 2 and 2.
// Time is a ManualClock shared by every part, advanced by the test, so rounds happen on its steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/common/clock.js';
import { startMaster } from '../../src/master/main.js';
import { startAgent } from '../../src/agent/main.js';
import { SchedulerClient } from '../../src/scheduler/client.js';
import type { Msg } from '../../src/scheduler/wire.js';

const PLUGIN = fileURLToPath(new URL('../../examples/allocator-plugin/index.js', import.meta.url));
const AGENT_RESOURCES = 'cpus:2;mem:512;disk:128;ports:[31000-31009]';
const AGENTS = 4;

type MasterHandle = Awaited<ReturnType<typeof startMaster>>;
type AgentHandle = Awaited<ReturnType<typeof startAgent>>;

/** Arrival order of offers across frameworks. */
let arrivals = 0;

interface Offer {
  seq: number;
  id: string;
  agentId: string;
  role: string;
  cpus: number;
}

class Framework {
  readonly offers: Offer[] = [];
  readonly client: SchedulerClient;
  constructor(master: MasterHandle, clock: ManualClock, readonly role: string) {
    this.client = new SchedulerClient({
      master: `127.0.0.1:${master.port}`,
      frameworkInfo: { user: userInfo().username, name: `policy-${role}`, roles: [role], capabilities: [{ type: 'MULTI_ROLE' }] },
      contentType: 'json',
      clock,
    });
    this.client.on('event', (e: Msg) => {
      if (e.type !== 'OFFERS') return;
      for (const o of e.offers?.offers ?? []) {
        const cpus = (o.resources ?? []).filter((r: Msg) => r.name === 'cpus').reduce((s: number, r: Msg) => s + Number(r.scalar?.value ?? 0), 0);
        this.offers.push({ seq: arrivals++, id: String(o.id.value), agentId: String(o.agent_id.value), role: String(o.allocation_info?.role), cpus });
      }
    });
  }

  agents(): string[] {
    return [...new Set(this.offers.map((o) => o.agentId))].sort();
  }
}

class PolicyCluster {
  readonly agents: AgentHandle[] = [];
  readonly frameworks: Framework[] = [];
  private constructor(readonly root: string, readonly clock: ManualClock, readonly master: MasterHandle) {}

  static async start(allocator: string): Promise<PolicyCluster> {
    const root = mkdtempSync(join(tmpdir(), 'meseta-alloc-e2e-'));
    const clock = new ManualClock(Date.now());
    let master: MasterHandle;
    try {
      master = await startMaster(
        [
          '--ip=127.0.0.1', '--port=0', '--registry=in_memory', `--work_dir=${join(root, 'master')}`,
          `--allocator=${allocator}`, '--weights=hi=10,lo=1', '--allocation_interval=100ms',
        ],
        { env: {}, clock },
      );
    } catch (e) {
      rmSync(root, { recursive: true, force: true });
      throw e;
    }
    return new PolicyCluster(root, clock, master);
  }

  async subscribe(role: string): Promise<Framework> {
    const f = new Framework(this.master, this.clock, role);
    this.frameworks.push(f);
    await f.client.subscribe();
    return f;
  }

  async addAgent(): Promise<void> {
    const i = this.agents.length;
    const agent = await startAgent(
      [`--master=127.0.0.1:${this.master.port}`, '--ip=127.0.0.1', '--port=0', `--work_dir=${join(this.root, `agent-${i}`)}`, `--resources=${AGENT_RESOURCES}`],
      { env: {}, clock: this.clock },
    );
    this.agents.push(agent);
  }

  /** Lets sockets run, then moves protocol time one allocation interval. */
  async step(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
    this.clock.advance(100);
  }

  /** Steps until `pred` holds (a generous real-time guard turns a hang into a clear failure). */
  async until(what: string, pred: () => boolean, guardMs = 20_000): Promise<void> {
    const deadline = Date.now() + guardMs;
    while (!pred()) {
      if (Date.now() > deadline) {
        const seen = this.frameworks.map((f) => `${f.role}: ${f.offers.map((o) => o.agentId.slice(-4)).join(',')}`).join('; ');
        throw new Error(`timed out waiting for ${what} (offers ${seen})`);
      }
      await this.step();
    }
  }

  offerCount(): number {
    return this.frameworks.reduce((s, f) => s + f.offers.length, 0);
  }

  /** Registers the agents one by one, each offered before the next one starts. */
  async addAgentsOneByOne(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const before = this.offerCount();
      await this.addAgent();
      await this.until(`an offer for agent ${i + 1}`, () => this.offerCount() > before);
    }
    // A few more rounds: nothing is left to offer, so nothing changes.
    for (let i = 0; i < 5; i++) await this.step();
  }

  async stop(): Promise<void> {
    for (const f of this.frameworks) f.client.close();
    for (const a of this.agents) await a.stop().catch(() => undefined);
    await this.master.stop().catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Every offer went to its framework's role and was for a whole agent. */
function assertWholeAgents(f: Framework): void {
  for (const o of f.offers) {
    assert.equal(o.role, f.role);
    assert.equal(o.cpus, 2, 'a whole agent per offer');
  }
}

test('--allocator=hierarchical: weighted DRF shares the agents between the roles (hi 3, lo 1)', async () => {
  const c = await PolicyCluster.start('hierarchical');
  try {
    const hi = await c.subscribe('hi');
    const lo = await c.subscribe('lo');
    await c.addAgentsOneByOne(AGENTS);
    assertWholeAgents(hi);
    assertWholeAgents(lo);
    assert.equal(hi.agents().length, 3, `hi was offered ${hi.agents()}`);
    assert.equal(lo.agents().length, 1, `lo was offered ${lo.agents()}`);
    assert.equal(new Set([...hi.agents(), ...lo.agents()]).size, AGENTS, 'no agent offered to both');
  } finally {
    await c.stop();
  }
});

test('--allocator=strict-priority: the heavier role gets every offer while it wants them', async () => {
  const c = await PolicyCluster.start('strict-priority');
  try {
    const hi = await c.subscribe('hi');
    const lo = await c.subscribe('lo');
    await c.addAgentsOneByOne(AGENTS);
    assertWholeAgents(hi);
    assert.equal(hi.agents().length, AGENTS, `hi was offered ${hi.agents()}`);
    assert.deepEqual(lo.offers, [], 'lo gets nothing while hi wants the agents');
    // hi stops wanting them (declines for an hour): now lo is served, agent by agent.
    await hi.client.decline(hi.offers.map((o) => ({ value: o.id })), { refuse_seconds: 3600 });
    await c.until('lo to be offered every agent', () => lo.agents().length === AGENTS);
    assertWholeAgents(lo);
    assert.deepEqual(lo.agents(), hi.agents());
    assert.equal(hi.offers.length, AGENTS, 'hi was not offered the agents again inside its filter');
  } finally {
    await c.stop();
  }
});

test('--allocator=<example plugin module>: round-robin hands whole agents out in turn, ignoring weights', async () => {
  const c = await PolicyCluster.start(PLUGIN);
  try {
    const hi = await c.subscribe('hi');
    const lo = await c.subscribe('lo');
    await c.addAgentsOneByOne(AGENTS);
    assertWholeAgents(hi);
    assertWholeAgents(lo);
    assert.equal(hi.agents().length, 2, `hi was offered ${hi.agents()}`);
    assert.equal(lo.agents().length, 2, `lo was offered ${lo.agents()}`);
    assert.equal(new Set([...hi.agents(), ...lo.agents()]).size, AGENTS, 'no agent offered to both');
    // The offers alternate between the frameworks in the order the agents came.
    const owners = [...hi.offers, ...lo.offers].sort((a, b) => a.seq - b.seq).map((o) => o.role);
    for (let i = 1; i < owners.length; i++) assert.notEqual(owners[i], owners[i - 1], `turns: ${owners}`);
  } finally {
    await c.stop();
  }
});

test('an unknown --allocator name or a broken module stops the master from starting, with a clear error', async () => {
  const root = mkdtempSync(join(tmpdir(), 'meseta-alloc-e2e-'));
  try {
    const base = ['--ip=127.0.0.1', '--port=0', '--registry=in_memory', `--work_dir=${join(root, 'master')}`];
    await assert.rejects(startMaster([...base, '--allocator=no-such-policy'], { env: {} }), /Unknown allocator 'no-such-policy'/);
    await assert.rejects(startMaster([...base, `--allocator=${join(root, 'missing.js')}`], { env: {} }), /Failed to load allocator module/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
