// Quota (ALC-10): consumption, guarantees, limits and headroom over the role tree. Quantities are
// thousandths by name index. Consumption = reservations (allocated or not) + unreserved
// non-revocable resources offered or allocated, including subroles'.
import type { RoleNode } from './roles.js';
import type { AgentState } from './state.js';
import { type Bag, type Slot, accumulate } from './slots.js';

export function consumed(node: RoleNode, nameIdx: number): number {
  return (node.reserved[nameIdx] ?? 0) + (node.unreservedAllocated[nameIdx] ?? 0);
}

/** Quota bookkeeping for one round (thousandths by name index). */
export function headroom(nodes: RoleNode[], agents: AgentState[], slots: Slot[]): Headroom {
  const quotaRoles: RoleNode[] = [];
  const required: number[] = [];
  for (const node of nodes) {
    const g = node.guarantees;
    if (!g) continue;
    quotaRoles.push(node);
    for (let i = 0; i < g.length; i++) {
      if (g[i] === undefined) continue;
      const need = g[i] - consumed(node, i);
      if (need > 0) required[i] = (required[i] ?? 0) + need;
    }
  }
  // Free unreserved non-revocable scalars across the cluster.
  const available: number[] = [];
  if (quotaRoles.length > 0) for (const agent of agents) accumulate(agent.available, slots, available, 1, true);
  return { quotaRoles, required, available, requiredAny: required.some((v) => v > 0) };
}

/** What the guarantee governing `node` (nearest ancestor-or-self with guarantees) still lacks. */
export function unsatisfied(node: RoleNode, nameIdx: number): number {
  for (let n: RoleNode | undefined = node; n && n.depth >= 0; n = n.parent) {
    if (!n.guarantees) continue;
    const g = n.guarantees[nameIdx];
    return g === undefined ? 0 : Math.max(0, g - consumed(n, nameIdx));
  }
  return 0;
}

export function limitRoom(node: RoleNode, nameIdx: number): number {
  let room = Infinity;
  for (let n: RoleNode | undefined = node; n && n.depth >= 0; n = n.parent) {
    const l = n.limits?.[nameIdx];
    if (l !== undefined) room = Math.min(room, Math.max(0, l - consumed(n, nameIdx)));
  }
  return room;
}

export function hasLimits(node: RoleNode): boolean {
  for (let n: RoleNode | undefined = node; n && n.depth >= 0; n = n.parent) if (n.limits) return true;
  return false;
}

export function stageOneRole(role: RoleNode): boolean {
  for (let n: RoleNode | undefined = role; n && n.depth >= 0; n = n.parent) {
    const g = n.guarantees;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) if (g[i] !== undefined && g[i] > consumed(n, i)) return true;
    return false;
  }
  return false;
}

/**
 * Quota (ALC-10) on a candidate offer. Reservations, non-scalars and revocable resources are
 * always offered (stage 1: only the role's own reservations); unreserved non-revocable scalars
 * are chopped. Stage 1 serves unsatisfied guarantees (skipped when nothing helps them) and adds
 * the rest within limits and surplus headroom; stage 2 offers within limits and surplus headroom.
 */
export function applyQuota(cand: Bag, role: RoleNode, stage: number, h: Headroom, slots: Slot[], roleOfSlot: (s: Slot) => RoleNode | undefined): Bag {
  const quota = h.quotaRoles.length > 0;
  if (!quota && !hasLimits(role)) return cand;
  const headroomApplies = h.requiredAny;
  // Per name: what guarantees still need (stage 1), the room under limits, the surplus headroom.
  const guar: number[] = [];
  const room: number[] = [];
  const surplus: number[] = [];
  const seen: boolean[] = [];
  let out: Bag = [];
  let guaranteed = false;
  for (let pass = 0; pass < (stage === 1 ? 2 : 1); pass++) {
    // Stage 1 takes the guaranteed part first (pass 0), then the additional part (pass 1).
    for (let i = 0; i < cand.length; i++) {
      const e = cand[i];
      const s = slots[e.s];
      if (!s.quotaScalar) {
        if (pass > 0) continue;
        if (stage === 1 && s.reserved && roleOfSlot(s) !== role) continue;
        out.push(e);
        continue;
      }
      const n = s.nameIdx;
      if (!seen[n]) {
        seen[n] = true;
        guar[n] = stage === 1 ? unsatisfied(role, n) : 0;
        room[n] = limitRoom(role, n);
        surplus[n] = headroomApplies ? Math.max(0, (h.available[n] ?? 0) - (h.required[n] ?? 0)) : Infinity;
      }
      const already = pass === 1 ? taken(out, e.s) : 0;
      const left = e.q - already;
      if (left <= 0) continue;
      let q: number;
      if (stage === 1 && pass === 0) q = Math.min(left, guar[n], room[n]);
      else q = Math.min(left, room[n], surplus[n]);
      if (q <= 0) continue;
      if (isAtomic(s) && (q < e.q || already > 0)) continue;
      room[n] -= q;
      if (stage === 1 && pass === 0) {
        guar[n] -= q;
        guaranteed = true;
      } else surplus[n] -= q;
      if (already > 0) out = out.map((x) => (x.s === e.s ? { s: x.s, q: x.q + q } : x));
      else out.push(q === e.q ? e : { s: e.s, q });
    }
    if (stage === 1 && pass === 0 && !guaranteed) return [];
  }
  if (out.length > 1) out.sort((a, b) => a.s - b.s);
  return out;
}

/** The nearest ancestor-or-self role with guarantees. */
export function quotaNode(role: RoleNode): RoleNode | undefined {
  for (let n: RoleNode | undefined = role; n && n.depth >= 0; n = n.parent) if (n.guarantees) return n;
  return undefined;
}

export function needs(node: RoleNode): number[] {
  const out: number[] = [];
  const g = node.guarantees!;
  for (let i = 0; i < g.length; i++) if (g[i] !== undefined) out[i] = Math.max(0, g[i] - consumed(node, i));
  return out;
}

/** After an offer: less headroom is free, and the role's guarantee may need less. */
export function chargeHeadroom(bag: Bag, qnode: RoleNode | undefined, before: number[] | undefined, h: Headroom, slots: Slot[]): void {
  if (h.quotaRoles.length === 0) return;
  for (const e of bag) {
    const s = slots[e.s];
    if (s.quotaScalar) h.available[s.nameIdx] = (h.available[s.nameIdx] ?? 0) - e.q;
  }
  if (qnode && before) {
    const after = needs(qnode);
    let any = false;
    for (let i = 0; i < before.length; i++) {
      if (before[i] === undefined) continue;
      h.required[i] = (h.required[i] ?? 0) - before[i] + after[i];
    }
    for (const v of h.required) if (v > 0) any = true;
    h.requiredAny = any;
  }
}

export interface Headroom {
quotaRoles: RoleNode[];
required: number[];
available: number[];
/** Some guarantee is unsatisfied: unreserved scalars are held back for it. */
requiredAny: boolean;
}

function taken(bag: Bag, slot: number): number {
for (const e of bag) if (e.s === slot) return e.q;
return 0;
}

function isAtomic(s: Slot): boolean {
const d = s.template.disk;
return !!d && (d.source?.type === 'MOUNT' || d.source?.type === 'BLOCK' || d.persistence !== undefined || (d.source?.type === 'RAW' && d.source?.id !== undefined));
}
