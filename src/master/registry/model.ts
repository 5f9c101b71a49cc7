// The registry document held in memory by the registrar, and the mutations the
// master asks for (Mesos's registry operations). Sections are kept as ordered
// maps keyed by agent id so every operation is O(1); entries are immutable, so
// each one's encoding is computed once and reused by every later store.
import { encodeProto, decodeProto, type Msg } from '../../protocol/codec.js';
import { Resources } from '../../resources/index.js';

export const REGISTRY_TYPE = 'mesos.internal.Registry';
const SLAVE_TYPE = 'mesos.internal.Registry.Slave';
const UNREACHABLE_TYPE = 'mesos.internal.Registry.UnreachableSlave';
const GONE_TYPE = 'mesos.internal.Registry.GoneSlave';

/** `mesos.internal.Registry` as a plain message object (see docs/architecture.md). */
export type Registry = Msg;

/** Milliseconds since the epoch -> TimeInfo. */
export function timeInfo(ms: number): Msg {
  return { nanoseconds: Math.round(ms * 1e6) };
}

/** TimeInfo -> milliseconds since the epoch. */
export function timeInfoMs(t: Msg | undefined): number {
  return Number(t?.nanoseconds ?? 0) / 1e6;
}

/** The capabilities this master understands; a registry demanding others is refused. */
export const SUPPORTED_MINIMUM_CAPABILITIES = ['AGENT_UPDATE', 'AGENT_DRAINING', 'QUOTA_V2'];

const cache = new WeakMap<object, Buffer>();

function encodedEntry(type: string, entry: Msg): Buffer {
  let bytes = cache.get(entry);
  if (!bytes) {
    bytes = encodeProto(type, entry);
    cache.set(entry, bytes);
  }
  return bytes;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field: tag, length, payload. */
function lengthDelimited(field: number, parts: Buffer[]): Buffer[] {
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  return [varint((field << 3) | 2), varint(length), ...parts];
}

/** `repeated X slaves = 1` inside the section message at `field`, from cached entries. */
function section(field: number, type: string, entries: Iterable<Msg>): Buffer[] {
  const items: Buffer[] = [];
  for (const e of entries) items.push(...lengthDelimited(1, [encodedEntry(type, e)]));
  return items.length === 0 ? [] : lengthDelimited(field, items);
}

interface WireField {
  number: number;
  wireType: number;
  /** The whole field: tag, (length) and value. */
  raw: Buffer;
  /** For length-delimited fields, the value without tag and length. */
  payload: Buffer;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated registry (varint)');
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, pos];
    scale *= 128;
    if (scale > 2 ** 63) throw new Error('malformed registry (varint too long)');
  }
}

/** The top-level fields of an encoded message, in order, without decoding their values. */
function* fields(buf: Buffer): Generator<WireField> {
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const wireType = tag % 8;
    let payloadStart = afterTag;
    switch (wireType) {
      case 0: pos = readVarint(buf, afterTag)[1]; break;
      case 1: pos = afterTag + 8; break;
      case 5: pos = afterTag + 4; break;
      case 2: {
        const [length, afterLength] = readVarint(buf, afterTag);
        payloadStart = afterLength;
        pos = afterLength + length;
        break;
      }
      default: throw new Error(`malformed registry (wire type ${wireType})`);
    }
    if (pos > buf.length) throw new Error('truncated registry');
    yield { number: Math.floor(tag / 8), wireType, raw: buf.subarray(start, pos), payload: buf.subarray(payloadStart, pos) };
  }
}

function without<T extends Msg>(entry: T, ...keys: string[]): T {
  const copy: Msg = { ...entry };
  for (const k of keys) delete copy[k];
  return copy as T;
}

export class RegistryModel {
  /** Admitted agents (`slaves`), by agent id, in admission order. */
  readonly admitted = new Map<string, Msg>();
  /** `unreachable`, by agent id, oldest first. */
  readonly unreachable = new Map<string, Msg>();
  /** `gone`, by agent id, oldest first. */
  readonly gone = new Map<string, Msg>();
  /** Every other field of the Registry (master, machines, schedules, quotas, weights, ...). */
  rest: Msg = {};

