// Value helpers shared by resources and attributes: Mesos's 3-decimal fixed point for scalars,
// coalesced inclusive ranges, ordered sets, and the text syntax of `--resources`/`--attributes`.

/** Thrown for any invalid resource, attribute or role input; the message is fit for a 400 body. */
export class ResourcesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourcesError';
  }
}

/** Inclusive [begin, end]. */
export type Range = readonly [number, number];

/** Scalars are compared and added as integer thousandths, like Mesos's llround(v * 1000). */
export function toMilli(v: number): number {
  return Math.round(v * 1000);
}

export function fromMilli(m: number): number {
  return m / 1000;
}

/** Sorts and merges overlapping or adjacent ranges (the input is not modified). */
export function coalesce(ranges: readonly Range[]): Range[] {
  if (ranges.length <= 1) return ranges.length === 1 ? [ranges[0]!] : [];
  const sorted = ranges.slice().sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let [b, e] = sorted[0]!;
  for (let i = 1; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (r[0] <= e + 1) {
      if (r[1] > e) e = r[1];
    } else {
      out.push([b, e]);
      b = r[0];
      e = r[1];
    }
  }
  out.push([b, e]);
  return out;
}

/** Union of two coalesced lists. */
export function rangesUnion(a: readonly Range[], b: readonly Range[]): Range[] {
  if (b.length === 0) return a as Range[];
  if (a.length === 0) return b as Range[];
  return coalesce([...a, ...b]);
}

/** a minus b for coalesced lists; the result is coalesced. */
export function rangesMinus(a: readonly Range[], b: readonly Range[]): Range[] {
  if (a.length === 0 || b.length === 0) return a as Range[];
  const out: Range[] = [];
  let j = 0;
  for (const [ab, ae] of a) {
    let cur = ab;
    while (j < b.length && b[j]![1] < cur) j++;
    let k = j;
    while (k < b.length && b[k]![0] <= ae && cur <= ae) {
      const [bb, be] = b[k]!;
      if (bb > cur) out.push([cur, bb - 1]);
      cur = Math.max(cur, be + 1);
      if (be <= ae) k++;
      else break;
    }
    if (cur <= ae) out.push([cur, ae]);
  }
  return out;
}

/** True when every element of coalesced b is in coalesced a. */
export function rangesContain(a: readonly Range[], b: readonly Range[]): boolean {
  let i = 0;
  for (const [bb, be] of b) {
    while (i < a.length && a[i]![1] < bb) i++;
    if (i >= a.length) return false;
    const [ab, ae] = a[i]!;
    if (bb < ab || be > ae) return false;
  }
  return true;
}

export function rangesEqual(a: readonly Range[], b: readonly Range[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  }
  return true;
}

/** Number of elements in coalesced ranges. */
export function rangesSize(a: readonly Range[]): number {
  let n = 0;
  for (const [b, e] of a) n += e - b + 1;
  return n;
}

/** Set union keeping the order of first appearance. */
export function setUnion(a: readonly string[], b: readonly string[]): string[] {
  if (b.length === 0) return a as string[];
  if (a.length === 0) return b as string[];
  const seen = new Set(a);
  const out = a.slice();
  for (const x of b) if (!seen.has(x)) { seen.add(x); out.push(x); }
  return out;
}

export function setMinus(a: readonly string[], b: readonly string[]): string[] {
  if (a.length === 0 || b.length === 0) return a as string[];
  const drop = new Set(b);
  return a.filter((x) => !drop.has(x));
}

export function setContains(a: readonly string[], b: readonly string[]): boolean {
  if (b.length > a.length) return false;
  if (b.length === 0) return true;
  const have = new Set(a);
  for (const x of b) if (!have.has(x)) return false;
  return true;
}

export function setEqual(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && setContains(a, b);
}

/** Mesos prints ranges as `[a-b, c-d]`. */
export function formatRanges(a: readonly Range[]): string {
  let s = '[';
  for (let i = 0; i < a.length; i++) {
    if (i > 0) s += ', ';
    s += `${a[i]![0]}-${a[i]![1]}`;
  }
  return s + ']';
}

