// Role names (RES-05): hierarchical paths like `eng/backend/db`; `*` is the default (unreserved) role.

// Whitespace and DEL (which Mesos calls backspace).
const INVALID_CHARS = /[\t\n\v\f\r \x7f]/;

// Roles seen to be valid; a cluster has few, and validation runs on every parsed resource.
const known = new Set<string>();
const KNOWN_MAX = 10_000;

/** Returns an error message when `role` is not a valid role name, else undefined. */
export function validateRole(role: string): string | undefined {
  if (role === '*' || known.has(role)) return undefined;
  const err = checkRole(role);
  if (err === undefined) {
    if (known.size >= KNOWN_MAX) known.clear();
    known.add(role);
  }
  return err;
}

function checkRole(role: string): string | undefined {
  if (role.length === 0) return 'Empty role name is invalid';
  if (role.startsWith('/')) return `Role '${role}' cannot start with a slash`;
  if (role.endsWith('/')) return `Role '${role}' cannot end with a slash`;
  for (const part of role.split('/')) {
    if (part.length === 0) return `Role '${role}' cannot contain two adjacent slashes`;
    if (part === '.') return `Role '${role}' cannot have '.' as a path component`;
    if (part === '..') return `Role '${role}' cannot have '..' as a path component`;
    if (part === '*') return `Role '${role}' cannot have '*' as a path component`;
    if (part.startsWith('-')) return `Role component '${part}' of role '${role}' is invalid because it starts with a dash`;
    if (INVALID_CHARS.test(part)) return `Role '${role}' contains invalid characters (whitespace or DEL)`;
  }
  return undefined;
}

/** True when `child` lies strictly below `parent` in the role tree (`a/b` under `a`). */
export function isStrictSubrole(child: string, parent: string): boolean {
  return child.length > parent.length + 1 && child.startsWith(parent) && child.charCodeAt(parent.length) === 47; // '/'
}

/** `a/b/c` -> [`a/b`, `a`]. */
export function roleAncestors(role: string): string[] {
  const out: string[] = [];
  let i = role.lastIndexOf('/');
  while (i > 0) {
    role = role.slice(0, i);
    out.push(role);
    i = role.lastIndexOf('/');
  }
  return out;
}
