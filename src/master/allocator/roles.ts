// The role tree and the sorters over it (ALC-01): roles are path components (`eng/web/db`); a role's
// allocation includes its subroles'. Each node keeps its children, and its frameworks, in sorter
// order and re-places only what changed, so a round with no allocations never sorts.
import type { Client } from './state.js';

/** 'priority' (strict-priority policy): roles by weight, highest first, regardless of shares. */
export type SorterKind = 'drf' | 'random' | 'priority';

/** Sorting context shared by every node: cluster totals, excluded names, and a version bumped when they change. */
export interface ShareContext {
  totals: number[];
  excluded: boolean[];
  version: number;
  roleSorter: SorterKind;
  frameworkSorter: SorterKind;
  random: () => number;
}

export function share(alloc: number[], weight: number, ctx: ShareContext): number {
  let best = 0;
  const t = ctx.totals;
  for (let i = 0; i < alloc.length; i++) {
    const a = alloc[i];
    if (!a || ctx.excluded[i]) continue;
    const total = t[i];
    if (!total) continue;
    const s = a / total;
    if (s > best) best = s;
  }
  return best / (weight > 0 ? weight : 1);
}

/** One sortable thing: a role subtree, a role's own frameworks (the "." leaf), or a framework client. */
export interface Sortable {
  readonly path: string;
  /** The sort key as of the last refresh(): share and allocation count. */
  shareCache: number;
  keyCount: number;
  shareVersion: number;
  stale: boolean;
}

