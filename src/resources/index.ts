// Public API of the Resources value type (RES-01..RES-10). See docs/architecture.md.
export { Resources, type ToProtoOptions } from './resources.js';
export { ResourcesError, type Range } from './values.js';
export { validateRole, isStrictSubrole, roleAncestors } from './roles.js';
export { parseAttributes, attributesToLegacyJson } from './attributes.js';
export { detectAgentResources, type DetectOptions } from './detect.js';
export { applyOperation } from './operations.js';
export type { Msg } from './entry.js';
export { reservationRole, isReserved } from './proto.js';
