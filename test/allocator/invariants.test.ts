// Property test: under random sequences of events, the allocator never offers more than an agent has,
// every resource is either available or held by exactly one framework, and reservations only reach
// their role's subtree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Resources } from '../../src/resources/index.js';
import { HierarchicalAllocator } from '../../src/master/allocator/hierarchical.js';
import { Harness, type Offer } from './helpers.js';

const ROLES = ['a', 'b', 'a/x', 'c'];
const AGENT_SHAPES = ['cpus:4;mem:1024;ports:[1-10]', 'cpus(a):2;mem(a):256;cpus:2;mem:512', 'cpus:1;mem:64;disk:100', 'cpus(b):1;mem(b):128'];

type Op =
  | { kind: 'agent'; shape: number }
  | { kind: 'framework'; roles: number[] }
  | { kind: 'round' }
  | { kind: 'decline'; pick: number; refuse: number | undefined }
  | { kind: 'launch'; pick: number }
  | { kind: 'finish'; pick: number }
  | { kind: 'suppress'; fw: number; role: number }
  | { kind: 'revive'; fw: number }
  | { kind: 'removeAgent'; pick: number }
  | { kind: 'removeFramework'; pick: number }
  | { kind: 'quota'; role: number; cpus: number }
  | { kind: 'tick'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('agent' as const), shape: fc.nat(AGENT_SHAPES.length - 1) }),
  fc.record({ kind: fc.constant('framework' as const), roles: fc.uniqueArray(fc.nat(ROLES.length - 1), { minLength: 1, maxLength: 2 }) }),
  fc.record({ kind: fc.constant('round' as const) }),
  fc.record({ kind: fc.constant('round' as const) }),
  fc.record({ kind: fc.constant('decline' as const), pick: fc.nat(), refuse: fc.option(fc.constantFrom(0, 1, 5, 100), { nil: undefined }) }),
  fc.record({ kind: fc.constant('launch' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('suppress' as const), fw: fc.nat(), role: fc.nat(ROLES.length - 1) }),
  fc.record({ kind: fc.constant('revive' as const), fw: fc.nat() }),
  fc.record({ kind: fc.constant('removeAgent' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('removeFramework' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('quota' as const), role: fc.constantFrom(0, 1, 3), cpus: fc.nat(6) }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(500, 1000, 6000) }),
);

function isUnder(role: string, reservedTo: string): boolean {
  return role === reservedTo || role.startsWith(reservedTo + '/');
}

test('allocations always add up to the agents\' totals', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
      const allocator = new HierarchicalAllocator();
      const h = new Harness(allocator);
      const agents = new Map<string, Resources>();
      const frameworks = new Map<string, string[]>();
      let offers: Offer[] = [];
      let running: Offer[] = [];
      let n = 0;
      const pick = <T>(list: T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);
      try {
        for (const o of ops) {
          switch (o.kind) {
            case 'agent': {
              const id = `ag${n++}`;
              agents.set(id, Resources.parse(AGENT_SHAPES[o.shape]));
              h.agent(id, AGENT_SHAPES[o.shape]);
              break;
            }
            case 'framework': {
              const id = `fw${n++}`;
              const roles = o.roles.map((i) => ROLES[i]);
              frameworks.set(id, roles);
              h.framework(id, roles);
              break;
            }
            case 'round': {
              const got = await h.round();
              for (const offer of got) {
                assert.ok(agents.has(offer.agentId));
                assert.ok(frameworks.get(offer.frameworkId)?.includes(offer.role), 'offered to a subscribed role');
                for (const m of offer.resources.toArray()) {
                  assert.equal(m.allocation_info?.role, offer.role);
                  const stack = m.reservations ?? [];
                  if (stack.length > 0) assert.ok(isUnder(offer.role, stack[stack.length - 1].role), 'reservation reached its subtree only');
                }
              }
              offers.push(...got);
              break;
            }
            case 'decline': {
              const offer = pick(offers, o.pick);
              if (!offer) break;
              offers = offers.filter((x) => x !== offer);
              h.decline(offer, o.refuse);
              break;
            }
            case 'launch': {
              const offer = pick(offers, o.pick);
              if (!offer) break;
              offers = offers.filter((x) => x !== offer);
              running.push(offer);
              break;
            }
            case 'finish': {
              const offer = pick(running, o.pick);
              if (!offer) break;
              running = running.filter((x) => x !== offer);
              h.decline(offer);
              break;
            }
            case 'suppress': {
              const fw = pick([...frameworks.keys()], o.fw);
              if (fw) allocator.suppressOffers(fw, [ROLES[o.role]]);
              break;
            }
            case 'revive': {
              const fw = pick([...frameworks.keys()], o.fw);
              if (fw) allocator.reviveOffers(fw, []);
              break;
            }
            case 'removeAgent': {
              const id = pick([...agents.keys()], o.pick);
              if (!id) break;
              agents.delete(id);
              allocator.removeAgent(id);
              offers = offers.filter((x) => x.agentId !== id);
              running = running.filter((x) => x.agentId !== id);
              break;
            }
            case 'removeFramework': {
              const id = pick([...frameworks.keys()], o.pick);
              if (!id) break;
              frameworks.delete(id);
              allocator.removeFramework(id);
              offers = offers.filter((x) => x.frameworkId !== id);
              running = running.filter((x) => x.frameworkId !== id);
              break;
            }
            case 'quota':
              allocator.updateQuota(ROLES[o.role], o.cpus === 0 ? {} : { guarantees: Resources.parse(`cpus:${o.cpus}`), limits: Resources.parse(`cpus:${o.cpus + 2}`) });
              break;
            case 'tick':
              h.clock.advance(o.ms);
              break;
          }
          // Invariant: per agent, available + everything held by frameworks == total, and what the
          // allocator says a framework holds is exactly its outstanding offers plus running tasks.
          for (const [id, total] of agents) {
            let sum = allocator.available(id);
            for (const fw of frameworks.keys()) {
              let held = Resources.empty();
              for (const res of allocator.allocation(fw, id).values()) held = held.plus(res.unallocate());
              let expected = Resources.empty();
              for (const x of [...offers, ...running]) if (x.frameworkId === fw && x.agentId === id) expected = expected.plus(x.resources.unallocate());
              assert.ok(held.equals(expected), `${fw} on ${id}: allocator ${held} vs model ${expected}`);
              sum = sum.plus(held);
            }
            assert.ok(sum.equals(total), `agent ${id}: ${sum} != ${total}`);
          }
        }
      } finally {
        h.close();
        h.take();
      }
    }),
    { numRuns: 100 },
  );
});
