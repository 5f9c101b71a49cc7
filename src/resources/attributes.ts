// Agent attributes (`--attributes='rack:abc;zone:west;level:10;keys:[1000-1500]'`) as v1 Attribute
// messages (TEXT, SCALAR or RANGES), and their legacy `/state` JSON form.
import type { Msg } from './entry.js';
import { ResourcesError, parseValue, formatRanges, formatSet, toMilli, fromMilli } from './values.js';

export function parseAttributes(text: string): Msg[] {
  const out: Msg[] = [];
  for (const token of text.split(';')) {
    if (token.trim().length === 0) continue;
    const pair = token.split(':').filter((x) => x.length > 0);
    if (pair.length !== 2) throw new ResourcesError(`Invalid attribute key:value pair '${token}'`);
    const name = pair[0]!.trim();
    if (name.length === 0) throw new ResourcesError(`Invalid attribute '${token}': empty name`);
    const value = parseValue(pair[1]!);
    switch (value.type) {
      case 'SCALAR':
        out.push({ name, type: 'SCALAR', scalar: { value: value.value } });
        break;
      case 'RANGES':
        out.push({ name, type: 'RANGES', ranges: { range: value.ranges.map(([begin, end]) => ({ begin, end })) } });
        break;
      case 'SET':
        // Mesos attributes support text, scalars and ranges only.
        throw new ResourcesError(`Invalid attribute '${name}': sets are not supported for attributes`);
      default:
        out.push({ name, type: 'TEXT', text: { value: value.value } });
    }
  }
  return out;
}

/** name -> value as `/state` shows attributes: text as string, scalar as number, ranges/sets as text. */
export function attributesToLegacyJson(list: readonly Msg[] | undefined): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const a of list ?? []) {
    switch (a.type) {
      case 'SCALAR': out[a.name] = fromMilli(toMilli(Number(a.scalar?.value ?? 0))); break;
      case 'RANGES':
        out[a.name] = formatRanges((a.ranges?.range ?? []).map((r: Msg) => [Number(r.begin), Number(r.end)] as const));
        break;
      case 'SET': out[a.name] = formatSet(a.set?.item ?? []); break;
      case 'TEXT': out[a.name] = String(a.text?.value ?? ''); break;
      default: break;
    }
  }
  return out;
}
