// The immutable Resources value type (RES-10). Entries are kept merged wherever Mesos would merge
// them, so accessors are simple scans over a short array.
import { type Entry, type Msg, addEntry, subtractEntry, containsEntry, withIdentity } from './entry.js';
import { entryFromProto, postProto, cachedPostProto, preProto, reservationRole, isReserved } from './proto.js';
import { parseResourceEntries } from './parse.js';
import { entryToString, legacyJson } from './format.js';
import { ResourcesError, fromMilli, rangesUnion, rangesSize, setUnion, type Range } from './values.js';
import { isStrictSubrole } from './roles.js';
import { applyOperation } from './operations.js';

export interface ToProtoOptions {
  /** Emit the post-refinement format (`reservations` only). */
  refinement?: boolean;
  /** Emit Mesos's HTTP endpoint format (pre-refinement fields plus the `reservations` stack). */
  endpoint?: boolean;
}

const EMPTY_ENTRIES: readonly Entry[] = Object.freeze([]) as readonly Entry[];

export class Resources {
  private quantitiesCache: Map<string, number> | undefined;
  private legacyCache: Record<string, number | string> | undefined;
  /** The last allocate() result: offers and tasks allocate the same value to the same role repeatedly. */
  private allocated: { role: string; value: Resources } | undefined;

  private constructor(private readonly entries: readonly Entry[]) {}

  private static readonly EMPTY = new Resources(EMPTY_ENTRIES);

  static empty(): Resources {
    return Resources.EMPTY;
  }

  /** Internal: `entries` must already be merged (no two addable entries). */
  private static of(entries: readonly Entry[]): Resources {
    return entries.length === 0 ? Resources.EMPTY : new Resources(entries);
  }

  private static merged(entries: Iterable<Entry>): Resources {
    const list: Entry[] = [];
    for (const e of entries) addEntry(list, e);
    return Resources.of(list);
  }

  /** Sum of many values (one pass, cheaper than chained plus()). */
  static sum(items: Iterable<Resources>): Resources {
    const list: Entry[] = [];
    for (const r of items) for (const e of r.entries) addEntry(list, e);
    return Resources.of(list);
  }

  /** See reservationRole() in index.ts. */
  static reservationRole(r: Msg): string {
    return reservationRole(r);
  }

  static isReserved(r: Msg): boolean {
    return isReserved(r);
  }

  /** The `--resources` flag: a JSON array of Resource messages, else `name(role):value;...`. */
  static parse(text: string, defaultRole = '*'): Resources {
    return Resources.merged(parseResourceEntries(text, defaultRole));
  }

  /**
   * Validates and normalises Resource messages in either reservation format. Throws ResourcesError
   * naming the offending entry.
   */
  static fromProto(list: readonly Msg[] | undefined | null): Resources {
    if (list === undefined || list === null) return Resources.EMPTY;
    if (!Array.isArray(list)) throw new ResourcesError('Resources must be an array of Resource objects');
    const out: Entry[] = [];
    for (let i = 0; i < list.length; i++) {
      let e: Entry;
      try {
        e = entryFromProto(list[i]);
      } catch (err) {
        throw new ResourcesError(list.length > 1 ? `Invalid resource at index ${i}: ${(err as Error).message}` : (err as Error).message);
      }
      addEntry(out, e);
    }
    return Resources.of(out);
  }

  /** Post-refinement objects cached on the entries: read-only, for hot paths that only look. */
  views(): readonly Msg[] {
    return this.entries.map(cachedPostProto);
  }

  /** Resource objects (post-refinement format), freshly built. */
  toArray(): Msg[] {
    return this.entries.map(postProto);
  }

  /** Default: the pre-refinement format; `{refinement: true}`: post-refinement; `{endpoint: true}`: both. */
  toProto(opts?: ToProtoOptions): Msg[] {
    if (opts?.refinement) return this.entries.map(postProto);
    const endpoint = opts?.endpoint === true;
    return this.entries.map((e) => preProto(e, endpoint));
  }

  get size(): number {
    return this.entries.length;
  }

  isEmpty(): boolean {
    return this.entries.length === 0;
  }

  // ---- arithmetic ----

  plus(other: Resources): Resources {
    if (other.entries.length === 0) return this;
    if (this.entries.length === 0) return other;
    const list = this.entries.slice();
    for (const e of other.entries) addEntry(list, e);
    return Resources.of(list);
  }

