// --reconfiguration_policy: may an agent whose flags changed keep its checkpointed id?
// `equal`: hostname, port, resources, attributes and domain must all be unchanged. `additive`:
// hostname and port unchanged, resources and attributes may only be added, a domain only set.
import { encodeProto, type Msg } from '../../protocol/codec.js';
import { Resources } from '../../resources/index.js';

const same = (type: string, a: Msg | undefined, b: Msg | undefined) =>
  (a === undefined) === (b === undefined) && (a === undefined || encodeProto(type, a).equals(encodeProto(type, b!)));

const attrKey = (a: Msg) => `${a.name}\u0000${encodeProto('mesos.v1.Attribute', a).toString('hex')}`;

/** Why `current` may not take over `previous`'s id, or undefined when it may. */
export function incompatibility(previous: Msg, current: Msg, policy: string): string | undefined {
  if (previous.hostname !== current.hostname) return `hostname changed from '${previous.hostname}' to '${current.hostname}'`;
  if ((previous.port ?? 5051) !== (current.port ?? 5051)) return `port changed from ${previous.port ?? 5051} to ${current.port ?? 5051}`;
  const before = Resources.fromProto(previous.resources ?? []);
  const after = Resources.fromProto(current.resources ?? []);
  const attrsBefore = ((previous.attributes ?? []) as Msg[]).map(attrKey);
  const attrsAfter = ((current.attributes ?? []) as Msg[]).map(attrKey);
  if (policy === 'additive') {
    if (!after.contains(before)) return `resources shrank from ${before.toString()} to ${after.toString()}`;
    const missing = attrsBefore.filter((a) => !attrsAfter.includes(a));
    if (missing.length > 0) return `attributes were removed or changed: ${missing.map((a) => a.split('\u0000')[0]).join(', ')}`;
    if (previous.domain && !same('mesos.v1.DomainInfo', previous.domain, current.domain)) return 'domain changed';
    return undefined;
  }
  if (!before.equals(after)) return `resources changed from ${before.toString()} to ${after.toString()}`;
  if ([...attrsBefore].sort().join('|') !== [...attrsAfter].sort().join('|')) return 'attributes changed';
  if (!same('mesos.v1.DomainInfo', previous.domain, current.domain)) return 'domain changed';
  return undefined;
}
