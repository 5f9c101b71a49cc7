// Property tests (fast-check) of the hierarchical allocator over random clusters and event sequences.
// A small model plays the master: it keeps every outstanding offer and every running task, answers
// offers (decline with or without a filter, launch part and return the rest with a filter, as ACCEPT
// does), suppresses/revives, changes quota and removes agents and frameworks. After every step it
// checks, against its own bookkeeping and the allocator's introspection:
//   - no resource is offered twice or to two frameworks at once (each offer fits in what is free);
//   - offered + allocated + free == total on every agent (and in the allocator's metrics);
//   - no round pushes a role over its quota limit;
//   - a framework is never offered what it declined on an agent before its filter expires.
// A separate property checks that DRF shares converge to within one task's share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Resources } from '../../src/resources/index.js';
import { HierarchicalAllocator } from '../../src/master/allocator/hierarchical.js';
import type { Msg } from '../../src/master/allocator/allocator.js';
import { Harness, seeded, type Offer } from './helpers.js';

const ROLES = ['a', 'b', 'a/x', 'c'];
const TOP_ROLES = ['a', 'b', 'c'];
const AGENT_SHAPES = [
  'cpus:4;mem:1024;ports:[1-10]',
  'cpus(a):2;mem(a):256;cpus:2;mem:512',
  'cpus:1;mem:64;disk:100',
  'cpus(b):1;mem(b):128',
  'cpus:8;mem:4096;disk:1000;ports:[100-200,300-310]',
];
const INTERVAL_MS = 1000;
const EPS = 1e-9;

type Op =
  | { kind: 'agent'; shape: number }
  | { kind: 'framework'; roles: number[] }
  | { kind: 'round' }
  | { kind: 'decline'; pick: number; refuse: number | undefined }
  | { kind: 'launch'; pick: number; refuse: number | undefined }
  | { kind: 'finish'; pick: number }
  | { kind: 'suppress'; fw: number; role: number }
  | { kind: 'revive'; fw: number; role: number | undefined }
  | { kind: 'deactivateFramework'; fw: number }
  | { kind: 'activateFramework'; fw: number }
  | { kind: 'deactivateAgent'; pick: number }
  | { kind: 'activateAgent'; pick: number }
  | { kind: 'removeAgent'; pick: number }
  | { kind: 'removeFramework'; pick: number }
  | { kind: 'quota'; role: number; cpus: number; mem: number; guarantee: boolean }
  | { kind: 'tick'; ms: number };

const REFUSE = fc.option(fc.constantFrom(0, 0.5, 1, 2, 5, 100, -1), { nil: undefined });