  /**
   * Decodes a stored Registry. The agent sections are split into their entries on the wire and
   * each entry keeps its stored bytes as its cached encoding, so the first store after recovery
   * costs no more than any other.
   */
  static decode(bytes: Buffer): RegistryModel {
    const model = new RegistryModel();
    const rest: Buffer[] = [];
    const sections: Record<number, [string, Map<string, Msg>, (e: Msg) => string]> = {
      2: [SLAVE_TYPE, model.admitted, (e) => e.info?.id?.value],
      7: [UNREACHABLE_TYPE, model.unreachable, (e) => e.id?.value],
      8: [GONE_TYPE, model.gone, (e) => e.id?.value],
    };
    for (const field of fields(bytes)) {
      const target = field.wireType === 2 ? sections[field.number] : undefined;
      if (!target) {
        rest.push(field.raw);
        continue;
      }
      const [type, map, idOf] = target;
      for (const item of fields(field.payload)) {
        if (item.number !== 1 || item.wireType !== 2) continue;
        const entry = decodeProto(type, item.payload);
        const id = idOf(entry);
        if (typeof id !== 'string') throw new Error(`registry entry without an agent id in field ${field.number}`);
        cache.set(entry, item.payload);
        map.delete(id); // a duplicate keeps the later position, as a re-add would
        map.set(id, entry);
      }
    }
    model.rest = decodeProto(REGISTRY_TYPE, Buffer.concat(rest));
    return model;
  }

  /** The registry as a message object; entries are shared with the model and must not be mutated. */
  view(): Registry {
    const out: Registry = { ...this.rest };
    if (this.admitted.size > 0) out.slaves = { slaves: [...this.admitted.values()] };
    if (this.unreachable.size > 0) out.unreachable = { slaves: [...this.unreachable.values()] };
    if (this.gone.size > 0) out.gone = { slaves: [...this.gone.values()] };
    for (const k of Object.keys(out)) if (Array.isArray(out[k]) && out[k].length === 0) delete out[k];
    return out;
  }

  /**
   * The encoded Registry. Protobuf fields may appear in any order, so the large agent sections
   * are appended from per-entry cached bytes after the small remainder.
   */
  encode(): Buffer {
    return Buffer.concat([
      encodeProto(REGISTRY_TYPE, this.rest),
      ...section(2, SLAVE_TYPE, this.admitted.values()),
      ...section(7, UNREACHABLE_TYPE, this.unreachable.values()),
      ...section(8, GONE_TYPE, this.gone.values()),
    ]);
  }

  /** Capabilities the registry demands that this master does not have. */
  missingCapabilities(): string[] {
    const caps: Msg[] = this.rest.minimum_capabilities ?? [];
    return caps.map((c) => String(c.capability)).filter((c) => !SUPPORTED_MINIMUM_CAPABILITIES.includes(c));
  }

  // ------------------------------------------------------------------ operations
  // Each returns true when it applied (possibly as a no-op, like Mesos) and false when it is
  // not applicable in the current state (Mesos's Error results).

  setMaster(masterInfo: Msg): boolean {
    return this.setRest({ ...this.rest, master: { info: masterInfo } });
  }

  admitAgent(info: Msg): boolean {
    const id = agentIdOf(info);
    if (id === undefined || this.admitted.has(id)) return false;
    const entry = encodable(SLAVE_TYPE, { info: storedInfo(info) });
    if (!entry) return false;
    this.admitted.set(id, entry);
    return true;
  }

  updateAgent(info: Msg): boolean {
    const id = agentIdOf(info);
    const current = id === undefined ? undefined : this.admitted.get(id);
    const entry = current && encodable(SLAVE_TYPE, { ...current, info: storedInfo(info) });
    if (!entry) return false;
    this.admitted.set(id!, entry);
    return true;
  }

  markUnreachable(agentId: string, timeMs: number): boolean {
    const current = this.admitted.get(agentId);
    if (!current || !Number.isFinite(timeMs)) return false;
    const entry: Msg = { id: { value: agentId }, timestamp: timeInfo(timeMs) };
    if (current.drain_info) entry.drain_info = current.drain_info;
    if (current.deactivated) entry.deactivated = true;
    this.admitted.delete(agentId);
    this.unreachable.set(agentId, entry);
    return true;
  }

  /** Back to admitted from unreachable (or from nowhere, if GC already dropped it). */
  markReachable(info: Msg): boolean {
    const id = agentIdOf(info);
    if (id === undefined) return false;
    if (this.admitted.has(id)) return true; // re-registering after a failover: nothing to do
    const was = this.unreachable.get(id);
    const fresh: Msg = { info: storedInfo(info) };
    if (was?.drain_info) fresh.drain_info = was.drain_info;
    if (was?.deactivated) fresh.deactivated = true;
    const entry = encodable(SLAVE_TYPE, fresh);
    if (!entry) return false;
    this.unreachable.delete(id);
    this.admitted.set(id, entry);
    return true;
  }

