// The incremental sorter lists must always equal a fresh sort of their members.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockList, SortedList, compare, type ShareContext } from '../../src/master/allocator/roles.js';

class Item {
  shareCache = 0;
  keyCount = 0;
  shareVersion = -1;
  stale = true;
  movedMark?: boolean;
  /** The live key; the list only sees it through refresh(). */
  share = 0;
  count = 0;
  constructor(readonly path: string) {}
  refresh(): void {
    this.shareCache = this.share;
    this.keyCount = this.count;
    this.stale = false;
  }
}

const ctx: ShareContext = { totals: [], excluded: [], version: 0, roleSorter: 'drf', frameworkSorter: 'drf', random: Math.random };

type Step = { kind: 'bump'; i: number; by: number } | { kind: 'drop'; i: number; by: number } | { kind: 'get' } | { kind: 'toggle'; i: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('bump' as const), i: fc.nat(), by: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('drop' as const), i: fc.nat(), by: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('get' as const) }),
  fc.record({ kind: fc.constant('toggle' as const), i: fc.nat() }),
);

test('SortedList and BlockList stay equal to a full sort under random share changes', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 400 }), fc.array(step, { maxLength: 300 }), (n, steps) => {
      // Each list gets its own items (an item belongs to one list, as in the allocator).
      const mk = () => Array.from({ length: n }, (_, i) => new Item(`i${String(i).padStart(4, '0')}`));
      const itemsA = mk();
      const itemsB = mk();
      const active = new Set<number>(itemsA.map((_, i) => i));
      const flat = new SortedList<Item>();
      const blocks = new BlockList<Item>();
      const membersOf = (items: Item[]) => () => items.filter((_, i) => active.has(i));
      const check = () => {
        const a = flat.get(ctx, membersOf(itemsA), compare).map((x) => x.path);
        const b = blocks.get(ctx, membersOf(itemsB)).flat().map((x) => x.path);
        const fresh = membersOf(itemsA)().map((x) => ({ path: x.path, shareCache: x.share, keyCount: x.count }));
        fresh.sort((x, y) => compare(x as never, y as never));
        const want = fresh.map((x) => x.path);
        assert.deepEqual(a, want);
        assert.deepEqual(b, want);
      };
      check();
      for (const s of steps) {
        if (s.kind === 'get') check();
        else if (s.kind === 'toggle') {
          const i = s.i % n;
          if (active.has(i)) active.delete(i);
          else active.add(i);
          flat.invalidate();
          blocks.invalidate();
        } else {
          for (const [items, list] of [[itemsA, flat], [itemsB, blocks]] as const) {
            const x = items[s.i % n];
            // Allocation raises the share and the count; a release lowers the share only.
            if (s.kind === 'bump') {
              x.share += s.by;
              x.count++;
            } else x.share = Math.max(0, x.share - s.by);
            x.stale = true;
            list.move(x);
          }
        }
      }
      check();
    }),
    { numRuns: 150 },
  );
});