export function compare(a: Sortable, b: Sortable): number {
  if (a.shareCache !== b.shareCache) return a.shareCache < b.shareCache ? -1 : 1;
  if (a.keyCount !== b.keyCount) return a.keyCount - b.keyCount;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** A role's own frameworks, sorted among its subroles when the role has both. */
class SelfLeaf implements Sortable {
  shareCache = 0;
  keyCount = 0;
  shareVersion = -1;
  stale = true;
  constructor(readonly node: RoleNode) {}
  get path(): string {
    return this.node.path + '/.';
  }
  refresh(ctx: ShareContext): void {
    if (this.stale || this.shareVersion !== ctx.version) {
      this.shareCache = share(this.node.own, this.node.weight, ctx);
      this.keyCount = this.node.ownCount;
      this.shareVersion = ctx.version;
      this.stale = false;
    }
  }
}

export class RoleNode implements Sortable {
  readonly children: RoleNode[] = [];
  readonly childByName = new Map<string, RoleNode>();
  /** This node and its ancestors, root-most first: `chain[d]` is the ancestor at depth d. */
  readonly chain: RoleNode[];
  readonly depth: number;
  weight = 1;
  /** Scalar allocations (thousandths by name index): own frameworks only, and the whole subtree. */
  readonly own: number[] = [];
  readonly subtree: number[] = [];
  ownCount = 0;
  count = 0;
  keyCount = 0;
  /** Some client here has its own offer_filters minimum (so the global one cannot rule the role out). */
  customMins = false;
  /** Frameworks subscribed to exactly this role. */
  readonly clients: Client[] = [];
  /** Active (not suppressed, framework active) clients here / in the whole subtree. */
  activeOwn = 0;
  activeSubtree = 0;
  shareCache = 0;
  shareVersion = -1;
  stale = true;

  // quota (ALC-10), thousandths by name index; undefined entries mean none.
  guarantees: number[] | undefined;
  limits: number[] | undefined;
  /** Reserved scalars (allocated or not) on all agents for this subtree. */
  readonly reserved: number[] = [];
  /** Unreserved non-revocable scalars offered or allocated to this subtree. */
  readonly unreservedAllocated: number[] = [];

  /** Sorted subtree items (own-frameworks leaf + active children) and sorted active clients. */
  private readonly items = new SortedList<RoleNode | SelfLeaf>();
  private readonly clientList = new BlockList<Client>();
  readonly leaf = new SelfLeaf(this);

  constructor(
    readonly idx: number,
    readonly path: string,
    readonly parent: RoleNode | undefined,
  ) {
    this.chain = parent ? [...parent.chain, this] : [this];
    this.depth = this.chain.length - 1;
    if (path === '') {
      this.chain = [];
      this.depth = -1;
    }
  }

  /** True when `role` is this role or one of its ancestors. */
  isSelfOrDescendantOf(role: RoleNode): boolean {
    return role.depth >= 0 && role.depth <= this.depth && this.chain[role.depth] === role;
  }

  refresh(ctx: ShareContext): void {
    if (this.stale || this.shareVersion !== ctx.version) {
      this.shareCache = share(this.subtree, this.weight, ctx);
      this.keyCount = this.count;
      this.shareVersion = ctx.version;
      this.stale = false;
    }
  }

  /** This node's allocation (its own or a descendant's) changed: its place among its siblings may too. */
  touched(ownChanged: boolean): void {
    this.stale = true;
    if (this.parent) this.parent.items.move(this);
    if (ownChanged) {
      this.leaf.stale = true;
      this.items.move(this.leaf);
    }
  }

  /** A client's allocation changed. */
  clientMoved(c: Client): void {
    c.stale = true;
    this.clientList.move(c);
  }

  /** Framework membership or activity changed. */
  clientsChanged(): void {
    this.clientList.invalidate();
  }

  /** Children membership, activity or weights changed. */
  invalidateOrder(): void {
    this.items.invalidate();
  }

  /** Active clients in framework-sorter order, as blocks. Valid until the next call for this role. */
  sortedClients(ctx: ShareContext): Client[][] {
    if (ctx.frameworkSorter === 'random') {
      const list = this.clients.filter((c) => c.active);
      return [weightedShuffle(list, () => 1, ctx.random)];
    }
    return this.clientList.get(ctx, () => this.clients.filter((c) => c.active));
  }

  /** Appends the roles of this subtree that have active frameworks, in role-sorter order. */
  flatten(ctx: ShareContext, out: RoleNode[]): void {
    if (this.activeSubtree === 0) return;
    if (this.children.length === 0) {
      if (this.depth >= 0) out.push(this);
      return;
    }
    for (const item of this.sortedItems(ctx)) {
      if (item instanceof SelfLeaf) out.push(item.node);
      else item.flatten(ctx, out);
    }
  }

  /** The sorted items of this node (valid until the next call). */
  sortedItems(ctx: ShareContext): Array<RoleNode | SelfLeaf> {
    const members = () => {
      const items: Array<RoleNode | SelfLeaf> = [];
      if (this.activeOwn > 0 && this.depth >= 0 && this.children.length > 0) items.push(this.leaf);
      for (const c of this.children) if (c.activeSubtree > 0) items.push(c);
      return items;
    };
    if (ctx.roleSorter === 'random') return weightedShuffle(members(), weightOf, ctx.random);
    return this.items.get(ctx, members, ctx.roleSorter === 'priority' ? byPriority : compare);
  }
}

export interface Refreshable extends Sortable {
  refresh(ctx: ShareContext): void;
  /** Set while queued in a SortedList's moved list. */
  movedMark?: boolean;
}

/**
 * A list kept in sorter order. A member whose share changed is re-inserted at its new place
 * (binary search) on the next get(); membership or context changes re-sort the whole list. get()
 * reorders in place, so callers iterate a result only until they call get() again on the same list.
 */
export class SortedList<T extends Refreshable> {
  private items: T[] = [];
  private full = true;
  private version = -1;
  private moved: T[] = [];
  private cmp: ((a: Sortable, b: Sortable) => number) | undefined;

  invalidate(): void {
    this.full = true;
    for (const m of this.moved) m.movedMark = false;
    this.moved.length = 0;
  }

  move(x: T): void {
    if (this.full || x.movedMark) return;
    x.movedMark = true;
    this.moved.push(x);
  }

  get(ctx: ShareContext, members: () => T[], cmp: (a: Sortable, b: Sortable) => number): T[] {
    if (this.full || this.version !== ctx.version || this.cmp !== cmp) {
      this.invalidate();
      const items = members();
      if (cmp !== byPriority) for (const i of items) i.refresh(ctx);
      items.sort(cmp);
      this.items = items;
      this.full = false;
      this.version = ctx.version;
      this.cmp = cmp;
      return items;
    }
    if (this.moved.length > 0) {
      const items = this.items;
      const n = items.length;
      for (const x of this.moved) {
        x.movedMark = false;
        // x still carries its old key: binary search finds its current place.
        let lo = 0;
        let hi = n;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cmp(items[mid], x) < 0) lo = mid + 1;
          else hi = mid;
        }
        const at = lo < n && items[lo] === x ? lo : items.indexOf(x);
        if (at < 0) continue;
        if (cmp !== byPriority) x.refresh(ctx);
        // Move it to its new place: binary search, then one block shift.
        if (at + 1 < n && cmp(items[at + 1], x) < 0) {
          let l = at + 1;
          let h = n;
          while (l < h) {
            const mid = (l + h) >>> 1;
            if (cmp(items[mid], x) < 0) l = mid + 1;
            else h = mid;
          }
          // (A plain loop: Array#copyWithin is slow on JS arrays.)
          for (let i = at; i < l - 1; i++) items[i] = items[i + 1];
          items[l - 1] = x;
        } else if (at > 0 && cmp(items[at - 1], x) > 0) {
          let l = 0;
          let h = at;
          while (l < h) {
            const mid = (l + h) >>> 1;
            if (cmp(items[mid], x) <= 0) l = mid + 1;
            else h = mid;
          }
          for (let i = at; i > l; i--) items[i] = items[i - 1];
          items[l] = x;
        }
      }
      this.moved.length = 0;
    }
    return this.items;
  }
}