/** Event arbitraries; `weights` tilts the mix towards what a property exercises. */
function ops(weights: Partial<Record<Op['kind'], number>> = {}): fc.Arbitrary<Op[]> {
  const w = (k: Op['kind'], d = 1) => weights[k] ?? d;
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: w('agent', 3), arbitrary: fc.record({ kind: fc.constant('agent' as const), shape: fc.nat(AGENT_SHAPES.length - 1) }) },
    { weight: w('framework', 2), arbitrary: fc.record({ kind: fc.constant('framework' as const), roles: fc.uniqueArray(fc.nat(ROLES.length - 1), { minLength: 1, maxLength: 3 }) }) },
    { weight: w('round', 5), arbitrary: fc.record({ kind: fc.constant('round' as const) }) },
    { weight: w('decline', 3), arbitrary: fc.record({ kind: fc.constant('decline' as const), pick: fc.nat(), refuse: REFUSE }) },
    { weight: w('launch', 3), arbitrary: fc.record({ kind: fc.constant('launch' as const), pick: fc.nat(), refuse: REFUSE }) },
    { weight: w('finish', 2), arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }) },
    { weight: w('suppress', 1), arbitrary: fc.record({ kind: fc.constant('suppress' as const), fw: fc.nat(), role: fc.nat(ROLES.length - 1) }) },
    { weight: w('revive', 1), arbitrary: fc.record({ kind: fc.constant('revive' as const), fw: fc.nat(), role: fc.option(fc.nat(ROLES.length - 1), { nil: undefined }) }) },
    { weight: w('deactivateFramework', 1), arbitrary: fc.record({ kind: fc.constant('deactivateFramework' as const), fw: fc.nat() }) },
    { weight: w('activateFramework', 1), arbitrary: fc.record({ kind: fc.constant('activateFramework' as const), fw: fc.nat() }) },
    { weight: w('deactivateAgent', 1), arbitrary: fc.record({ kind: fc.constant('deactivateAgent' as const), pick: fc.nat() }) },
    { weight: w('activateAgent', 1), arbitrary: fc.record({ kind: fc.constant('activateAgent' as const), pick: fc.nat() }) },
    { weight: w('removeAgent', 1), arbitrary: fc.record({ kind: fc.constant('removeAgent' as const), pick: fc.nat() }) },
    { weight: w('removeFramework', 1), arbitrary: fc.record({ kind: fc.constant('removeFramework' as const), pick: fc.nat() }) },
    {
      weight: w('quota', 1),
      arbitrary: fc.record({
        kind: fc.constant('quota' as const),
        role: fc.nat(TOP_ROLES.length - 1),
        cpus: fc.nat(8),
        mem: fc.constantFrom(0, 64, 300, 1000),
        guarantee: fc.boolean(),
      }),
    },
    { weight: w('tick', 2), arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(100, 500, 1000, 2500, 6000) }) },
  );
  // A random cluster (agents and frameworks) first, then a random event sequence.
  const cluster = fc.tuple(
    fc.array(fc.record({ kind: fc.constant('agent' as const), shape: fc.nat(AGENT_SHAPES.length - 1) }), { minLength: 1, maxLength: 6 }),
    fc.array(fc.record({ kind: fc.constant('framework' as const), roles: fc.uniqueArray(fc.nat(ROLES.length - 1), { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 4 }),
  );
  return fc
    .tuple(cluster, fc.array(op, { minLength: 10, maxLength: 60, size: 'max' }))
    .map(([[agents, frameworks], events]) => [...agents, ...frameworks, ...events]);
}

interface Filter {
  frameworkId: string;
  role: string;
  agentId: string;
  refused: Resources;
  expires: number;
}

function isUnder(role: string, ancestor: string): boolean {
  return role === ancestor || role.startsWith(ancestor + '/');
}

/** Sum of a scalar over resources that are unreserved and not revocable (what quota limits count). */
function unreservedScalar(res: Resources, name: string): number {
  let sum = 0;
  for (const m of res.toArray()) {
    if (m.name !== name || m.revocable || (m.reservations ?? []).length > 0 || (m.role !== undefined && m.role !== '*')) continue;
    sum += Number(m.scalar?.value ?? 0);
  }
  return sum;
}

/** Sum of a scalar over resources reserved to `role` or one of its subroles. */
function reservedScalar(res: Resources, name: string, role: string): number {
  let sum = 0;
  for (const m of res.toArray()) {
    const stack: Msg[] = m.reservations ?? [];
    const owner = stack.length > 0 ? stack[stack.length - 1].role : m.role && m.role !== '*' ? m.role : undefined;
    if (m.name !== name || owner === undefined || !isUnder(owner, role)) continue;
    sum += Number(m.scalar?.value ?? 0);
  }
  return sum;
}

/** Splits off half a cpu (or what there is) of the first cpus entry and some mem: a task's share of an offer. */
function splitTask(res: Resources): [Resources, Resources] | undefined {
  const msgs: Msg[] = [];
  for (const name of ['cpus', 'mem']) {
    const m = res.toArray().find((x) => x.name === name && Number(x.scalar?.value ?? 0) > 0);
    if (!m) continue;
    const v = Number(m.scalar.value);
    msgs.push({ ...m, scalar: { value: name === 'cpus' ? Math.min(0.5, v) : Math.min(32, v) } });
  }
  if (msgs.length === 0) return undefined;
  const task = Resources.fromProto(msgs);
  if (!res.contains(task)) return undefined;
  return [task, res.minus(task)];
}

interface Checks {
  conservation?: boolean;
  quota?: boolean;
  filters?: boolean;
}

/** Plays `list` against a fresh allocator as the master would, checking the invariants after each step. */
async function simulate(list: Op[], checks: Checks): Promise<void> {
  const allocator = new HierarchicalAllocator();
  const h = new Harness(allocator, { allocationIntervalMs: INTERVAL_MS });
  const agents = new Map<string, { total: Resources; active: boolean }>();
  const frameworks = new Map<string, { roles: string[]; active: boolean }>();
  let offers: Offer[] = [];
  let running: Offer[] = [];
  let filters: Filter[] = [];
  const limits = new Map<string, { cpus?: number; mem?: number }>();
  let n = 0;
  const pick = <T>(items: T[], i: number): T | undefined => (items.length === 0 ? undefined : items[i % items.length]);

  /** Resources the model believes held (offered or in use) on an agent, per framework or in all. */
  const held = (agentId: string, frameworkId?: string): Resources => {
    let sum = Resources.empty();
    for (const x of [...offers, ...running]) {
      if (x.agentId === agentId && (frameworkId === undefined || x.frameworkId === frameworkId)) sum = sum.plus(x.resources.unallocate());
    }
    return sum;
  };
  const consumption = (role: string, name: 'cpus' | 'mem'): number => {
    let sum = 0;
    for (const x of [...offers, ...running]) if (isUnder(x.role, role)) sum += unreservedScalar(x.resources, name);
    for (const a of agents.values()) sum += reservedScalar(a.total, name, role);
    return sum;
  };
  const addFilter = (o: Offer, resources: Resources, refuse: number | undefined): void => {
    if (refuse === undefined || refuse === 0) return;
    const secs = refuse < 0 ? 5 : refuse;
    filters.push({
      frameworkId: o.frameworkId, role: o.role, agentId: o.agentId, refused: resources.unallocate(),
      expires: h.clock.now() + Math.max(secs * 1000, INTERVAL_MS),
    });
  };
  // The master's answer to a rescind request: the offers on that agent go back at once, unfiltered
  // (an offer already accepted is no longer an offer: nothing happens).
  h.onRescind = (fw, agentId) => {
    for (const o of offers.filter((x) => x.frameworkId === fw && x.agentId === agentId)) allocator.recoverResources(fw, agentId, o.resources);
    offers = offers.filter((x) => !(x.frameworkId === fw && x.agentId === agentId));
  };

  try {
    for (const o of list) {
      switch (o.kind) {
        case 'agent': {
          const id = `ag${n++}`;
          agents.set(id, { total: Resources.parse(AGENT_SHAPES[o.shape]), active: true });
          h.agent(id, AGENT_SHAPES[o.shape]);
          break;
        }
        case 'framework': {
          const id = `fw${n++}`;
          const roles = o.roles.map((i) => ROLES[i]);
          frameworks.set(id, { roles, active: true });
          h.framework(id, roles);
          break;
        }
        case 'round': {
          const now = h.clock.now();
          const before = new Map<string, { cpus: number; mem: number }>();
          for (const role of limits.keys()) before.set(role, { cpus: consumption(role, 'cpus'), mem: consumption(role, 'mem') });
          const got = await h.round();
          const added = new Map<string, { cpus: number; mem: number }>();
          for (const offer of got) {
            const agent = agents.get(offer.agentId);
            const fw = frameworks.get(offer.frameworkId);
            assert.ok(agent, `offer on unknown agent ${offer.agentId}`);
            assert.ok(agent.active, `offer on deactivated agent ${offer.agentId}`);
            assert.ok(fw && fw.active, `offer to inactive or removed framework ${offer.frameworkId}`);
            assert.ok(fw.roles.includes(offer.role), 'offered to a subscribed role');
            // Never twice, never to two frameworks: every offer fits in what nobody holds.
            const free = agent.total.minus(held(offer.agentId));
            assert.ok(free.contains(offer.resources.unallocate()), `${offer.resources} offered on ${offer.agentId} where only ${free} is free`);
            if (checks.filters) {
              for (const f of filters) {
                if (f.frameworkId !== offer.frameworkId || f.role !== offer.role || f.agentId !== offer.agentId || f.expires <= now) continue;
                assert.ok(!f.refused.contains(offer.resources.unallocate()), `${offer.frameworkId} was offered ${offer.resources} on ${offer.agentId} inside its filter (until ${f.expires}, now ${now})`);
              }
            }
            offers.push(offer);
            for (const role of limits.keys()) {
              if (!isUnder(offer.role, role)) continue;
              const a = added.get(role) ?? { cpus: 0, mem: 0 };
              a.cpus += unreservedScalar(offer.resources, 'cpus');
              a.mem += unreservedScalar(offer.resources, 'mem');
              added.set(role, a);
            }
          }
          if (checks.quota) {
            // A round adds to a limited role at most the room left under its limit.
            for (const [role, limit] of limits) {
              const a = added.get(role) ?? { cpus: 0, mem: 0 };
              const b = before.get(role)!;
              if (limit.cpus !== undefined) assert.ok(a.cpus <= Math.max(0, limit.cpus - b.cpus) + EPS, `role ${role}: +${a.cpus} cpus over ${b.cpus} with limit ${limit.cpus}`);
              if (limit.mem !== undefined) assert.ok(a.mem <= Math.max(0, limit.mem - b.mem) + EPS, `role ${role}: +${a.mem} mem over ${b.mem} with limit ${limit.mem}`);
            }
          }
          break;
        }
        case 'decline': {
          const offer = pick(offers, o.pick);
          if (!offer) break;
          offers = offers.filter((x) => x !== offer);
          h.decline(offer, o.refuse);
          addFilter(offer, offer.resources, o.refuse);
          break;
        }
        case 'launch': {
          // ACCEPT with one task: the rest goes back with the call's filter.
          const offer = pick(offers, o.pick);
          if (!offer) break;
          const split = splitTask(offer.resources);
          offers = offers.filter((x) => x !== offer);
          if (!split) {
            h.decline(offer, o.refuse);
            addFilter(offer, offer.resources, o.refuse);
            break;
          }
          const [task, rest] = split;
          running.push({ ...offer, resources: task });
          if (!rest.isEmpty()) {
            allocator.recoverResources(offer.frameworkId, offer.agentId, rest, o.refuse);
            addFilter(offer, rest, o.refuse);
          }
          break;
        }
        case 'finish': {
          const task = pick(running, o.pick);
          if (!task) break;
          running = running.filter((x) => x !== task);
          allocator.recoverResources(task.frameworkId, task.agentId, task.resources);
          break;
        }
        case 'suppress': {
          const fw = pick([...frameworks.keys()], o.fw);
          if (fw) allocator.suppressOffers(fw, [ROLES[o.role]]);
          break;
        }
        case 'revive': {
          const fw = pick([...frameworks.keys()], o.fw);
          if (!fw) break;
          const roles = o.role === undefined ? [] : [ROLES[o.role]];
          allocator.reviveOffers(fw, roles);
          filters = filters.filter((f) => !(f.frameworkId === fw && (roles.length === 0 || roles.includes(f.role))));
          break;
        }
        case 'deactivateFramework': {
          const fw = pick([...frameworks.keys()], o.fw);
          if (!fw) break;
          // As the master does: outstanding offers come back first.
          for (const x of offers.filter((y) => y.frameworkId === fw)) allocator.recoverResources(fw, x.agentId, x.resources);
          offers = offers.filter((y) => y.frameworkId !== fw);
          allocator.deactivateFramework(fw);
          frameworks.get(fw)!.active = false;
          // Mesos drops a deactivated framework's filters.
          filters = filters.filter((f) => f.frameworkId !== fw);
          break;
        }
        case 'activateFramework': {
          const fw = pick([...frameworks.keys()], o.fw);
          if (!fw) break;
          allocator.activateFramework(fw);
          frameworks.get(fw)!.active = true;
          break;
        }
        case 'deactivateAgent':
        case 'activateAgent': {
          const id = pick([...agents.keys()], o.pick);
          if (!id) break;
          const active = o.kind === 'activateAgent';
          if (active) allocator.activateAgent(id);
          else allocator.deactivateAgent(id);
          agents.get(id)!.active = active;
          break;
        }
        case 'removeAgent': {
          const id = pick([...agents.keys()], o.pick);
          if (!id) break;
          agents.delete(id);
          allocator.removeAgent(id);
          offers = offers.filter((x) => x.agentId !== id);
          running = running.filter((x) => x.agentId !== id);
          filters = filters.filter((f) => f.agentId !== id);
          break;
        }
        case 'removeFramework': {
          const id = pick([...frameworks.keys()], o.pick);
          if (!id) break;
          frameworks.delete(id);
          allocator.removeFramework(id);
          offers = offers.filter((x) => x.frameworkId !== id);
          running = running.filter((x) => x.frameworkId !== id);
          filters = filters.filter((f) => f.frameworkId !== id);
          break;
        }
        case 'quota': {
          const role = TOP_ROLES[o.role];
          if (o.cpus === 0 && o.mem === 0) {
            allocator.updateQuota(role, {});
            limits.delete(role);
          } else {
            const text = [o.cpus > 0 ? `cpus:${o.cpus}` : '', o.mem > 0 ? `mem:${o.mem}` : ''].filter(Boolean).join(';');
            const q = Resources.parse(text);
            allocator.updateQuota(role, o.guarantee ? { guarantees: q, limits: q } : { limits: q });
            limits.set(role, { cpus: o.cpus > 0 ? o.cpus : undefined, mem: o.mem > 0 ? o.mem : undefined });
          }
          if (checks.quota) {
            // Rescinds bring the role back under its new limit unless what it has in use (tasks,
            // reservations) is over on its own.
            for (const [r, limit] of limits) {
              if (r !== role) continue;
              let inUse = 0;
              for (const t of running) if (isUnder(t.role, r)) inUse += unreservedScalar(t.resources, 'cpus');
              for (const a of agents.values()) inUse += reservedScalar(a.total, 'cpus', r);
              if (limit.cpus !== undefined) assert.ok(consumption(r, 'cpus') <= Math.max(limit.cpus, inUse) + EPS, `role ${r}: ${consumption(r, 'cpus')} cpus after rescinds, limit ${limit.cpus}, in use ${inUse}`);
            }
          }
          break;
        }
        case 'tick':
          h.clock.advance(o.ms);
          break;
      }
      if (!checks.conservation) continue;
      // offered + allocated + free == total, per agent and per framework as the allocator sees it.
      let totalCpus = 0;
      let heldCpus = 0;
      for (const [id, agent] of agents) {
        let sum = allocator.available(id);
        for (const fw of frameworks.keys()) {
          let mine = Resources.empty();
          for (const res of allocator.allocation(fw, id).values()) mine = mine.plus(res.unallocate());
          const expected = held(id, fw);
          assert.ok(mine.equals(expected), `${fw} on ${id}: allocator holds ${mine}, model ${expected}`);
          sum = sum.plus(mine);
        }
        assert.ok(sum.equals(agent.total), `agent ${id}: free + held = ${sum}, total ${agent.total}`);
        totalCpus += agent.total.scalar('cpus');
        heldCpus += held(id).scalar('cpus');
      }
      const m = allocator.metrics();
      assert.ok(Math.abs(m['allocator/mesos/resources/cpus/total'] - totalCpus) < 1e-6, `metric total ${m['allocator/mesos/resources/cpus/total']} != ${totalCpus}`);
      assert.ok(Math.abs(m['allocator/mesos/resources/cpus/offered_or_allocated'] - heldCpus) < 1e-6, `metric offered_or_allocated != ${heldCpus}`);
    }
  } finally {
    h.close();
    h.take();
  }
}

test('no resource is offered twice or to two frameworks; offered + allocated + free == total', async () => {
  await fc.assert(fc.asyncProperty(ops(), (list) => simulate(list, { conservation: true })), { numRuns: 120 });
});

test('a round never pushes a role over its quota limit (outstanding offers count); a lowered limit rescinds down to it', async () => {
  await fc.assert(
    fc.asyncProperty(ops({ quota: 6, finish: 1 }), (list) => simulate(list, { quota: true })),
    { numRuns: 120 },
  );
});

test('a declined agent is not offered to the declining framework before its filter expires', async () => {
  await fc.assert(
    fc.asyncProperty(ops({ decline: 6, launch: 4, tick: 4, quota: 0 }), (list) => simulate(list, { filters: true })),
    { numRuns: 300 },
  );
});

test('with equal weights and equal demands, DRF shares end within one task of each other', async () => {
  // Agents are whole multiples of the task (cpus:1;mem:128), so any offer fits a task. Each
  // framework wants tasks forever and launches at most one per round, declining the rest
  // without a filter; the cluster fills up and the task counts (their dominant shares) must
  // then differ by at most one task.
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 2, max: 5 }),
      fc.boolean(),
      fc.nat(),
      async (sizes, nFrameworks, ownRoles, seed) => {
        const h = new Harness(undefined, { random: seeded(seed) });
        try {
          sizes.forEach((k, i) => h.agent(`ag${i}`, `cpus:${k};mem:${128 * k}`));
          const capacity = sizes.reduce((s, k) => s + k, 0);
          const ids = Array.from({ length: nFrameworks }, (_, i) => `fw${i}`);
          for (const id of ids) h.framework(id, ownRoles ? `r${id}` : 'shared');
          const tasks = new Map(ids.map((id) => [id, 0]));
          const task = Resources.parse('cpus:1;mem:128');
          for (let round = 0; round <= capacity; round++) {
            const got = await h.round();
            if (got.length === 0) break;
            const launched = new Set<string>();
            for (const o of got) {
              const mine = o.resources.unallocate();
              assert.ok(mine.contains(task), `offer ${o.resources} cannot hold a task`);
              if (launched.has(o.frameworkId)) {
                h.decline(o);
                continue;
              }
              launched.add(o.frameworkId);
              tasks.set(o.frameworkId, tasks.get(o.frameworkId)! + 1);
              const rest = mine.minus(task);
              if (!rest.isEmpty()) h.allocator.recoverResources(o.frameworkId, o.agentId, rest.allocate(o.role));
            }
            const counts = [...tasks.values()];
            assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `after round ${round}: task counts ${counts}`);
          }
          const counts = [...tasks.values()];
          assert.equal(counts.reduce((s, c) => s + c, 0), capacity, 'the cluster filled up');
          assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `final task counts ${counts}`);
          if (ownRoles) {
            // The allocator's own dominant shares agree: within one task (1/capacity) of each other.
            const m = h.allocator.metrics?.() ?? {};
            const shares = ids.map((id) => m[`allocator/mesos/roles/r${id}/shares/dominant`]);
            assert.ok(Math.max(...shares) - Math.min(...shares) <= 1 / capacity + EPS, `dominant shares ${shares}`);
          }
        } finally {
          h.close();
        }
      },
    ),
    { numRuns: 150 },
  );
});