  markGone(agentId: string, timeMs: number): boolean {
    if (this.gone.has(agentId) || !Number.isFinite(timeMs)) return false;
    if (!this.admitted.delete(agentId) && !this.unreachable.delete(agentId)) return false;
    this.gone.set(agentId, { id: { value: agentId }, timestamp: timeInfo(timeMs) });
    return true;
  }

  removeAgent(agentId: string): boolean {
    return this.admitted.delete(agentId);
  }

  /** Drops the given unreachable/gone entries (GC); ids no longer present are ignored. */
  prune(unreachable: Iterable<string>, gone: Iterable<string>): boolean {
    for (const id of unreachable) this.unreachable.delete(id);
    for (const id of gone) this.gone.delete(id);
    return true;
  }

  /** Sets drain_info (DRAINING) and deactivates an admitted or unreachable agent. */
  drainAgent(agentId: string, config: Msg): boolean {
    return this.editAgent(agentId, (e) => ({ ...e, drain_info: { state: 'DRAINING', config }, deactivated: true }));
  }

  markAgentDrained(agentId: string): boolean {
    return this.editAgent(agentId, (e) =>
      e.drain_info ? { ...e, drain_info: { ...e.drain_info, state: 'DRAINED' } } : undefined,
    );
  }

  deactivateAgent(agentId: string): boolean {
    return this.editAgent(agentId, (e) => ({ ...e, deactivated: true }));
  }

  /** Reactivation also ends any drain. */
  reactivateAgent(agentId: string): boolean {
    return this.editAgent(agentId, (e) => without({ ...e, deactivated: false }, 'drain_info', 'deactivated'));
  }

  /** Sets (or, at weight 1.0, keeps) each role's weight. */
  updateWeights(weightInfos: Msg[]): boolean {
    const weights: Msg[] = [...(this.rest.weights ?? [])];
    for (const w of weightInfos) {
      const i = weights.findIndex((x) => x.info?.role === w.role);
      if (i >= 0) weights[i] = { info: w };
      else weights.push({ info: w });
    }
    return this.setRest({ ...this.rest, weights });
  }

  /**
   * Sets each role's QuotaConfig; a config with neither guarantees nor limits removes the role's
   * quota. Superseded deprecated `quotas` entries are dropped, and the QUOTA_V2 minimum
   * capability tracks whether any quota_configs remain.
   */
  updateQuota(configs: Msg[]): boolean {
    let quotaConfigs: Msg[] = [...(this.rest.quota_configs ?? [])];
    let quotas: Msg[] = [...(this.rest.quotas ?? [])];
    for (const c of configs) {
      const isDefault = Object.keys(c.guarantees ?? {}).length === 0 && Object.keys(c.limits ?? {}).length === 0;
      const i = quotaConfigs.findIndex((x) => x.role === c.role);
      if (isDefault) quotaConfigs = quotaConfigs.filter((x) => x.role !== c.role);
      else if (i >= 0) quotaConfigs[i] = c;
      else quotaConfigs.push(c);
      quotas = quotas.filter((q) => q.info?.role !== c.role);
    }
    let caps: Msg[] = (this.rest.minimum_capabilities ?? []).filter((m: Msg) => m.capability !== 'QUOTA_V2');
    if (quotaConfigs.length > 0) caps = [...caps, { capability: 'QUOTA_V2' }];
    return this.setRest({ ...this.rest, quota_configs: quotaConfigs, quotas, minimum_capabilities: caps });
  }

  /**
   * Replaces the maintenance schedule: scheduled machines not yet known start DRAINING, known
   * ones get their new unavailability, and DRAINING machines no longer scheduled are dropped
   * (DOWN machines stay until maintenance is stopped).
   */
  updateSchedule(schedule: Msg): boolean {
    const scheduled = new Map<string, Msg>();
    for (const w of schedule.windows ?? []) {
      for (const m of w.machine_ids ?? []) scheduled.set(machineKey(m), { id: m, unavailability: w.unavailability });
    }
    const machines: Msg[] = [];
    const seen = new Set<string>();
    for (const machine of this.rest.machines?.machines ?? []) {
      const key = machineKey(machine.info.id);
      const next = scheduled.get(key);
      if (next) {
        machines.push({ info: { ...machine.info, unavailability: next.unavailability } });
        seen.add(key);
      } else if (machine.info.mode !== 'DRAINING') {
        machines.push(machine);
      }
    }
    for (const [key, m] of scheduled) {
      if (!seen.has(key)) machines.push({ info: { id: m.id, mode: 'DRAINING', unavailability: m.unavailability } });
    }
    return this.setRest({ ...this.rest, machines: { machines }, schedules: (schedule.windows ?? []).length ? [schedule] : [] });
  }

