// One normalised Resource entry: the value in a compact form (scalar thousandths, coalesced ranges,
// set items) plus an identity key covering everything else, so that "addable"/"subtractable"
// (RES-10) reduce to a string comparison on the hot paths.
import {
  type Range, rangesUnion, rangesMinus, rangesContain, rangesEqual, setUnion, setMinus, setContains, setEqual,
} from './values.js';

/** Proto-shaped plain object (docs/architecture.md, "Message objects"). */
import type { Msg } from '../protocol/codec.js';
/** The one message-object type (docs/architecture.md, "Message objects"), re-exported for callers here. */
export type { Msg };

export type ValueType = 'SCALAR' | 'RANGES' | 'SET';

const NO_RANGES: readonly Range[] = Object.freeze([]) as readonly Range[];
const NO_ITEMS: readonly string[] = Object.freeze([]) as readonly string[];

export interface Entry {
  readonly name: string;
  readonly type: ValueType;
  /** SCALAR value in thousandths. */
  readonly milli: number;
  readonly ranges: readonly Range[];
  readonly items: readonly string[];
  /** Share count; 1 for non-shared entries. */
  readonly count: number;
  /** Post-refinement reservation stack; empty = unreserved. Never mutated. */
  readonly reservations: readonly Msg[];
  /** The last reservation's role, or `*`. */
  readonly role: string;
  readonly allocation_info: Msg | undefined;
  readonly disk: Msg | undefined;
  readonly revocable: Msg | undefined;
  readonly shared: Msg | undefined;
  readonly provider_id: Msg | undefined;
  /** Everything but the value: entries with different keys never combine. */
  readonly key: string;
  /** MOUNT/BLOCK disks, RAW disks with an id and persistent volumes: only whole, equal entries combine. */
  readonly atomic: boolean;
  /** Key parts reused when only the reservations or the allocation change. */
  readonly resKey: string;
  readonly restKey: string;
  /** Lazily built post-refinement object shared by filter predicates and Resources.views(); never to be modified. */
  post?: Msg;
}

/** Stable JSON (sorted keys) used to compare nested messages by value. */
export function canonical(v: unknown): string {
  if (v === undefined) return '';
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? '';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (Buffer.isBuffer(v)) return `b:${v.toString('base64')}`;
  const keys = Object.keys(v as object).filter((k) => (v as Msg)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Msg)[k])}`).join(',')}}`;
}

/** Identity of a (normalised) reservation stack; cheaper than canonical() on the common shapes. */
function reservationsKey(res: readonly Msg[]): string {
  let k = '';
  for (const r of res) {
    k += `${r.type}\u0002${r.role}\u0002${r.principal === undefined ? '\u0003' : `=${r.principal}`}\u0002${
      r.labels === undefined ? '' : canonical(r.labels)}\u0004`;
  }
  return k;
}

interface Parts {
  name: string;
  type: ValueType;
  milli: number;
  ranges: readonly Range[];
  items: readonly string[];
  count: number;
  reservations: readonly Msg[];
  allocation_info: Msg | undefined;
  disk: Msg | undefined;
  revocable: Msg | undefined;
  shared: Msg | undefined;
  provider_id: Msg | undefined;
}

export function makeEntry(p: Parts, resKey?: string, restKey?: string): Entry {
  const res = p.reservations;
  const role = res.length === 0 ? '*' : String(res[res.length - 1]!.role);
  if (resKey === undefined) resKey = res.length === 0 ? '' : reservationsKey(res);
  if (restKey === undefined) {
    restKey = `${p.disk ? canonical(p.disk) : ''}\u0001${p.revocable ? 'R' : ''}${p.shared ? 'S' : ''}\u0001${
      p.provider_id ? canonical(p.provider_id) : ''}`;
  }
  const alloc = p.allocation_info === undefined ? '' : p.allocation_info.role === undefined ? '-' : `+${p.allocation_info.role}`;
  const key = `${p.name}\u0001${p.type}\u0001${resKey}\u0001${alloc}\u0001${restKey}`;
  const source = p.disk?.source;
  const atomic = !!p.disk && (
    p.disk.persistence !== undefined ||
    source?.type === 'MOUNT' || source?.type === 'BLOCK' || (source?.type === 'RAW' && source.id !== undefined));
  return {
    name: p.name, type: p.type, milli: p.milli, ranges: p.ranges, items: p.items, count: p.count,
    reservations: res, role, allocation_info: p.allocation_info, disk: p.disk, revocable: p.revocable,
    shared: p.shared, provider_id: p.provider_id, key, atomic, resKey, restKey,
  };
}

