// The `--resources` flag (RES-03): a JSON array of Resource messages, else `name(role):value;...`.
import { type Entry, makeEntry } from './entry.js';
import { entryFromProto } from './proto.js';
import { ResourcesError, parseValue, toMilli } from './values.js';
import { validateRole } from './roles.js';

/** Parses the flag into (unmerged) entries; role-less resources get `defaultRole`. */
export function parseResourceEntries(text: string, defaultRole = '*'): Entry[] {
  const roleErr = validateRole(defaultRole);
  if (roleErr) throw new ResourcesError(`Invalid default role: ${roleErr}`);
  const trimmed = text.trim();
  let entries: Entry[];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      // The text form always starts with a name, so this was meant to be JSON.
      throw new ResourcesError(`Invalid resources JSON: ${(e as Error).message}`);
    }
    {
      if (!Array.isArray(json)) throw new ResourcesError('Resources JSON must be an array of Resource objects');
      entries = json.map((r, i) => {
        try {
          return entryFromProto(r, defaultRole);
        } catch (e) {
          throw new ResourcesError(`Invalid resource at index ${i}: ${(e as Error).message}`);
        }
      });
      checkTypes(entries);
      return entries;
    }
  }
  entries = [];
  for (const token of trimmed.split(';')) {
    if (token.trim().length === 0) continue;
    entries.push(parseToken(token, defaultRole));
  }
  checkTypes(entries);
  return entries;
}

function parseToken(token: string, defaultRole: string): Entry {
  const pair = token.split(':').filter((x) => x.length > 0);
  if (pair.length !== 2) throw new ResourcesError(`Bad value for resources: '${token}' (expected name[(role)]:value)`);
  const head = pair[0]!.replace(/\s+/g, '');
  let name = head;
  let role = defaultRole;
  const open = head.indexOf('(');
  if (open !== -1) {
    const close = head.indexOf(')');
    if (close !== head.length - 1 || close < open) {
      throw new ResourcesError(`Bad value for resources: mismatched parentheses in '${token}'`);
    }
    name = head.slice(0, open);
    role = head.slice(open + 1, close);
  } else if (head.includes(')')) {
    throw new ResourcesError(`Bad value for resources: mismatched parentheses in '${token}'`);
  }
  if (name.length === 0) throw new ResourcesError(`Bad value for resources: empty resource name in '${token}'`);
  const err = validateRole(role);
  if (err) throw new ResourcesError(`Invalid role in '${token}': ${err}`);
  const value = parseValue(pair[1]!);
  const reservations = role === '*' ? [] : [{ type: 'STATIC', role }];
  const base = {
    name, count: 1, reservations, allocation_info: undefined, disk: undefined,
    revocable: undefined, shared: undefined, provider_id: undefined,
  };
  switch (value.type) {
    case 'SCALAR':
      if (value.value < 0) throw new ResourcesError(`Invalid scalar resource '${name}': value ${value.value} is negative`);
      return makeEntry({ ...base, type: 'SCALAR', milli: toMilli(value.value), ranges: [], items: [] });
    case 'RANGES':
      return makeEntry({ ...base, type: 'RANGES', milli: 0, ranges: value.ranges, items: [] });
    case 'SET':
      return makeEntry({ ...base, type: 'SET', milli: 0, ranges: [], items: value.items });
    default:
      throw new ResourcesError(
        `Bad value for resource '${name}': '${value.value}' is TEXT, but resources must be SCALAR, RANGES or SET`);
  }
}

/** One name may not appear with two types; GPUs must be whole. */
function checkTypes(entries: readonly Entry[]): void {
  const types = new Map<string, string>();
  for (const e of entries) {
    const seen = types.get(e.name);
    if (seen !== undefined && seen !== e.type) {
      throw new ResourcesError(`Resources with the same name ('${e.name}') but different types are not allowed`);
    }
    types.set(e.name, e.type);
    if (e.name === 'gpus' && e.type === 'SCALAR' && e.milli % 1000 !== 0) {
      throw new ResourcesError(`The 'gpus' resource must be a whole number, got ${e.milli / 1000}`);
    }
  }
}
