// Human-readable text (logs, messages) and the legacy `/state` JSON model of resources.
import type { Entry, Msg } from './entry.js';
import {
  type Range, fromMilli, formatRanges, formatSet, rangesUnion, setUnion,
} from './values.js';

function entryValueText(e: Entry): string {
  switch (e.type) {
    case 'SCALAR': return String(fromMilli(e.milli));
    case 'RANGES': return formatRanges(e.ranges);
    default: return formatSet(e.items);
  }
}

/** `cpus(*):2`, `cpus(ads):8`, `disk(ads, alice)[vol1:data]:64`, `cpus(*){REV}:1`, ... */
export function entryToString(e: Entry): string {
  let s = e.name;
  if (e.allocation_info?.role !== undefined) s += `(allocated: ${e.allocation_info.role})`;
  const res = e.reservations;
  if (res.length <= 1) {
    const r = res[0];
    s += r === undefined ? '(*)' : r.type === 'DYNAMIC' && r.principal !== undefined ? `(${r.role}, ${r.principal})` : `(${r.role})`;
  } else {
    s += `(reservations: [${res.map((r) => `(${r.type},${r.role}${r.principal !== undefined ? `,${r.principal}` : ''})`).join(', ')}])`;
  }
  if (e.disk !== undefined) s += `[${diskText(e.disk)}]`;
  if (e.revocable !== undefined) s += '{REV}';
  if (e.shared !== undefined) s += '<SHARED>';
  return `${s}:${entryValueText(e)}`;
}

function diskText(d: Msg): string {
  const parts: string[] = [];
  const src = d.source;
  if (src?.type === 'PATH') parts.push(`PATH:${src.path?.root ?? ''}`);
  else if (src?.type === 'MOUNT') parts.push(`MOUNT:${src.mount?.root ?? ''}`);
  else if (src?.type !== undefined) parts.push(String(src.type));
  if (d.persistence?.id !== undefined) parts.push(`${d.persistence.id}:${d.volume?.container_path ?? ''}`);
  return parts.join(',');
}

/**
 * Mesos's `model(Resources)` for `/master/state` and friends: cpus/gpus/mem/disk always present,
 * scalars summed per name, ranges and sets as text, revocable resources under `<name>_revocable`.
 */
export function legacyJson(entries: readonly Entry[]): Record<string, number | string> {
  const out: Record<string, number | string> = { cpus: 0, gpus: 0, mem: 0, disk: 0 };
  const milli = new Map<string, number>();
  const ranges = new Map<string, readonly Range[]>();
  const sets = new Map<string, readonly string[]>();
  for (const e of entries) {
    const key = e.revocable !== undefined ? `${e.name}_revocable` : e.name;
    switch (e.type) {
      case 'SCALAR': milli.set(key, (milli.get(key) ?? 0) + e.milli); break;
      case 'RANGES': ranges.set(key, rangesUnion(ranges.get(key) ?? [], e.ranges)); break;
      default: sets.set(key, setUnion(sets.get(key) ?? [], e.items)); break;
    }
  }
  for (const [k, v] of milli) out[k] = fromMilli(v);
  for (const [k, v] of ranges) out[k] = formatRanges(v);
  for (const [k, v] of sets) out[k] = formatSet(v);
  return out;
}