/** Block size of a BlockList: moves cost O(B + n/B) instead of O(n). */
const BLOCK = 64;

/**
 * The same contract as SortedList, stored as a list of sorted blocks so that re-placing a member
 * after its share changed does not shift the whole list (roles can have thousands of frameworks).
 * Callers iterate `for (const block of get()) for (const x of block)`.
 */
export class BlockList<T extends Refreshable> {
  private blocks: T[][] = [];
  private full = true;
  private version = -1;
  private moved: T[] = [];

  invalidate(): void {
    this.full = true;
    for (const m of this.moved) m.movedMark = false;
    this.moved.length = 0;
  }

  move(x: T): void {
    if (this.full || x.movedMark) return;
    x.movedMark = true;
    this.moved.push(x);
  }

  get(ctx: ShareContext, members: () => T[]): T[][] {
    if (this.full || this.version !== ctx.version) {
      this.invalidate();
      const items = members();
      for (const i of items) i.refresh(ctx);
      items.sort(compare);
      const blocks: T[][] = [];
      for (let i = 0; i < items.length; i += BLOCK) blocks.push(items.slice(i, i + BLOCK));
      this.blocks = blocks;
      this.full = false;
      this.version = ctx.version;
      return blocks;
    }
    if (this.moved.length > 0) {
      for (const x of this.moved) {
        x.movedMark = false;
        if (!this.remove(x)) continue;
        x.refresh(ctx);
        this.insert(x);
      }
      this.moved.length = 0;
    }
    return this.blocks;
  }