  /** The given machines go DOWN; false if one of them is not scheduled. */
  startMaintenance(machineIds: Msg[]): boolean {
    const keys = new Set(machineIds.map(machineKey));
    const machines: Msg[] = this.rest.machines?.machines ?? [];
    const known = new Set(machines.map((m) => machineKey(m.info.id)));
    if ([...keys].some((k) => !known.has(k))) return false;
    return this.setRest({
      ...this.rest,
      machines: { machines: machines.map((m) => (keys.has(machineKey(m.info.id)) ? { info: { ...m.info, mode: 'DOWN' } } : m)) },
    });
  }

  /** The given machines leave maintenance: removed from machines and from the schedule. */
  stopMaintenance(machineIds: Msg[]): boolean {
    const keys = new Set(machineIds.map(machineKey));
    const machines: Msg[] = (this.rest.machines?.machines ?? []).filter((m: Msg) => !keys.has(machineKey(m.info.id)));
    const schedules: Msg[] = (this.rest.schedules ?? [])
      .map((s: Msg) => ({
        ...s,
        windows: (s.windows ?? [])
          .map((w: Msg) => ({ ...w, machine_ids: (w.machine_ids ?? []).filter((m: Msg) => !keys.has(machineKey(m))) }))
          .filter((w: Msg) => w.machine_ids.length > 0),
      }))
      .filter((s: Msg) => s.windows.length > 0);
    return this.setRest({ ...this.rest, machines: { machines }, schedules });
  }

  /**
   * Unreachable and gone entries to drop: older than `maxAgeMs` at `nowMs`, then the oldest
   * beyond `maxCount` (counted per list, like Mesos).
   */
  gcCandidates(maxAgeMs: number, maxCount: number, nowMs: number): { unreachable: string[]; gone: string[] } {
    const pick = (entries: Map<string, Msg>): string[] => {
      const out: string[] = [];
      const young: string[] = [];
      for (const [id, e] of entries) (nowMs - timeInfoMs(e.timestamp) > maxAgeMs ? out : young).push(id);
      const excess = young.length - Math.max(0, maxCount);
      if (excess > 0) out.push(...young.slice(0, excess)); // oldest first
      return out;
    };
    return { unreachable: pick(this.unreachable), gone: pick(this.gone) };
  }

  /** Takes a new remainder only if it encodes, so a bad message cannot poison later stores. */
  private setRest(next: Msg): boolean {
    try {
      encodeProto(REGISTRY_TYPE, next);
    } catch {
      return false;
    }
    this.rest = next;
    return true;
  }

  private editAgent(agentId: string, edit: (entry: Msg) => Msg | undefined): boolean {
    for (const [section, type] of [[this.admitted, SLAVE_TYPE], [this.unreachable, UNREACHABLE_TYPE]] as const) {
      const current = section.get(agentId);
      if (!current) continue;
      const next = edit(current);
      if (!next || !encodable(type, next)) return false;
      section.set(agentId, next); // same key: keeps its position
      return true;
    }
    return false;
  }
}

/**
 * The entry if it encodes (its bytes are cached right away, so later changes to the caller's
 * objects cannot leak into the store); undefined for an invalid one, which must never reach
 * the store and poison every later write.
 */
function encodable(type: string, entry: Msg): Msg | undefined {
  try {
    encodedEntry(type, entry);
    return entry;
  } catch {
    return undefined;
  }
}

/**
 * Agents are stored with their resources in the pre-refinement format, so that older masters
 * can read the registry (as Mesos does). Only infos using the `reservations` stack need it.
 */
function storedInfo(info: Msg): Msg {
  const resources: Msg[] | undefined = info.resources;
  if (!resources?.some((r) => Array.isArray(r.reservations) && r.reservations.length > 0)) return info;
  try {
    return { ...info, resources: Resources.fromProto(resources).toProto() };
  } catch {
    return info; // the master validated them; never lose an agent over a format conversion
  }
}

function agentIdOf(info: Msg): string | undefined {
  const v = info?.id?.value;
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function machineKey(id: Msg): string {
  return `${id?.hostname ?? ''}\u0000${id?.ip ?? ''}`;
}