/** Same identity, new value. */
function withValue(e: Entry, milli: number, ranges: readonly Range[], items: readonly string[], count: number): Entry {
  return {
    name: e.name, type: e.type, milli, ranges, items, count, reservations: e.reservations, role: e.role,
    allocation_info: e.allocation_info, disk: e.disk, revocable: e.revocable, shared: e.shared,
    provider_id: e.provider_id, key: e.key, atomic: e.atomic, resKey: e.resKey, restKey: e.restKey,
  };
}

/** Same value, new reservation stack and/or allocation (the key is recomputed from cached parts). */
export function withIdentity(e: Entry, changes: { reservations?: readonly Msg[]; allocation_info?: Msg | undefined }): Entry {
  const res = 'reservations' in changes ? changes.reservations! : e.reservations;
  return makeEntry({
    name: e.name, type: e.type, milli: e.milli, ranges: e.ranges, items: e.items, count: e.count,
    reservations: res, allocation_info: 'allocation_info' in changes ? changes.allocation_info : e.allocation_info,
    disk: e.disk, revocable: e.revocable, shared: e.shared, provider_id: e.provider_id,
  }, res === e.reservations ? e.resKey : undefined, e.restKey);
}

export function isEmptyEntry(e: Entry): boolean {
  if (e.count <= 0) return true;
  switch (e.type) {
    case 'SCALAR': return e.milli <= 0;
    case 'RANGES': return e.ranges.length === 0;
    default: return e.items.length === 0;
  }
}

export function valueEqual(a: Entry, b: Entry): boolean {
  switch (a.type) {
    case 'SCALAR': return a.milli === b.milli;
    case 'RANGES': return rangesEqual(a.ranges, b.ranges);
    default: return setEqual(a.items, b.items);
  }
}

function valueContains(a: Entry, b: Entry): boolean {
  switch (a.type) {
    case 'SCALAR': return b.milli <= a.milli;
    case 'RANGES': return rangesContain(a.ranges, b.ranges);
    default: return setContains(a.items, b.items);
  }
}

/** Adds `e` into `list` in place (merging into an addable entry, else appending). */
export function addEntry(list: Entry[], e: Entry): void {
  if (isEmptyEntry(e)) return;
  if (e.shared || !e.atomic) {
    for (let i = 0; i < list.length; i++) {
      const x = list[i]!;
      if (x.key !== e.key) continue;
      if (e.shared) {
        // Shared resources only combine with an identical one, by counting shares.
        if (!valueEqual(x, e)) continue;
        list[i] = withValue(x, x.milli, x.ranges, x.items, x.count + e.count);
        return;
      }
      switch (x.type) {
        case 'SCALAR': list[i] = withValue(x, x.milli + e.milli, NO_RANGES, NO_ITEMS, 1); break;
        case 'RANGES': list[i] = withValue(x, 0, rangesUnion(x.ranges, e.ranges), NO_ITEMS, 1); break;
        default: list[i] = withValue(x, 0, NO_RANGES, setUnion(x.items, e.items), 1); break;
      }
      return;
    }
  }
  list.push(e);
}

/** Subtracts `e` from the first subtractable entry of `list` in place; empty or negative results are dropped. */
export function subtractEntry(list: Entry[], e: Entry): void {
  if (isEmptyEntry(e)) return;
  for (let i = 0; i < list.length; i++) {
    const x = list[i]!;
    if (x.key !== e.key) continue;
    if (e.shared || e.atomic) {
      if (!valueEqual(x, e)) continue;
      const count = e.shared ? x.count - e.count : 0;
      if (count <= 0) list.splice(i, 1);
      else list[i] = withValue(x, x.milli, x.ranges, x.items, count);
      return;
    }
    let next: Entry;
    switch (x.type) {
      case 'SCALAR': next = withValue(x, x.milli - e.milli, NO_RANGES, NO_ITEMS, 1); break;
      case 'RANGES': next = withValue(x, 0, rangesMinus(x.ranges, e.ranges), NO_ITEMS, 1); break;
      default: next = withValue(x, 0, NO_RANGES, setMinus(x.items, e.items), 1); break;
    }
    if (isEmptyEntry(next)) list.splice(i, 1);
    else list[i] = next;
    return;
  }
}

/** True when some entry of `list` contains `e`. */
export function containsEntry(list: readonly Entry[], e: Entry): boolean {
  for (const x of list) {
    if (x.key !== e.key) continue;
    if (e.shared) {
      if (valueEqual(x, e) && x.count >= e.count) return true;
    } else if (e.atomic) {
      if (valueEqual(x, e)) return true;
    } else if (valueContains(x, e)) {
      return true;
    }
  }
  return false;
}
