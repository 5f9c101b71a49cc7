// The allocator's own resource representation. Every distinct kind of resource (name, type,
// reservation stack, disk, revocable, shared, provider) gets a dense integer "slot"; a set of
// resources is a short array of entries sorted by slot. Scalars are kept in Mesos's fixed point
// (integer thousandths), so arithmetic is exact and comparisons are integer compares.
import type { Msg } from './allocator.js';

export interface Entry {
  /** Slot index. */
  s: number;
  /** Quantity in thousandths: scalar value, or element count x 1000 for ranges and sets. */
  q: number;
  /** RANGES: flat sorted, coalesced [begin0, end0, begin1, end1, ...] (inclusive). */
  r?: number[];
  /** SET: sorted items. */
  set?: string[];
}

export type Bag = Entry[];

export interface Slot {
  idx: number;
  key: string;
  name: string;
  /** Index of `name` in the name table (shared by scalars, ranges and sets). */
  nameIdx: number;
  type: 'SCALAR' | 'RANGES' | 'SET';
  /** Innermost reservation role, or '*' when unreserved. */
  role: string;
  reserved: boolean;
  /** More than one reservation in the stack (a refined reservation). */
  refined: boolean;
  revocable: boolean;
  shared: boolean;
  /** Unreserved, non-revocable scalar: the kind quota limits and headroom apply to. */
  quotaScalar: boolean;
  /** The proto fields of the resource other than its value and allocation_info. */
  template: Msg;
}

