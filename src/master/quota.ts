// Quota (ALC-10): QuotaConfig validation and conversion for the allocator. The Master owns the
// configured quotas; the allocator enforces them.
import { Resources, validateRole } from '../resources/index.js';
import type { Msg } from './allocator/allocator.js';

export interface AllocatorQuota {
  guarantees?: Resources;
  limits?: Resources;
}

/** `map<string, Value.Scalar>` -> scalar Resources (unreserved). */
export function quantitiesToResources(map: Msg | undefined): Resources {
  const list = Object.entries(map ?? {}).map(([name, v]) => ({ name, type: 'SCALAR', scalar: { value: Number((v as Msg)?.value ?? 0) } }));
  return Resources.fromProto(list);
}

export function toAllocatorQuota(config: Msg): AllocatorQuota {
  const guarantees = quantitiesToResources(config.guarantees);
  const limits = quantitiesToResources(config.limits);
  return { guarantees: guarantees.isEmpty() ? undefined : guarantees, limits: limits.isEmpty() ? undefined : limits };
}

/** A config with neither guarantees nor limits removes the role's quota. */
export function isRemoval(config: Msg): boolean {
  return Object.keys(config.guarantees ?? {}).length === 0 && Object.keys(config.limits ?? {}).length === 0;
}

function quantities(map: Msg | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, v] of Object.entries(map ?? {})) out.set(name, Number((v as Msg)?.value));
  return out;
}

const fmt = (q: Map<string, number>) => [...q].map(([n, v]) => `${n}:${v}`).join('; ');

/** Checks one QuotaConfig on its own (role, values, guarantees within limits). */
export function validateQuotaConfig(config: Msg): string | undefined {
  const role = String(config.role ?? '');
  const roleErr = validateRole(role);
  if (roleErr) return `Invalid role '${role}': ${roleErr}`;
  if (role.includes('/')) return `Quota on nested role '${role}' is not supported`;
  const guarantees = quantities(config.guarantees);
  const limits = quantities(config.limits);
  for (const [kind, q] of [['guarantee', guarantees], ['limit', limits]] as const) {
    for (const [name, v] of q) {
      if (name === '') return `Invalid ${kind}: resource name must not be empty`;
      if (!Number.isFinite(v) && !(kind === 'limit' && v === Infinity)) return `Invalid ${kind} for '${name}': ${v}`;
      if (v < 0) return `Invalid ${kind} for '${name}': negative values are not allowed`;
    }
  }
  for (const [name, g] of guarantees) {
    const l = limits.get(name);
    if (l !== undefined && g > l) {
      return `Role '${role}' has guarantees '${fmt(guarantees)}' that exceed its limits '${fmt(limits)}'`;
    }
  }
  return undefined;
}

export interface QuotaCheckContext {
  /** Total scalar quantities of the cluster's agents. */
  capacity: Map<string, number>;
  /** What a role consumes now (reservations and allocations). */
  consumed(role: string): Map<string, number>;
  /** Quotas in force, by role. */
  current: ReadonlyMap<string, Msg>;
}

/** UPDATE_QUOTA without `force`: guarantees must fit the cluster, limits the current consumption. */
export function checkQuotaUpdate(configs: Msg[], ctx: QuotaCheckContext): string | undefined {
  const next = new Map(ctx.current);
  for (const c of configs) {
    if (isRemoval(c)) next.delete(String(c.role));
    else next.set(String(c.role), c);
  }
  const total = new Map<string, number>();
  for (const c of next.values()) {
    for (const [name, v] of quantities(c.guarantees)) total.set(name, (total.get(name) ?? 0) + v);
  }
  for (const [name, v] of total) {
    if (v > (ctx.capacity.get(name) ?? 0) + 1e-9) {
      return `Total quota guarantees '${fmt(total)}' exceed cluster capacity '${fmt(ctx.capacity)}' (use 'force' flag to bypass this check)`;
    }
  }
  for (const c of configs) {
    const limits = quantities(c.limits);
    const consumed = ctx.consumed(String(c.role));
    for (const [name, l] of limits) {
      if ((consumed.get(name) ?? 0) > l + 1e-9) {
        return `Role '${c.role}' is already consuming '${fmt(consumed)}'; this is more than the requested limits '${fmt(limits)}' (use 'force' flag to bypass this check)`;
      }
    }
  }
  return undefined;
}

/** The deprecated QuotaInfo view of a config (guarantees as Resources). */
export function quotaInfo(config: Msg): Msg {
  return { role: config.role, guarantee: quantitiesToResources(config.guarantees).toProto() };
}

/** A deprecated QuotaRequest (SET_QUOTA, POST /quota): its guarantee is both guarantee and limit. */
export function configFromRequest(request: Msg): Msg | string {
  const role = request.role;
  if (typeof role !== 'string') return "Failed to validate set quota request: 'QuotaRequest.role' must be set";
  let guarantee: Resources;
  try {
    guarantee = Resources.fromProto(request.guarantee ?? []);
  } catch (e) {
    return `Failed to validate set quota request: ${(e as Error).message}`;
  }
  const q: Msg = {};
  for (const [name, v] of guarantee.scalarsOnly().quantities()) q[name] = { value: v };
  return { role, guarantees: q, limits: q };
}

/** QuotaStatus: the configs and their deprecated QuotaInfo view. */
export function quotaStatus(configs: Iterable<Msg>): Msg {
  const list = [...configs];
  return { infos: list.map(quotaInfo), configs: list };
}