  /** Subtracts what is there; scalars that would go negative are dropped, ranges split, sets shrink. */
  minus(other: Resources): Resources {
    if (other.entries.length === 0 || this.entries.length === 0) return this;
    const list = this.entries.slice();
    for (const e of other.entries) subtractEntry(list, e);
    return Resources.of(list);
  }

  contains(other: Resources): boolean {
    let remaining = this.entries as Entry[];
    let copied = false;
    for (const e of other.entries) {
      if (!containsEntry(remaining, e)) return false;
      // Persistent volumes are consumed as they are matched.
      if (e.disk?.persistence !== undefined) {
        if (!copied) { remaining = remaining.slice(); copied = true; }
        subtractEntry(remaining, e);
      }
    }
    return true;
  }

  equals(other: Resources): boolean {
    if (this === other) return true;
    return this.contains(other) && other.contains(this);
  }

  // ---- accessors ----

  /** Sum of the scalar resource `name` over all roles and flavours. */
  scalar(name: string): number {
    let m = 0;
    for (const e of this.entries) if (e.name === name && e.type === 'SCALAR') m += e.milli;
    return fromMilli(m);
  }

  /** Union of the ranges of resource `name`, coalesced and sorted. */
  ranges(name: string): Array<[number, number]> {
    let r: readonly Range[] = [];
    for (const e of this.entries) if (e.name === name && e.type === 'RANGES') r = rangesUnion(r, e.ranges);
    return r.map(([b, e]) => [b, e]);
  }

  /** Union of the items of set resource `name`. */
  set(name: string): string[] {
    let s: readonly string[] = [];
    for (const e of this.entries) if (e.name === name && e.type === 'SET') s = setUnion(s, e.items);
    return s.slice();
  }

  names(): string[] {
    const out: string[] = [];
    for (const e of this.entries) if (!out.includes(e.name)) out.push(e.name);
    return out;
  }

  /** name -> scalar sum / number of range elements / number of set items (Mesos's ResourceQuantities). */
  quantities(): Map<string, number> {
    return new Map(this.quantityMap());
  }

  /** The quantity of one name (see quantities()). */
  quantity(name: string): number {
    return this.quantityMap().get(name) ?? 0;
  }

  private quantityMap(): Map<string, number> {
    if (this.quantitiesCache) return this.quantitiesCache;
    const milli = new Map<string, number>();
    for (const e of this.entries) {
      const q = e.type === 'SCALAR' ? e.milli : e.type === 'RANGES' ? rangesSize(e.ranges) * 1000 : e.items.length * 1000;
      milli.set(e.name, (milli.get(e.name) ?? 0) + q);
    }
    const out = new Map<string, number>();
    for (const [k, v] of milli) out.set(k, fromMilli(v));
    this.quantitiesCache = out;
    return out;
  }

  /** True when, per name, the quantity here is at least the one requested (min-allocatable checks). */
  containsQuantities(q: ReadonlyMap<string, number> | Record<string, number>): boolean {
    const have = this.quantityMap();
    const pairs = q instanceof Map ? q.entries() : Object.entries(q);
    for (const [name, want] of pairs) {
      if (Math.round((have.get(name) ?? 0) * 1000) < Math.round(want * 1000)) return false;
    }
    return true;
  }

  // ---- filters ----

  filter(pred: (r: Msg) => boolean): Resources {
    return this.keep((e) => pred(cachedPostProto(e)));
  }

