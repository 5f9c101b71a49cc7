// Group membership in ZooKeeper as Mesos lays it out: children of the group path named
// `<label>_<sequence>` (or just `<sequence>`); the lowest sequence, whatever its label, leads.

export interface Membership {
  /** The child's name (`json.info_0000000003`). */
  name: string;
  sequence: number;
  label?: string;
}

const INT32_MAX = 2 ** 31 - 1;

/** Parses a child name; undefined for children that are not members (e.g. `log_replicas`). */
export function parseMembership(name: string): Membership | undefined {
  const tokens = name.split('_').filter((t) => t.length > 0);
  if (tokens.length === 0) return undefined;
  const last = tokens[tokens.length - 1]!;
  if (!/^\d+$/.test(last)) return undefined;
  const sequence = Number(last);
  if (sequence > INT32_MAX) return undefined;
  return tokens.length > 1 ? { name, sequence, label: tokens[0] } : { name, sequence };
}

export function memberships(children: readonly string[]): Membership[] {
  const out: Membership[] = [];
  for (const c of children) {
    const m = parseMembership(c);
    if (m) out.push(m);
  }
  return out.sort((a, b) => a.sequence - b.sequence);
}

/** The leading member: the lowest sequence. */
export function leaderOf(children: readonly string[]): Membership | undefined {
  return memberships(children)[0];
}
