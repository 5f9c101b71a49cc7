// How offer operations (OPS-*) convert resources: RESERVE/UNRESERVE push/pop a reservation,
// CREATE/DESTROY turn reserved disk into persistent volumes and back, GROW/SHRINK_VOLUME resize.
// LAUNCH and LAUNCH_GROUP leave the total unchanged. Master-side validation (principals, roles,
// capabilities) is the master's job; this only checks that the source resources are there.
import type { Msg } from './entry.js';
import { Resources } from './resources.js';
import { ResourcesError, toMilli, fromMilli } from './values.js';

function one(r: Msg, op: string): Resources {
  try {
    return Resources.fromProto([r]);
  } catch (e) {
    throw new ResourcesError(`Invalid ${op} Operation: ${(e as Error).message}`);
  }
}

function list(v: unknown, op: string, field: string): Msg[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ResourcesError(`Invalid ${op} Operation: '${field}' must be an array`);
  return v as Msg[];
}

/** The volume with its persistence, volume and sharedness removed: the disk it was created from. */
function stripVolume(v: Msg): Msg {
  const out: Msg = { ...v };
  delete out.shared;
  const disk: Msg = { ...v.disk };
  delete disk.persistence;
  delete disk.volume;
  if (Object.keys(disk).length === 0) delete out.disk;
  else out.disk = disk;
  return out;
}

function withScalar(r: Msg, value: number): Msg {
  return { ...r, scalar: { value } };
}

/** Resources after `operation` (an `Offer.Operation` message); throws ResourcesError if the source is missing. */
export function applyOperation(total: Resources, operation: Msg): Resources {
  const type = operation?.type;
  let result = total;
  switch (type) {
    case 'LAUNCH':
    case 'LAUNCH_GROUP':
      return total;

    case 'RESERVE':
      for (const r of list(operation.reserve?.resources, 'RESERVE', 'reserve.resources')) {
        const reserved = one(r, 'RESERVE');
        const stack = reserved.toArray()[0]?.reservations ?? [];
        if (stack.length === 0) throw new ResourcesError(`Invalid RESERVE Operation: ${reserved} is not reserved`);
        if (stack[stack.length - 1].type !== 'DYNAMIC') {
          throw new ResourcesError(`Invalid RESERVE Operation: ${reserved} must be dynamically reserved`);
        }
        const source = reserved.popReservation();
        if (!result.contains(source)) throw new ResourcesError(`Invalid RESERVE Operation: ${result} does not contain ${source}`);
        result = result.minus(source).plus(reserved);
      }
      return result;

    case 'UNRESERVE':
      for (const r of list(operation.unreserve?.resources, 'UNRESERVE', 'unreserve.resources')) {
        const reserved = one(r, 'UNRESERVE');
        const stack = reserved.toArray()[0]?.reservations ?? [];
        if (stack.length === 0) throw new ResourcesError(`Invalid UNRESERVE Operation: ${reserved} is not reserved`);
        if (!result.contains(reserved)) throw new ResourcesError(`Invalid UNRESERVE Operation: ${result} does not contain ${reserved}`);
        result = result.minus(reserved).plus(reserved.popReservation());
      }
      return result;

    case 'CREATE':
      for (const v of list(operation.create?.volumes, 'CREATE', 'create.volumes')) {
        if (v?.disk?.persistence === undefined) throw new ResourcesError('Invalid CREATE Operation: missing persistence in the volume');
        const volume = one(v, 'CREATE');
        const source = one(stripVolume(v), 'CREATE');
        if (!result.contains(source)) {
          throw new ResourcesError(`Invalid CREATE Operation: insufficient disk resources for persistent volume ${volume}`);
        }
        result = result.minus(source).plus(volume);
      }
      return result;

    case 'DESTROY':
      for (const v of list(operation.destroy?.volumes, 'DESTROY', 'destroy.volumes')) {
        if (v?.disk?.persistence === undefined) throw new ResourcesError('Invalid DESTROY Operation: missing persistence in the volume');
        const volume = one(v, 'DESTROY');
        if (!result.contains(volume)) throw new ResourcesError(`Invalid DESTROY Operation: persistent volume ${volume} does not exist`);
        result = result.minus(volume).plus(one(stripVolume(v), 'DESTROY'));
      }
      return result;

    case 'GROW_VOLUME': {
      const g = operation.grow_volume ?? {};
      if (g.volume?.disk?.persistence === undefined) throw new ResourcesError('Invalid GROW_VOLUME Operation: missing persistence in the volume');
      const volume = one(g.volume, 'GROW_VOLUME');
      const addition = one(g.addition ?? {}, 'GROW_VOLUME');
      const consumed = volume.plus(addition);
      if (!result.contains(consumed)) throw new ResourcesError(`Invalid GROW_VOLUME Operation: ${result} does not contain ${consumed}`);
      const grown = one(withScalar(g.volume, fromMilli(toMilli(volume.scalar('disk')) + toMilli(addition.scalar('disk')))), 'GROW_VOLUME');
      return result.minus(consumed).plus(grown);
    }

    case 'SHRINK_VOLUME': {
      const s = operation.shrink_volume ?? {};
      if (s.volume?.disk?.persistence === undefined) throw new ResourcesError('Invalid SHRINK_VOLUME Operation: missing persistence in the volume');
      const volume = one(s.volume, 'SHRINK_VOLUME');
      const by = toMilli(Number(s.subtract?.value));
      const size = toMilli(volume.scalar('disk'));
      if (!(by > 0) || by >= size) throw new ResourcesError('Invalid SHRINK_VOLUME Operation: the amount to subtract must be positive and smaller than the volume');
      if (!result.contains(volume)) throw new ResourcesError(`Invalid SHRINK_VOLUME Operation: persistent volume ${volume} does not exist`);
      const shrunk = one(withScalar(s.volume, fromMilli(size - by)), 'SHRINK_VOLUME');
      const freed = one(withScalar(stripVolume(s.volume), fromMilli(by)), 'SHRINK_VOLUME');
      return result.minus(volume).plus(shrunk).plus(freed);
    }

    default:
      throw new ResourcesError(`Unsupported offer operation type '${String(type)}'`);
  }
}
