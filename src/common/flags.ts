// Mesos-style flags: `--name=value`, `--name` / `--no-name` for booleans, and MESOS_<NAME> env vars.
import { readFileSync } from 'node:fs';
import { parseBytes, parseDuration } from './units.js';

export type FlagKind = 'string' | 'int' | 'float' | 'bool' | 'duration' | 'bytes';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  help: string;
  /** The default as Mesos prints it in /flags (a string), or undefined when the flag has none. */
  default?: string;
  required?: boolean;
}

export type FlagValue = string | number | boolean;

export class FlagsError extends Error {}

export interface ParsedFlags {
  /** Typed values: durations in ms, byte sizes in bytes. */
  values: Map<string, FlagValue>;
  /** The raw strings as given (or defaults), which is what /flags reports. */
  raw: Map<string, string>;
  /** Positional arguments left after the flags. */
  rest: string[];
  help: boolean;
}

function convert(spec: FlagSpec, text: string): FlagValue {
  switch (spec.kind) {
    case 'string':
      return text;
    case 'int': {
      if (!/^-?\d+$/.test(text.trim())) throw new FlagsError(`Failed to load flag '${spec.name}': '${text}' is not an integer`);
      return Number(text);
    }
    case 'float': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new FlagsError(`Failed to load flag '${spec.name}': '${text}' is not a number`);
      return n;
    }
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (t === 'true' || t === '1' || t === '') return true;
      if (t === 'false' || t === '0') return false;
      throw new FlagsError(`Failed to load flag '${spec.name}': '${text}' is not a boolean`);
    }
    case 'duration':
      try {
        return parseDuration(text);
      } catch (e) {
        throw new FlagsError(`Failed to load flag '${spec.name}': ${(e as Error).message}`);
      }
    case 'bytes':
      try {
        return parseBytes(text);
      } catch (e) {
        throw new FlagsError(`Failed to load flag '${spec.name}': ${(e as Error).message}`);
      }
  }
}

/** stout lets a flag value be `file:///path`, meaning "read the value from that file". */
function resolveFileValue(text: string): string {
  if (text.startsWith('file://')) {
    try {
      return readFileSync(text.slice('file://'.length), 'utf8').trim();
    } catch (e) {
      throw new FlagsError(`Failed to read '${text}': ${(e as Error).message}`);
    }
  }
  return text;
}

/** Flags whose values are paths or inline documents and must not be read through `file://`. */
const LITERAL_FLAGS = new Set(['master', 'zk', 'work_dir', 'resources']);

export function parseFlags(specs: FlagSpec[], argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const given = new Map<string, string>();

  for (const spec of specs) {
    const envValue = env[`MESOS_${spec.name.toUpperCase()}`];
    if (envValue !== undefined) given.set(spec.name, envValue);
  }

  const rest: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      rest.push(arg);
      continue;
    }
    if (arg === '--help' || arg === '--h') {
      help = true;
      continue;
    }
    const body = arg.slice(2);
    const eq = body.indexOf('=');
    let name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    name = name.replace(/-/g, '_');
    let spec = byName.get(name);
    if (!spec && value === undefined && name.startsWith('no_') && byName.get(name.slice(3))?.kind === 'bool') {
      spec = byName.get(name.slice(3));
      name = name.slice(3);
      value = 'false';
    }
    if (!spec) throw new FlagsError(`Failed to load unknown flag '${name}'`);
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined) throw new FlagsError(`Failed to load flag '${name}': missing value`);
        value = next;
        i++;
      }
    }
    given.set(name, value);
  }

  const values = new Map<string, FlagValue>();
  const raw = new Map<string, string>();
  for (const spec of specs) {
    let text = given.get(spec.name);
    if (text !== undefined && !LITERAL_FLAGS.has(spec.name) && spec.kind === 'string') text = resolveFileValue(text);
    if (text === undefined) text = spec.default;
    if (text === undefined) {
      if (spec.required && !help) throw new FlagsError(`Flag '--${spec.name}' is required, but it was not provided`);
      continue;
    }
    raw.set(spec.name, text);
    values.set(spec.name, convert(spec, text));
  }
  return { values, raw, rest, help };
}

export function flagsUsage(program: string, specs: FlagSpec[]): string {
  const lines = [`Usage: ${program} [options]`, ''];
  for (const s of [...specs].sort((a, b) => a.name.localeCompare(b.name))) {
    const def = s.default !== undefined ? ` (default: ${s.default})` : '';
    lines.push(`  --${s.name}${s.kind === 'bool' ? '' : '=VALUE'}`);
    lines.push(`      ${s.help}${def}`);
  }
  return lines.join('\n');
}

/** Typed accessors over ParsedFlags, so callers don't cast. */
export class Flags {
  constructor(readonly parsed: ParsedFlags) {}
  has(name: string): boolean {
    return this.parsed.values.has(name);
  }
  str(name: string): string | undefined {
    const v = this.parsed.values.get(name);
    return v === undefined ? undefined : String(v);
  }
  num(name: string): number | undefined {
    const v = this.parsed.values.get(name);
    return typeof v === 'number' ? v : undefined;
  }
  bool(name: string): boolean {
    return this.parsed.values.get(name) === true;
  }
  /** What /flags reports: every flag that has a value, as a string. */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of [...this.parsed.raw.entries()].sort(([a], [b]) => a.localeCompare(b))) out[k] = v;
    return out;
  }
}
