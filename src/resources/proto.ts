// Resource messages <-> entries: validation of one Resource (RES-01, RES-04, RES-06) in either
// reservation format, and the pre-/post-refinement/endpoint output formats.
import { type Entry, type Msg, makeEntry } from './entry.js';
import { ResourcesError, type Range, toMilli, fromMilli, checkRanges } from './values.js';
import { validateRole, isStrictSubrole } from './roles.js';

const NO_RANGES: readonly Range[] = Object.freeze([]) as readonly Range[];
const NO_ITEMS: readonly string[] = Object.freeze([]) as readonly string[];
const NO_RESERVATIONS: readonly Msg[] = Object.freeze([]) as readonly Msg[];

function num(v: unknown, what: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new ResourcesError(`${what} must be a number`);
  return n;
}

function checkReservation(r: unknown, name: string): Msg {
  if (r === null || typeof r !== 'object') throw new ResourcesError(`Invalid reservation for resource '${name}': expected an object`);
  const m = r as Msg;
  if (m.type !== 'STATIC' && m.type !== 'DYNAMIC') {
    throw new ResourcesError(`Invalid reservation for resource '${name}': type must be STATIC or DYNAMIC`);
  }
  if (typeof m.role !== 'string') throw new ResourcesError(`Invalid reservation for resource '${name}': role must be set`);
  if (m.role === '*') throw new ResourcesError(`Invalid reservation for resource '${name}': cannot reserve for role '*'`);
  const err = validateRole(m.role);
  if (err) throw new ResourcesError(`Invalid reservation for resource '${name}': ${err}`);
  return copyReservation(m);
}

/** Post-refinement stack from either proto format (see RES-06). */
function reservationStack(r: Msg, name: string, defaultRole: string): readonly Msg[] {
  const list = r.reservations;
  if (Array.isArray(list) && list.length > 0) {
    if (r.reservation !== undefined) {
      // The endpoint format carries both; they must agree.
      if (list.length !== 1 || r.reservation.principal !== list[0]?.principal) {
        throw new ResourcesError(`Resource '${name}' sets both 'reservation' and 'reservations' inconsistently`);
      }
    }
    const stack = list.map((x) => checkReservation(x, name));
    for (let i = 1; i < stack.length; i++) {
      if (stack[i]!.type !== 'DYNAMIC') {
        throw new ResourcesError(`Invalid reservations for resource '${name}': only the first reservation may be STATIC`);
      }
      if (!isStrictSubrole(stack[i]!.role, stack[i - 1]!.role)) {
        throw new ResourcesError(
          `Invalid reservations for resource '${name}': role '${stack[i]!.role}' must be a descendant of '${stack[i - 1]!.role}'`);
      }
    }
    const last = stack[stack.length - 1]!.role;
    if (r.role !== undefined && r.role !== last) {
      throw new ResourcesError(`Resource '${name}' has role '${r.role}' but is reserved for '${last}'`);
    }
    return stack;
  }
  if (r.role === undefined && r.reservation === undefined) {
    return defaultRole === '*' ? NO_RESERVATIONS : [{ type: 'STATIC', role: defaultRole }];
  }
  const role = r.role === undefined ? '*' : r.role;
  if (typeof role !== 'string') throw new ResourcesError(`Resource '${name}' has a non-string role`);
  const err = validateRole(role);
  if (err) throw new ResourcesError(`Invalid role for resource '${name}': ${err}`);
  if (r.reservation !== undefined && r.reservation !== null) {
    if (role === '*') throw new ResourcesError(`Invalid reservation for resource '${name}': role '*' cannot be dynamically reserved`);
    const res: Msg = { type: 'DYNAMIC', role };
    if (r.reservation.principal !== undefined) res.principal = r.reservation.principal;
    if (r.reservation.labels !== undefined) res.labels = r.reservation.labels;
    return [res];
  }
  return role === '*' ? NO_RESERVATIONS : [{ type: 'STATIC', role }];
}

/**
 * Validates one Resource message (either reservation format) and normalises it.
 * Resources without any role or reservation get `defaultRole` as a static reservation.
 */
