// Offer constraints (ALC-30): `OfferConstraints.role_constraints[role].groups[].attribute_constraints[]`.
// Groups are OR'ed, constraints inside a group AND'ed. A selector names an agent attribute or a
// pseudoattribute (HOSTNAME, REGION, ZONE); text predicates match any non-TEXT attribute, and the
// first attribute with the name is the one looked at.
import type { Msg } from './allocator.js';

export type AgentPredicate = (agentInfo: Msg) => boolean;

export class OfferConstraintsError extends Error {}

interface Selected {
  present: boolean;
  /** The text value, or undefined for a present non-TEXT attribute. */
  text?: string;
}

function select(selector: Msg, info: Msg): Selected {
  if (selector.attribute_name !== undefined) {
    const attr = (info.attributes ?? []).find((a: Msg) => a?.name === selector.attribute_name);
    if (!attr) return { present: false };
    return { present: true, text: attr.type === 'TEXT' || (attr.type === undefined && attr.text) ? String(attr.text?.value ?? '') : undefined };
  }
  const domain = info.domain?.fault_domain;
  switch (selector.pseudoattribute_type) {
    case 'HOSTNAME':
      return { present: true, text: String(info.hostname ?? '') };
    case 'REGION':
      return domain?.region?.name !== undefined ? { present: true, text: String(domain.region.name) } : { present: false };
    case 'ZONE':
      return domain?.zone?.name !== undefined ? { present: true, text: String(domain.zone.name) } : { present: false };
    default:
      throw new OfferConstraintsError(`Unknown selector ${JSON.stringify(selector)}`);
  }
}

function regex(source: unknown): RegExp {
  try {
    // RE2 full-match semantics.
    return new RegExp(`^(?:${String(source)})$`, 'u');
  } catch (err) {
    throw new OfferConstraintsError(`Invalid regular expression '${String(source)}': ${(err as Error).message}`);
  }
}

function compileConstraint(c: Msg): AgentPredicate {
  const selector = c?.selector;
  const p = c?.predicate;
  if (!selector || (selector.attribute_name === undefined && selector.pseudoattribute_type === undefined)) {
    throw new OfferConstraintsError('Attribute constraint has no selector');
  }
  if (!p) throw new OfferConstraintsError('Attribute constraint has no predicate');
  if (selector.pseudoattribute_type !== undefined && !['HOSTNAME', 'REGION', 'ZONE'].includes(selector.pseudoattribute_type)) {
    throw new OfferConstraintsError(`Unknown pseudoattribute type '${selector.pseudoattribute_type}'`);
  }
  if (p.exists !== undefined) return (info) => select(selector, info).present;
  if (p.not_exists !== undefined) return (info) => !select(selector, info).present;
  if (p.text_equals !== undefined) {
    const v = String(p.text_equals.value ?? '');
    return (info) => {
      const s = select(selector, info);
      return s.present && (s.text === undefined || s.text === v);
    };
  }
  if (p.text_not_equals !== undefined) {
    const v = String(p.text_not_equals.value ?? '');
    return (info) => {
      const s = select(selector, info);
      return !s.present || s.text === undefined || s.text !== v;
    };
  }
  if (p.text_matches !== undefined) {
    const re = regex(p.text_matches.regex);
    return (info) => {
      const s = select(selector, info);
      return s.present && (s.text === undefined || re.test(s.text));
    };
  }
  if (p.text_not_matches !== undefined) {
    const re = regex(p.text_not_matches.regex);
    return (info) => {
      const s = select(selector, info);
      return !s.present || s.text === undefined || !re.test(s.text);
    };
  }
  throw new OfferConstraintsError('Attribute constraint has no known predicate');
}

/** Compiles OfferConstraints into a predicate per role. Throws OfferConstraintsError on bad input. */
export function compileOfferConstraints(constraints: Msg | undefined): Map<string, AgentPredicate> {
  const out = new Map<string, AgentPredicate>();
  for (const [role, rc] of Object.entries((constraints?.role_constraints ?? {}) as Record<string, Msg>)) {
    const groups: Msg[] = rc?.groups ?? [];
    if (groups.length === 0) throw new OfferConstraintsError(`Role '${role}' has no constraint groups`);
    const compiled = groups.map((g) => {
      const list: Msg[] = g?.attribute_constraints ?? [];
      if (list.length === 0) throw new OfferConstraintsError(`A constraint group of role '${role}' is empty`);
      const preds = list.map(compileConstraint);
      return (info: Msg) => preds.every((p) => p(info));
    });
    out.set(role, (info) => compiled.some((g) => g(info)));
  }
  return out;
}