/** Mesos prints sets as `{a, b}`. */
export function formatSet(a: readonly string[]): string {
  return `{${a.join(', ')}}`;
}

export type ParsedValue =
  | { type: 'SCALAR'; value: number }
  | { type: 'RANGES'; ranges: Range[] }
  | { type: 'SET'; items: string[] }
  | { type: 'TEXT'; value: string };

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const UINT = /^\d+$/;

/**
 * Parses one value in Mesos's text syntax: `[a-b,c-d]` ranges, `{a,b}` sets, a number, or text.
 * Spaces are removed first. Ranges are validated (begin <= end, no overlap) and coalesced;
 * sets may not repeat an item.
 */
export function parseValue(raw: string): ParsedValue {
  const text = raw.replace(/\s+/g, '');
  if (text.length === 0) throw new ResourcesError('Error parsing value: expecting a non-empty string');
  const c = text[0];
  if (c === '[') {
    if (!text.endsWith(']') || text.indexOf('[', 1) !== -1 || text.indexOf(']') !== text.length - 1) {
      throw new ResourcesError(`Error parsing value '${raw}': mismatched brackets in ranges`);
    }
    const body = text.slice(1, -1);
    const ranges: Range[] = [];
    if (body.length > 0) {
      for (const part of body.split(',')) {
        const pieces = part.split('-');
        if (pieces.length !== 2 || !UINT.test(pieces[0]!) || !UINT.test(pieces[1]!)) {
          throw new ResourcesError(`Error parsing value '${raw}': expecting ranges of non-negative integers like [1-10,20-30], got '${part}'`);
        }
        const b = Number(pieces[0]);
        const e = Number(pieces[1]);
        if (!Number.isSafeInteger(b) || !Number.isSafeInteger(e)) {
          throw new ResourcesError(`Error parsing value '${raw}': range bound out of range in '${part}'`);
        }
        ranges.push([b, e]);
      }
    }
    return { type: 'RANGES', ranges: checkRanges(ranges, raw) };
  }
  if (c === '{') {
    if (!text.endsWith('}') || text.indexOf('{', 1) !== -1 || text.indexOf('}') !== text.length - 1) {
      throw new ResourcesError(`Error parsing value '${raw}': mismatched braces in set`);
    }
    const body = text.slice(1, -1);
    const items = body.length === 0 ? [] : body.split(',');
    const seen = new Set<string>();
    for (const item of items) {
      if (item.length === 0) throw new ResourcesError(`Error parsing value '${raw}': empty item in set`);
      if (seen.has(item)) throw new ResourcesError(`Error parsing value '${raw}': duplicate item '${item}' in set`);
      seen.add(item);
    }
    return { type: 'SET', items };
  }
  if (/[[\]{}]/.test(text)) throw new ResourcesError(`Error parsing value '${raw}': unexpected bracket`);
  if (NUMBER.test(text)) return { type: 'SCALAR', value: Number(text) };
  if (/^[+-]?(inf|infinity|nan)$/i.test(text)) {
    throw new ResourcesError(`Error parsing value '${raw}': scalar must be a finite number`);
  }
  return { type: 'TEXT', value: text };
}

/** Validates raw ranges (begin <= end, no overlap) and returns them coalesced. */
export function checkRanges(ranges: readonly Range[], what: string): Range[] {
  for (const [b, e] of ranges) {
    if (b > e) throw new ResourcesError(`Invalid ranges in '${what}': begin ${b} is greater than end ${e}`);
  }
  const sorted = ranges.slice().sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]![0] <= sorted[i - 1]![1]) {
      throw new ResourcesError(
        `Invalid ranges in '${what}': [${sorted[i - 1]![0]}-${sorted[i - 1]![1]}] overlaps [${sorted[i]![0]}-${sorted[i]![1]}]`);
    }
  }
  return coalesce(sorted);
}

/** Formats a scalar like Mesos's JSON/text output (3-decimal fixed point). */
export function formatScalar(v: number): string {
  return String(fromMilli(toMilli(v)));
}