function stable(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('base64'));
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(',')}}`;
}

/** The table of slots and resource names; one per allocator. */
export class SlotTable {
  readonly slots: Slot[] = [];
  readonly names: string[] = [];
  private byKey = new Map<string, number>();
  private nameIdx = new Map<string, number>();

  name(name: string): number {
    let i = this.nameIdx.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.nameIdx.set(name, i);
    }
    return i;
  }

  findName(name: string): number | undefined {
    return this.nameIdx.get(name);
  }

  /** `m` is in the post-refinement format (Resources.views()): the reservation stack is `reservations`. */
  slotOf(m: Msg): Slot {
    const reservations: Msg[] = m.reservations ?? [];
    const plain = !m.disk && !m.revocable && !m.shared && !m.provider_id && reservations.length === 0;
    const type = (m.type ?? 'SCALAR') as Slot['type'];
    const key = plain ? `${m.name}\u0000${type}` : `${m.name}\u0000${type}\u0000${stable([reservations, m.disk ?? null, !!m.revocable, !!m.shared, m.provider_id ?? null])}`;
    let i = this.byKey.get(key);
    if (i !== undefined) return this.slots[i];
    i = this.slots.length;
    const template: Msg = { name: m.name, type };
    if (reservations.length > 0) template.reservations = reservations;
    if (m.disk) template.disk = m.disk;
    if (m.revocable) template.revocable = {};
    if (m.shared) template.shared = {};
    if (m.provider_id) template.provider_id = m.provider_id;
    const role = reservations.length > 0 ? String(reservations[reservations.length - 1].role) : '*';
    const slot: Slot = {
      idx: i, key, name: String(m.name), nameIdx: this.name(String(m.name)), type, role,
      reserved: reservations.length > 0, refined: reservations.length > 1,
      revocable: !!m.revocable, shared: !!m.shared,
      quotaScalar: type === 'SCALAR' && reservations.length === 0 && !m.revocable,
      template,
    };
    this.slots.push(slot);
    this.byKey.set(key, i);
    return slot;
  }

  /** Converts post-refinement Resource messages into a bag (allocation_info is dropped; invalid/empty entries skipped). */
  fromMessages(msgs: Iterable<Msg>): Bag {
    let out: Bag = [];
    for (const m of msgs) {
      if (!m || typeof m.name !== 'string') continue;
      const slot = this.slotOf(m);
      let e: Entry | undefined;
      if (slot.type === 'SCALAR') {
        const v = Math.round(Number(m.scalar?.value ?? 0) * 1000);
        if (v > 0 && Number.isFinite(v)) e = { s: slot.idx, q: v };
      } else if (slot.type === 'RANGES') {
        const r = normRanges((m.ranges?.range ?? []).map((x: Msg) => [Number(x.begin), Number(x.end)] as [number, number]));
        if (r.length > 0) e = { s: slot.idx, q: rangeCount(r) * 1000, r };
      } else if (slot.type === 'SET') {
        const set = [...new Set<string>((m.set?.item ?? []).map(String))].sort();
        if (set.length > 0) e = { s: slot.idx, q: set.length * 1000, set };
      }
      if (e) out = add(out, [e]);
    }
    return out;
  }

  /** Resource messages for a bag, each stamped with `allocation_info.role` when a role is given. */
  toMessages(bag: Bag, role?: string): Msg[] {
    const out: Msg[] = [];
    for (const e of bag) {
      const slot = this.slots[e.s];
      const m: Msg = { ...slot.template };
      if (slot.type === 'SCALAR') m.scalar = { value: e.q / 1000 };
      else if (slot.type === 'RANGES') {
        const range: Msg[] = [];
        for (let i = 0; i < e.r!.length; i += 2) range.push({ begin: e.r![i], end: e.r![i + 1] });
        m.ranges = { range };
      } else m.set = { item: [...e.set!] };
      if (role !== undefined) m.allocation_info = { role };
      out.push(m);
    }
    return out;
  }
}

// ---- ranges on flat arrays ----

export function normRanges(pairs: Array<[number, number]>): number[] {
  const ok = pairs.filter(([b, e]) => Number.isFinite(b) && Number.isFinite(e) && b <= e).sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [b, e] of ok) {
    const n = out.length;
    if (n > 0 && b <= out[n - 1] + 1) {
      if (e > out[n - 1]) out[n - 1] = e;
    } else out.push(b, e);
  }
  return out;
}

export function rangeCount(r: number[]): number {
  let n = 0;
  for (let i = 0; i < r.length; i += 2) n += r[i + 1] - r[i] + 1;
  return n;
}

function rangeUnion(a: number[], b: number[]): number[] {
  // Linear merge of two sorted, coalesced interval lists.
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let lo: number;
    let hi: number;
    if (j >= b.length || (i < a.length && a[i] <= b[j])) {
      lo = a[i];
      hi = a[i + 1];
      i += 2;
    } else {
      lo = b[j];
      hi = b[j + 1];
      j += 2;
    }
    const n = out.length;
    if (n > 0 && lo <= out[n - 1] + 1) {
      if (hi > out[n - 1]) out[n - 1] = hi;
    } else out.push(lo, hi);
  }
  return out;
}

function rangeSubtract(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i += 2) {
    let lo = a[i];
    const hi = a[i + 1];
    while (j < b.length && b[j + 1] < lo) j += 2;
    let k = j;
    while (lo <= hi && k < b.length && b[k] <= hi) {
      if (b[k] > lo) out.push(lo, b[k] - 1);
      lo = Math.max(lo, b[k + 1] + 1);
      k += 2;
    }
    if (lo <= hi) out.push(lo, hi);
  }
  return out;
}

function rangeSubset(big: number[], small: number[]): boolean {
  let j = 0;
  for (let i = 0; i < small.length; i += 2) {
    while (j < big.length && big[j + 1] < small[i]) j += 2;
    if (j >= big.length || big[j] > small[i] || big[j + 1] < small[i + 1]) return false;
  }
  return true;
}

function setUnion(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
function setSubtract(a: string[], b: string[]): string[] {
  const s = new Set(b);
  return a.filter((x) => !s.has(x));
}
function setSubset(big: string[], small: string[]): boolean {
  const s = new Set(big);
  return small.every((x) => s.has(x));
}

// ---- bag arithmetic (entries sorted by slot; results are new arrays, inputs untouched) ----

function mergeEntry(x: Entry, y: Entry): Entry {
  if (x.r) {
    const r = rangeUnion(x.r, y.r!);
    return { s: x.s, q: rangeCount(r) * 1000, r };
  }
  if (x.set) {
    const set = setUnion(x.set, y.set!);
    return { s: x.s, q: set.length * 1000, set };
  }
  return { s: x.s, q: x.q + y.q };
}

function subEntry(x: Entry, y: Entry): Entry | undefined {
  if (x.r) {
    const r = rangeSubtract(x.r, y.r!);
    return r.length > 0 ? { s: x.s, q: rangeCount(r) * 1000, r } : undefined;
  }
  if (x.set) {
    const set = setSubtract(x.set, y.set!);
    return set.length > 0 ? { s: x.s, q: set.length * 1000, set } : undefined;
  }
  const q = x.q - y.q;
  return q > 0 ? { s: x.s, q } : undefined;
}

function entryContains(x: Entry, y: Entry): boolean {
  if (x.r) return rangeSubset(x.r, y.r!);
  if (x.set) return setSubset(x.set, y.set!);
  return x.q >= y.q;
}

export function add(a: Bag, b: Bag): Bag {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: Bag = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].s < b[j].s)) out.push(a[i++]);
    else if (i >= a.length || b[j].s < a[i].s) out.push(b[j++]);
    else out.push(mergeEntry(a[i++], b[j++]));
  }
  return out;
}

/** a - b; what b has beyond a is ignored (scalars never go negative). */
export function subtract(a: Bag, b: Bag): Bag {
  if (b.length === 0 || a.length === 0) return a;
  const out: Bag = [];
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    while (j < b.length && b[j].s < x.s) j++;
    if (j < b.length && b[j].s === x.s) {
      const d = subEntry(x, b[j]);
      if (d) out.push(d);
    } else out.push(x);
  }
  return out;
}

export function contains(a: Bag, b: Bag): boolean {
  let i = 0;
  for (let j = 0; j < b.length; j++) {
    const y = b[j];
    while (i < a.length && a[i].s < y.s) i++;
    if (i >= a.length || a[i].s !== y.s || !entryContains(a[i], y)) return false;
  }
  return true;
}

/** The entries of `bag` for which `keep(slot)` holds. */
export function select(bag: Bag, slots: Slot[], keep: (s: Slot) => boolean): Bag {
  let out: Bag | undefined;
  for (let i = 0; i < bag.length; i++) {
    if (!keep(slots[bag[i].s])) {
      if (!out) out = bag.slice(0, i);
    } else if (out) out.push(bag[i]);
  }
  return out ?? bag;
}

/** Adds each entry's quantity into `into[nameIdx]` (scaled by `sign`), optionally only some slots. */
export function accumulate(bag: Bag, slots: Slot[], into: number[], sign: number, onlyQuotaScalars = false): void {
  for (const e of bag) {
    const s = slots[e.s];
    if (onlyQuotaScalars ? !s.quotaScalar : s.type !== 'SCALAR' || s.revocable) continue;
    into[s.nameIdx] = (into[s.nameIdx] ?? 0) + sign * e.q;
  }
}

/** Per-name quantities of a bag (thousandths), written into `out` (which is zeroed first). */
export function quantities(bag: Bag, slots: Slot[], out: number[]): number[] {
  out.fill(0);
  for (const e of bag) {
    const n = slots[e.s].nameIdx;
    out[n] = (out[n] ?? 0) + e.q;
  }
  return out;
}
