// Public API of the Resources value type (RES-01..RES-10). See docs/architecture.md.
import type { Msg } from './entry.js';

export { Resources, type ToProtoOptions } from './resources.js';
export { ResourcesError, type Range } from './values.js';
export { validateRole, isStrictSubrole, roleAncestors } from './roles.js';
export { parseAttributes, attributesToLegacyJson } from './attributes.js';
export { detectAgentResources, type DetectOptions } from './detect.js';
export { applyOperation } from './operations.js';
export type { Msg } from './entry.js';

/** The role a Resource message (either format) is reserved to: the last reservation's role, or `*`. */
export function reservationRole(r: Msg): string {
  const stack = r.reservations;
  if (Array.isArray(stack) && stack.length > 0) return String(stack[stack.length - 1].role);
  return typeof r.role === 'string' ? r.role : '*';
}

/** True when a Resource message (either format) is reserved (statically or dynamically). */
export function isReserved(r: Msg): boolean {
  return reservationRole(r) !== '*';
}
