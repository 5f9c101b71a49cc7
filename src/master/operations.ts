// Speculative offer operations (OPS-03..OPS-06): RESERVE, UNRESERVE, CREATE, DESTROY. The master
// applies them at once to the offered (or, for operators, the available) resources and tells the
// agent its new checkpointed resources; Resources.apply does the conversion, this adds Mesos's
// checks on roles, principals and volumes.
import { Resources } from '../resources/index.js';
import type { Msg } from './allocator/allocator.js';
import { allocatedResources } from './tasks/validation.js';

export const SPECULATIVE_OPERATIONS = new Set(['RESERVE', 'UNRESERVE', 'CREATE', 'DESTROY']);

/** The resource list an operation works on, and the field it sits in. */
function payload(op: Msg): { key: string; field: string; list: Msg[] } {
  switch (op.type) {
    case 'RESERVE':
      return { key: 'reserve', field: 'resources', list: op.reserve?.resources ?? [] };
    case 'UNRESERVE':
      return { key: 'unreserve', field: 'resources', list: op.unreserve?.resources ?? [] };
    case 'CREATE':
      return { key: 'create', field: 'volumes', list: op.create?.volumes ?? [] };
    default:
      return { key: 'destroy', field: 'volumes', list: op.destroy?.volumes ?? [] };
  }
}

/** Framework operations apply to offered resources: stamp the offer's allocation role on them. */
export function allocateOperation(op: Msg, role: string): Msg {
  const { key, field, list } = payload(op);
  const stamp = (l: Msg[]) => l.map((r) => allocatedResources([r], role).toProto({ refinement: true })[0] ?? r);
  const sub: Msg = { ...op[key], [field]: stamp(list) };
  if (op.type === 'RESERVE' && op.reserve?.source) sub.source = stamp(op.reserve.source);
  return { ...op, [key]: sub };
}

export interface OperationContext {
  /** The offer's allocation role (framework operations); undefined for operator operations. */
  role?: string;
  /** The framework may refine reservations (RESERVATION_REFINEMENT). */
  refinement?: boolean;
  /** The framework's (or operator's) principal. */
  principal?: string;
  /** The agent's total resources, for persistence id uniqueness. */
  agentTotal: Resources;
}

function parse(list: Msg[], what: string): Resources | string {
  try {
    return Resources.fromProto(list);
  } catch (e) {
    return `Invalid ${what} Operation: ${(e as Error).message}`;
  }
}

/** Mesos's checks beyond what Resources.apply verifies; an error message or undefined. */
export function validateOperation(op: Msg, ctx: OperationContext): string | undefined {
  const { list } = payload(op);
  const what = String(op.type);
  if (list.length === 0) return `Invalid ${what} Operation: no resources given`;
  const parsed = parse(list, what);
  if (typeof parsed === 'string') return parsed;
  for (const r of parsed.toArray()) {
    const stack: Msg[] = r.reservations ?? [];
    const top = stack[stack.length - 1];
    if (op.type === 'RESERVE' || op.type === 'UNRESERVE') {
      if (!top) return `Invalid ${what} Operation: resource ${r.name} is not reserved`;
      if (top.type !== 'DYNAMIC') return `Invalid ${what} Operation: resource ${r.name} is not dynamically reserved`;
      if (r.revocable !== undefined) return `Invalid ${what} Operation: revocable resources cannot be reserved`;
      if (op.type === 'UNRESERVE' && r.disk?.persistence !== undefined) {
        return 'Invalid UNRESERVE Operation: a persistent volume cannot be unreserved; DESTROY it first';
      }
      if (op.type === 'RESERVE') {
        if (ctx.role !== undefined && top.role !== ctx.role && !(ctx.refinement && String(top.role).startsWith(`${ctx.role}/`))) {
          return `Invalid RESERVE Operation: the reservation role '${top.role}' does not match the allocation role '${ctx.role}'`;
        }
        if (top.principal !== undefined && ctx.principal !== undefined && top.principal !== ctx.principal) {
          return `Invalid RESERVE Operation: a reservation with principal '${top.principal}' was attempted by principal '${ctx.principal}'`;
        }
        if (top.role === '*') return "Invalid RESERVE Operation: cannot reserve resources for role '*'";
      }
    } else {
      const persistence = r.disk?.persistence;
      if (r.name !== 'disk' || persistence === undefined) return `Invalid ${what} Operation: ${r.name} is not a persistent volume`;
      if (op.type === 'CREATE') {
        if (!top) return 'Invalid CREATE Operation: persistent volumes cannot be created from unreserved resources';
        if (!r.disk?.volume?.container_path) return "Invalid CREATE Operation: the volume has no 'container_path'";
        if (persistence.principal !== undefined && ctx.principal !== undefined && persistence.principal !== ctx.principal) {
          return `Invalid CREATE Operation: a volume with principal '${persistence.principal}' was attempted by principal '${ctx.principal}'`;
        }
        const role = top.role;
        for (const existing of ctx.agentTotal.persistentVolumes().toArray()) {
          const er = existing.reservations ?? [];
          if (existing.disk?.persistence?.id === persistence.id && er[er.length - 1]?.role === role) {
            return `Invalid CREATE Operation: persistence ID '${persistence.id}' is already in use for role '${role}'`;
          }
        }
      }
    }
  }
  return undefined;
}

/** An agent's checkpointed resources: everything dynamically reserved, and persistent volumes. */
export function checkpointedResources(total: Resources): Resources {
  return total.filter((r) => {
    const stack: Msg[] = r.reservations ?? [];
    return stack.some((x) => x.type === 'DYNAMIC') || r.disk?.persistence !== undefined;
  });
}

/**
 * What an agent registers with: its static resources with the checkpointed ones (reservations,
 * volumes) applied in place of the resources they were made from.
 */
export function applyCheckpointed(total: Resources, checkpointed: Resources): Resources {
  let out = total;
  for (const r of checkpointed.toArray()) {
    const source: Msg = { ...r, reservations: ((r.reservations ?? []) as Msg[]).filter((x) => x.type !== 'DYNAMIC') };
    if (source.disk) {
      const disk: Msg = { ...source.disk };
      delete disk.persistence;
      delete disk.volume;
      if (Object.keys(disk).length === 0) delete source.disk;
      else source.disk = disk;
    }
    delete source.shared;
    const from = Resources.fromProto([source]);
    const to = Resources.fromProto([r]);
    if (out.contains(from)) out = out.minus(from).plus(to);
  }
  return out;
}