  private keep(pred: (e: Entry) => boolean): Resources {
    let out: Entry[] | undefined;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (pred(e)) {
        out?.push(e);
      } else if (!out) {
        out = this.entries.slice(0, i);
      }
    }
    return out === undefined ? this : Resources.of(out);
  }

  unreserved(): Resources {
    return this.keep((e) => e.reservations.length === 0);
  }

  /** Reserved resources; with `role`, only those whose (last) reservation is exactly that role. */
  reserved(role?: string): Resources {
    return role === undefined
      ? this.keep((e) => e.reservations.length > 0)
      : this.keep((e) => e.reservations.length > 0 && e.role === role);
  }

  /** Reserved to `role` or any role below it. */
  reservedToRoleSubtree(role: string): Resources {
    return this.keep((e) => e.reservations.length > 0 && (e.role === role || isStrictSubrole(e.role, role)));
  }

  /** Unreserved, or reserved to `role` or one of its ancestors. */
  allocatableTo(role: string): Resources {
    return this.keep((e) => e.reservations.length === 0 || e.role === role || isStrictSubrole(role, e.role));
  }

  revocable(): Resources {
    return this.keep((e) => e.revocable !== undefined);
  }

  nonRevocable(): Resources {
    return this.keep((e) => e.revocable === undefined);
  }

  shared(): Resources {
    return this.keep((e) => e.shared !== undefined);
  }

  nonShared(): Resources {
    return this.keep((e) => e.shared === undefined);
  }

  persistentVolumes(): Resources {
    return this.keep((e) => e.disk?.persistence !== undefined);
  }

  scalarsOnly(): Resources {
    return this.keep((e) => e.type === 'SCALAR');
  }

  /** Entries named `name`. */
  get(name: string): Resources {
    return this.keep((e) => e.name === name);
  }

  /** Reserved resources grouped by reservation role (Mesos's `reservations()`). */
  reservations(): Map<string, Resources> {
    const groups = new Map<string, Entry[]>();
    for (const e of this.entries) {
      if (e.reservations.length === 0) continue;
      let g = groups.get(e.role);
      if (!g) groups.set(e.role, (g = []));
      g.push(e);
    }
    const out = new Map<string, Resources>();
    for (const [role, list] of groups) out.set(role, Resources.of(list));
    return out;
  }

  /** All reservations removed (Mesos's `toUnreserved()`). */
  toUnreserved(): Resources {
    if (this.entries.every((e) => e.reservations.length === 0)) return this;
    return Resources.merged(this.entries.map((e) => (e.reservations.length === 0 ? e : withIdentity(e, { reservations: [] }))));
  }

  /** Pushes a reservation (`{type, role, principal?, labels?}`) on every entry. */
  pushReservation(reservation: Msg): Resources {
    return Resources.merged(this.entries.map((e) => {
      const stack = [...e.reservations, reservation];
      return entryFromProto({ ...postProto(e), reservations: stack });
    }));
  }

  /** Pops the last reservation of every reserved entry. */
  popReservation(): Resources {
    return Resources.merged(this.entries.map((e) =>
      e.reservations.length === 0 ? e : withIdentity(e, { reservations: e.reservations.slice(0, -1) })));
  }

  /** Resources after an `Offer.Operation` (RESERVE, UNRESERVE, CREATE, DESTROY, GROW/SHRINK_VOLUME, LAUNCH*). */
  apply(operation: Msg): Resources {
    return applyOperation(this, operation);
  }

  // ---- allocation ----

  /** Stamps `allocation_info.role` on every entry. */
  allocate(role: string): Resources {
    if (this.allocated?.role === role) return this.allocated.value;
    let value: Resources;
    if (this.entries.every((e) => e.allocation_info?.role === role)) {
      value = this;
    } else {
      const info = { role };
      value = Resources.merged(this.entries.map((e) => withIdentity(e, { allocation_info: info })));
    }
    this.allocated = { role, value };
    return value;
  }

  unallocate(): Resources {
    if (this.entries.every((e) => e.allocation_info === undefined)) return this;
    return Resources.merged(this.entries.map((e) => (e.allocation_info === undefined ? e : withIdentity(e, { allocation_info: undefined }))));
  }

  /** Allocated resources grouped by allocation role (unallocated ones are left out). */
  allocations(): Map<string, Resources> {
    const groups = new Map<string, Entry[]>();
    for (const e of this.entries) {
      const role = e.allocation_info?.role;
      if (role === undefined) continue;
      let g = groups.get(role);
      if (!g) groups.set(role, (g = []));
      g.push(e);
    }
    const out = new Map<string, Resources>();
    for (const [role, list] of groups) out.set(role, Resources.of(list));
    return out;
  }

  // ---- output ----

  /** `/master/state`-style object: cpus/gpus/mem/disk always present, ranges and sets as text. */
  toLegacyJson(): Record<string, number | string> {
    // Cached: /state renders the same (rarely changing) totals for every agent on every request.
    if (!this.legacyCache) this.legacyCache = legacyJson(this.entries);
    return { ...this.legacyCache };
  }

  /** `reserved_resources` of `/master/state`: role -> legacy JSON of what is reserved to it. */
  legacyReservedByRole(): Record<string, Record<string, number | string>> {
    const out: Record<string, Record<string, number | string>> = {};
    for (const [role, r] of this.reservations()) out[role] = legacyJson(r.entries);
    return out;
  }

  toString(): string {
    return this.entries.map(entryToString).join('; ');
  }

  toJSON(): Msg[] {
    return this.toArray();
  }
}