  /** Removes x, found by its old (not yet refreshed) key. */
  private remove(x: T): boolean {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = blocks[mid];
      if (compare(b[b.length - 1], x) < 0) lo = mid + 1;
      else hi = mid;
    }
    let bi = lo;
    let at = -1;
    if (bi < blocks.length) at = blocks[bi].indexOf(x);
    if (at < 0) {
      // Not where its key says (or not a member): look everywhere.
      for (bi = 0; bi < blocks.length; bi++) if ((at = blocks[bi].indexOf(x)) >= 0) break;
      if (at < 0) return false;
    }
    const b = blocks[bi];
    b.splice(at, 1);
    if (b.length === 0) blocks.splice(bi, 1);
    return true;
  }

  private insert(x: T): void {
    const blocks = this.blocks;
    if (blocks.length === 0) {
      blocks.push([x]);
      return;
    }
    // The first block whose last member sorts after x (else the last block).
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = blocks[mid];
      if (compare(b[b.length - 1], x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const bi = Math.min(lo, blocks.length - 1);
    const b = blocks[bi];
    let l = 0;
    let h = b.length;
    while (l < h) {
      const mid = (l + h) >>> 1;
      if (compare(b[mid], x) <= 0) l = mid + 1;
      else h = mid;
    }
    b.splice(l, 0, x);
    if (b.length > 2 * BLOCK) blocks.splice(bi + 1, 0, b.splice(BLOCK));
  }
}

function weightOf(i: Sortable): number {
  return i instanceof SelfLeaf ? i.node.weight : (i as RoleNode).weight;
}

/** Strict priority: heavier roles first; a role's own frameworks before its subroles at equal weight. */
function byPriority(a: Sortable, b: Sortable): number {
  const wa = weightOf(a);
  const wb = weightOf(b);
  if (wa !== wb) return wb - wa;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Weighted random order (a higher weight tends to come first): keys u^(1/w), largest first. */
function weightedShuffle<T>(items: T[], weight: (t: T) => number, random: () => number): T[] {
  const keyed = items.map((t) => {
    const w = weight(t);
    return { t, k: Math.pow(random(), 1 / (w > 0 ? w : 1)) };
  });
  keyed.sort((a, b) => b.k - a.k);
  return keyed.map((x) => x.t);
}

export class RoleTree {
  readonly root = new RoleNode(-1, '', undefined);
  readonly nodes: RoleNode[] = [];
  private byPath = new Map<string, RoleNode>();
  /** Bumped whenever any role's allocation or activity changes; the flat order is cached per version. */
  private flatVersion = -1;
  private flatCtxVersion = -1;
  private flat: RoleNode[] = [];
  changes = 0;
  /** Number of roles below the top level. */
  private nested = 0;

  find(path: string): RoleNode | undefined {
    return this.byPath.get(path);
  }

  /** The node for `path`, creating it and its ancestors. `path` must be a valid role other than ''. */
  get(path: string): RoleNode {
    let node = this.byPath.get(path);
    if (node) return node;
    const slash = path.lastIndexOf('/');
    const parent = slash > 0 ? this.get(path.slice(0, slash)) : this.root;
    node = new RoleNode(this.nodes.length, path, parent);
    this.nodes.push(node);
    this.byPath.set(path, node);
    parent.children.push(node);
    parent.childByName.set(path.slice(slash + 1), node);
    parent.invalidateOrder();
    if (parent !== this.root) this.nested++;
    this.changes++;
    return node;
  }

  /** Scalars (by name index) were allocated (+) or released (-) by a client of `node`. */
  allocationChanged(node: RoleNode, delta: number[], sign: number, countDelta: number): void {
    for (let i = 0; i < delta.length; i++) {
      const d = delta[i];
      if (!d) continue;
      node.own[i] = (node.own[i] ?? 0) + sign * d;
    }
    node.ownCount += countDelta;
    for (let n: RoleNode | undefined = node; n && n.depth >= 0; n = n.parent) {
      for (let i = 0; i < delta.length; i++) {
        const d = delta[i];
        if (!d) continue;
        n.subtree[i] = (n.subtree[i] ?? 0) + sign * d;
      }
      n.count += countDelta;
      n.touched(n === node);
    }
    this.changes++;
  }

  /** A client of `node` became active (+1) or inactive (-1). */
  activityChanged(node: RoleNode, delta: number): void {
    node.activeOwn += delta;
    node.clientsChanged();
    for (let n: RoleNode | undefined = node; n; n = n.parent) {
      n.activeSubtree += delta;
      n.invalidateOrder();
    }
    this.changes++;
  }

  /** Roles with active frameworks in role-sorter order (valid until the next call). */
  order(ctx: ShareContext): RoleNode[] {
    // Without nested roles the top level is the whole order.
    if (this.nested === 0) return this.root.sortedItems(ctx) as RoleNode[];
    if (ctx.roleSorter !== 'random' && this.flatVersion === this.changes && this.flatCtxVersion === ctx.version) return this.flat;
    const out: RoleNode[] = [];
    this.root.flatten(ctx, out);
    this.flat = out;
    this.flatVersion = this.changes;
    this.flatCtxVersion = ctx.version;
    return out;
  }
}