export function entryFromProto(r: unknown, defaultRole = '*'): Entry {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new ResourcesError('Resource must be an object');
  const m = r as Msg;
  const name = m.name;
  if (typeof name !== 'string' || name.length === 0) throw new ResourcesError('Resource name must be a non-empty string');
  const type = m.type;
  let milli = 0;
  let ranges: readonly Range[] = NO_RANGES;
  let items: readonly string[] = NO_ITEMS;
  if (type === 'SCALAR') {
    if (m.ranges !== undefined || m.set !== undefined) throw new ResourcesError(`Scalar resource '${name}' has a ranges or set value`);
    if (m.scalar === undefined || m.scalar === null) throw new ResourcesError(`Scalar resource '${name}' has no scalar value`);
    const v = num(m.scalar.value, `Scalar value of resource '${name}'`);
    if (!Number.isFinite(v)) throw new ResourcesError(`Invalid scalar resource '${name}': value must be finite`);
    if (v < 0) throw new ResourcesError(`Invalid scalar resource '${name}': value ${v} is negative`);
    milli = toMilli(v);
  } else if (type === 'RANGES') {
    if (m.scalar !== undefined || m.set !== undefined) throw new ResourcesError(`Ranges resource '${name}' has a scalar or set value`);
    const list = m.ranges?.range ?? [];
    if (!Array.isArray(list)) throw new ResourcesError(`Ranges resource '${name}' has a malformed 'ranges' value`);
    const raw: Range[] = list.map((x: Msg) => {
      const b = num(x?.begin, `Range begin of resource '${name}'`);
      const e = num(x?.end, `Range end of resource '${name}'`);
      if (!Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0) {
        throw new ResourcesError(`Invalid ranges resource '${name}': bounds must be non-negative integers`);
      }
      return [b, e] as Range;
    });
    ranges = checkRanges(raw, name);
  } else if (type === 'SET') {
    if (m.scalar !== undefined || m.ranges !== undefined) throw new ResourcesError(`Set resource '${name}' has a scalar or ranges value`);
    const list = m.set?.item ?? [];
    if (!Array.isArray(list) || list.some((x: unknown) => typeof x !== 'string')) {
      throw new ResourcesError(`Set resource '${name}' has a malformed 'set' value`);
    }
    if (new Set(list).size !== list.length) throw new ResourcesError(`Invalid set resource '${name}': duplicate items`);
    items = list.slice();
  } else if (type === 'TEXT') {
    throw new ResourcesError(`Resource '${name}' has unsupported type TEXT (only SCALAR, RANGES and SET are allowed)`);
  } else {
    throw new ResourcesError(`Resource '${name}' has invalid type '${String(type)}'`);
  }

  const reservations = reservationStack(m, name, defaultRole);
  const disk = m.disk ?? undefined;
  const revocable = m.revocable ?? undefined;
  const shared = m.shared ?? undefined;
  if (disk !== undefined) {
    if (name !== 'disk') throw new ResourcesError(`DiskInfo should not be set for resource '${name}'`);
    if (disk.persistence !== undefined && revocable !== undefined) {
      throw new ResourcesError('Persistent volumes cannot be created from revocable resources');
    }
    if (disk.persistence !== undefined && disk.volume === undefined) {
      throw new ResourcesError(`Persistent volume '${disk.persistence.id}' must have 'volume' set`);
    }
  }
  if (shared !== undefined && disk?.persistence === undefined) throw new ResourcesError('Only persistent volumes can be shared');
  if (revocable !== undefined && reservations.some((x) => x.type === 'DYNAMIC')) {
    throw new ResourcesError(`Dynamically reserved revocable resources are not supported ('${name}')`);
  }
  const alloc = m.allocation_info ?? undefined;
  if (alloc !== undefined && (typeof alloc !== 'object' || (alloc.role !== undefined && typeof alloc.role !== 'string'))) {
    throw new ResourcesError(`Resource '${name}' has a malformed allocation_info`);
  }
  return makeEntry({
    name, type, milli, ranges, items, count: 1, reservations,
    allocation_info: alloc === undefined ? undefined : alloc.role === undefined ? {} : { role: alloc.role }, disk, revocable, shared, provider_id: m.provider_id ?? undefined,
  });
}

function putValue(out: Msg, e: Entry): void {
  switch (e.type) {
    case 'SCALAR': out.scalar = { value: fromMilli(e.milli) }; break;
    case 'RANGES': out.ranges = { range: e.ranges.map(([begin, end]) => ({ begin, end })) }; break;
    default: out.set = { item: e.items.slice() }; break;
  }
}

function copyReservation(r: Msg): Msg {
  const out: Msg = { type: r.type, role: r.role };
  if (r.principal !== undefined) out.principal = r.principal;
  if (r.labels !== undefined) out.labels = r.labels;
  return out;
}

// Output objects are fresh at the levels callers commonly edit (the resource, its value, its
// reservations, allocation_info); disk/revocable/shared/provider_id are shared, treat them as read-only.
function putExtras(out: Msg, e: Entry): void {
  if (e.allocation_info !== undefined) out.allocation_info = { ...e.allocation_info };
  if (e.disk !== undefined) out.disk = e.disk;
  if (e.revocable !== undefined) out.revocable = e.revocable;
  if (e.shared !== undefined) out.shared = e.shared;
  if (e.provider_id !== undefined) out.provider_id = e.provider_id;
}

/** Post-refinement format: `reservations` stack, no `role`. */
export function postProto(e: Entry): Msg {
  const out: Msg = { name: e.name, type: e.type };
  putValue(out, e);
  if (e.reservations.length > 0) out.reservations = e.reservations.map(copyReservation);
  putExtras(out, e);
  return out;
}

/** Shared post-refinement view, read-only: filter predicates and Resources.views() (the allocator). */
export function cachedPostProto(e: Entry): Msg {
  return e.post ?? (e.post = postProto(e));
}

/**
 * Pre-refinement format (frameworks without RESERVATION_REFINEMENT): `role` always set, a dynamic
 * reservation as `reservation {principal?, labels?}`. With `endpoint`, the `reservations` stack is
 * kept as well (the format of Mesos's HTTP endpoints). Refined stacks cannot be expressed this way
 * and keep only the stack.
 */
export function preProto(e: Entry, endpoint = false): Msg {
  const out: Msg = { name: e.name, type: e.type };
  putValue(out, e);
  const res = e.reservations;
  if (res.length === 0) {
    out.role = '*';
  } else if (res.length === 1) {
    const r = res[0]!;
    out.role = r.role;
    if (r.type === 'DYNAMIC') {
      const info: Msg = {};
      if (r.principal !== undefined) info.principal = r.principal;
      if (r.labels !== undefined) info.labels = r.labels;
      out.reservation = info;
    }
    if (endpoint) out.reservations = [copyReservation(r)];
  } else {
    out.reservations = res.map(copyReservation);
  }
  putExtras(out, e);
  return out;
}

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
