// The one place that knows protobufjs. Converts Meseta's plain message objects
// (see docs/architecture.md "Message objects") to and from binary protobuf and
// Mesos's JSON conventions (stout's protobuf <-> JSON rules).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// protobufjs's Buffer reader clamps a string's length to the end of the input instead of failing,
// so a truncated message would decode "successfully". Mesos rejects it; so do we.
{
  const proto = (protobuf as unknown as { BufferReader: { prototype: Record<string, unknown> } }).BufferReader.prototype;
  proto.string = function readStringChecked(this: { uint32(): number; pos: number; len: number; buf: Buffer }): string {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.len) throw new RangeError(`index out of range: ${this.pos} + ${length} > ${this.len}`);
    const value = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return value;
  };
}

/** A protobuf message as a plain object keyed by proto field names. */
export type Msg = Record<string, any>;

/** Malformed or invalid message; `message` is fit for an HTTP 400 body. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// ---------------------------------------------------------------------------
// Loading the schemas.

const ROOT_MARKER = path.join('proto', 'mesos', 'v1', 'mesos.proto');

/** Finds `proto/` by walking up from this module (works from src/, dist/, .build/<x>/). */
function findProtoDir(): string {
  const override = process.env.MESETA_PROTO_DIR;
  if (override && fs.existsSync(path.join(override, 'mesos', 'v1', 'mesos.proto'))) return override;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, ROOT_MARKER))) return path.join(dir, 'proto');
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${ROOT_MARKER} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function listProtoFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listProtoFiles(dir, child));
    else if (entry.name.endsWith('.proto')) out.push(child);
  }
  return out.sort();
}

let root: protobuf.Root | undefined;

function getRoot(): protobuf.Root {
  if (root) return root;
  const dir = findProtoDir();
  const r = new protobuf.Root();
  r.resolvePath = (_origin: string, target: string) =>
    path.isAbsolute(target) ? target : path.join(dir, target);
  r.loadSync(listProtoFiles(dir), { keepCase: true });
  r.resolveAll();
  // We check required fields ourselves (reporting full paths, like Mesos), so
  // protobufjs must neither throw on them while decoding nor write them
  // unconditionally (even when undefined) while encoding.
  forEachType(r, (t) => {
    for (const f of t.fieldsArray) {
      if (ruleOf(f) === 'required') Object.defineProperty(f, 'required', { value: false });
    }
  });
  root = r;
  return r;
}

/** The declared rule (`required`/`repeated`/undefined); not in protobufjs's typings. */
function ruleOf(f: protobuf.Field): string | undefined {
  return (f as unknown as { rule?: string }).rule;
}

function forEachType(ns: protobuf.NamespaceBase, fn: (t: protobuf.Type) => void): void {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type) fn(child);
    if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) {
      forEachType(child as protobuf.NamespaceBase, fn);
    }
  }
}

// ---------------------------------------------------------------------------
// Per-type field tables, built once.

type Kind = 'string' | 'bytes' | 'bool' | 'double' | 'int' | 'int64' | 'enum' | 'message';

interface FieldInfo {
  name: string;
  kind: Kind;
  repeated: boolean;
  required: boolean;
  map: boolean;
  /** Kind of the map key (maps only). */
  keyKind?: Kind;
  unsigned: boolean;
  enumByName?: Record<string, number>;
  enumById?: Record<number, string>;
  message?: Schema;
  /** Explicit `[default = ...]`, emitted by toJson like stout does. */
  jsonDefault?: unknown;
}

interface Schema {
  fullName: string;
  type: protobuf.Type;
  fields: FieldInfo[];
  byName: Map<string, FieldInfo>;
  /** Names of its required fields. */
  required: string[];
  /** Whether this type or any type reachable from it has a required field (computed on first use). */
  checks?: boolean;
  /** fromWire compiled for this type (on first decode). */
  convert?: (msg: Msg) => Msg;
}

const schemas = new Map<protobuf.Type, Schema>();

function scalarKind(t: string): Kind {
  switch (t) {
    case 'string': return 'string';
    case 'bytes': return 'bytes';
    case 'bool': return 'bool';
    case 'double': case 'float': return 'double';
    case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64': return 'int64';
    default: return 'int';
  }
}

function schemaOf(type: protobuf.Type): Schema {
  const cached = schemas.get(type);
  if (cached) return cached;
  const schema: Schema = { fullName: type.fullName.replace(/^\./, ''), type, fields: [], byName: new Map(), required: [] };
  schemas.set(type, schema); // before recursing: messages may be recursive
  for (const f of type.fieldsArray) {
    const resolved = f.resolvedType;
    const info: FieldInfo = {
      name: f.name,
      kind: resolved instanceof protobuf.Type ? 'message' : resolved instanceof protobuf.Enum ? 'enum' : scalarKind(f.type),
      repeated: f.repeated,
      required: ruleOf(f) === 'required',
      map: f instanceof protobuf.MapField,
      unsigned: /^(uint|fixed)/.test(f.type),
    };
    if (f instanceof protobuf.MapField) info.keyKind = scalarKind(f.keyType);
    if (resolved instanceof protobuf.Enum) {
      info.enumByName = resolved.values;
      info.enumById = resolved.valuesById;
    }
    if (resolved instanceof protobuf.Type) info.message = schemaOf(resolved);
    const opts = f.options ?? {};
    if (!info.repeated && !info.map && opts.default !== undefined && !opts.deprecated) {
      info.jsonDefault = opts.default;
    }
    schema.fields.push(info);
    schema.byName.set(info.name, info);
    if (info.required) schema.required.push(info.name);
  }
  return schema;
}

/** Type name -> schema: every message sent or received looks its type up (the root never changes). */
const schemasByName = new Map<string, Schema>();

function lookup(typeName: string): Schema {
  const known = schemasByName.get(typeName);
  if (known) return known;
  const schema = lookupUncached(typeName);
  schemasByName.set(typeName, schema);
  return schema;
}

function lookupUncached(typeName: string): Schema {
  const name = typeName.replace(/^\./, '');
  let t: protobuf.Type | undefined;
  try {
    t = getRoot().lookupType(name);
  } catch {
    t = undefined;
  }
  if (!t) throw new ProtocolError(`Unknown message type '${typeName}'`);
  return schemaOf(t);
}

/** True if `type` (a full proto name like `mesos.v1.scheduler.Call`) is known. */
export function hasType(type: string): boolean {
  try {
    lookup(type);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Helpers.

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Uint8Array);
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Reachability over message fields, so subtrees without required fields are never walked. */
function needsCheck(schema: Schema): boolean {
  if (schema.checks !== undefined) return schema.checks;
  const seen = new Set<Schema>([schema]);
  const stack = [schema];
  let found = false;
  while (!found && stack.length > 0) {
    for (const f of stack.pop()!.fields) {
      if (f.required) {
        found = true;
        break;
      }
      if (f.message && !seen.has(f.message)) {
        seen.add(f.message);
        stack.push(f.message);
      }
    }
  }
  schema.checks = found;
  return found;
}

function missingRequired(schema: Schema, msg: Msg, prefix: string, out: string[]): void {
  if (!needsCheck(schema)) return;
  for (const f of schema.fields) {
    const v = msg[f.name];
    if (f.required && !present(v)) out.push(join(prefix, f.name));
    if (f.kind !== 'message' || !present(v) || !needsCheck(f.message!)) continue;
    if (f.map) {
      for (const [k, item] of Object.entries(v as Record<string, Msg>)) {
        missingRequired(f.message!, item, `${join(prefix, f.name)}[${k}]`, out);
      }
    } else if (f.repeated) {
      const items = v as Msg[];
      // The path is only built for a message that is missing something.
      for (let i = 0; i < items.length; i++) {
        const before = out.length;
        missingRequired(f.message!, items[i]!, '', out);
        for (let j = before; j < out.length; j++) out[j] = `${join(prefix, f.name)}[${i}].${out[j]}`;
      }
    } else {
      missingRequired(f.message!, v as Msg, join(prefix, f.name), out);
    }
  }
}

function checkRequired(schema: Schema, msg: Msg): void {
  const missing: string[] = [];
  missingRequired(schema, msg, '', missing);
  if (missing.length > 0) throw new ProtocolError(`Missing required fields: ${missing.join(', ')}`);
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v);
}

// ---------------------------------------------------------------------------
// Internal object -> protobufjs-encodable object.

function internalValue(f: FieldInfo, v: unknown, where: string): unknown {
  switch (f.kind) {
    case 'message':
      if (!isPlainObject(v)) throw new ProtocolError(`Expecting an object for field '${where}'`);
      return toWire(f.message!, v, where);
    case 'enum': {
      if (typeof v === 'number' && f.enumById![v] !== undefined) return v;
      const id = typeof v === 'string' ? f.enumByName![v] : undefined;
      if (id === undefined) throw new ProtocolError(`Unknown enum value ${JSON.stringify(v)} for field '${where}'`);
      return id;
    }
    case 'bytes':
      if (v instanceof Uint8Array) return v;
      throw new ProtocolError(`Expecting a Buffer for bytes field '${where}'`);
    case 'string':
      if (typeof v !== 'string') throw new ProtocolError(`Expecting a string for field '${where}'`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw new ProtocolError(`Expecting a boolean for field '${where}'`);
      return v;
    default:
      if (typeof v !== 'number') throw new ProtocolError(`Expecting a number for field '${where}'`);
      return v;
  }
}

function toWire(schema: Schema, msg: Msg, prefix: string): Msg {
  const out: Msg = {};
  for (const f of schema.fields) {
    const v = msg[f.name];
    if (!present(v)) continue;
    const where = join(prefix, f.name);
    if (f.map) {
      if (!isPlainObject(v)) throw new ProtocolError(`Expecting an object for map field '${where}'`);
      const m: Msg = {};
      for (const [k, item] of Object.entries(v)) {
        if (present(item)) m[k] = internalValue(f, item, `${where}[${k}]`);
      }
      out[f.name] = m;
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw new ProtocolError(`Expecting an array for field '${where}'`);
      out[f.name] = v.map((item, i) => internalValue(f, item, `${where}[${i}]`));
    } else {
      out[f.name] = internalValue(f, v, where);
    }
  }
  return out;
}

/** Serializes a message object to binary protobuf. */
export function encodeProto(type: string, msg: Msg): Buffer {
  const schema = lookup(type);
  checkRequired(schema, msg);
  const bytes = schema.type.encode(toWire(schema, msg, '')).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---------------------------------------------------------------------------
// protobufjs decoded message -> internal object.

function fromWire(schema: Schema, msg: Msg): Msg {
  return (schema.convert ??= compileFromWire(schema))(msg);
}

/**
 * fromWire for one type as straight-line code (as protobufjs does for decode): one property read
 * per field instead of a generic loop; failover decodes tens of thousands of these per second.
 * Field names come from the .proto files and are quoted with JSON.stringify.
 */
function compileFromWire(schema: Schema): (msg: Msg) => Msg {
  const fields = schema.fields;
  const lines: string[] = ['const out = {};', 'let v;'];
  fields.forEach((f, i) => {
    const name = JSON.stringify(f.name);
    const item = (x: string): string => {
      switch (f.kind) {
        case 'message': return `fromWire(F[${i}].message, ${x})`;
        case 'enum': return `F[${i}].enumById[${x}]`; // unknown numbers are dropped (proto2)
        case 'bytes': return `(Buffer.isBuffer(${x}) ? ${x} : Buffer.from(${x}))`;
        case 'int64': return `toNumber(${x})`;
        default: return x;
      }
    };
    lines.push(`if (hasOwn.call(m, ${name}) && (v = m[${name}]) !== undefined && v !== null) {`);
    if (f.map) {
      lines.push(
        '  const ks = Object.keys(v);',
        '  if (ks.length > 0) {',
        '    const o = {};',
        `    for (const k of ks) { const it = ${item('v[k]')}; if (it !== undefined) o[k] = it; }`,
        `    out[${name}] = o;`,
        '  }',
      );
    } else if (f.repeated) {
      lines.push(
        '  if (v.length > 0) {',
        '    const a = [];',
        `    for (let j = 0; j < v.length; j++) { const x = v[j]; const it = ${item('x')}; if (it !== undefined) a.push(it); }`,
        `    if (a.length > 0) out[${name}] = a;`,
        '  }',
      );
    } else {
      lines.push(`  const it = ${item('v')};`, `  if (it !== undefined) out[${name}] = it;`);
    }
    lines.push('}');
  });
  for (const name of schema.required) lines.push(`if (out[${JSON.stringify(name)}] === undefined) missing();`);
  lines.push('return out;');
  const make = new Function('F', 'fromWire', 'toNumber', 'Buffer', 'hasOwn', 'missing', `return function (m) {\n${lines.join('\n')}\n};`);
  return make(fields, fromWire, toNumber, Buffer, Object.prototype.hasOwnProperty, () => {
    missingSeen = true;
  }) as (msg: Msg) => Msg;
}

/** Set by fromWire when some message lacks a required field (the full check then names them). */
let missingSeen = false;

/** Parses binary protobuf; missing required fields are an error (as in Mesos). */
export function decodeProto(type: string, bytes: Uint8Array): Msg {
  const schema = lookup(type);
  let decoded: Msg;
  try {
    decoded = schema.type.decode(bytes) as unknown as Msg;
  } catch (e) {
    throw new ProtocolError(`Failed to parse ${schema.fullName} protobuf: ${(e as Error).message}`);
  }
  missingSeen = false;
  const msg = fromWire(schema, decoded);
  if (missingSeen) checkRequired(schema, msg);
  return msg;
}

// ---------------------------------------------------------------------------
// Internal object -> Mesos JSON.

function jsonNumber(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

function jsonValue(f: FieldInfo, v: unknown, where: string): unknown {
  switch (f.kind) {
    case 'message':
      if (!isPlainObject(v)) throw new ProtocolError(`Expecting an object for field '${where}'`);
      return toJsonObject(f.message!, v, where);
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw new ProtocolError(`Expecting a Buffer for bytes field '${where}'`);
      return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    case 'enum':
      if (typeof v === 'number' && f.enumById![v] !== undefined) return f.enumById![v];
      if (typeof v !== 'string' || f.enumByName![v] === undefined) {
        throw new ProtocolError(`Unknown enum value ${JSON.stringify(v)} for field '${where}'`);
      }
      return v;
    case 'double':
      return jsonNumber(toNumber(v));
    case 'int': case 'int64':
      return toNumber(v);
    default:
      return v;
  }
}

function toJsonObject(schema: Schema, msg: Msg, prefix: string): Msg {
  const out: Msg = {};
  for (const f of schema.fields) {
    const v = msg[f.name];
    const where = join(prefix, f.name);
    if (!present(v)) {
      if (f.jsonDefault !== undefined) out[f.name] = f.kind === 'double' ? jsonNumber(Number(f.jsonDefault)) : f.jsonDefault;
      continue;
    }
    if (f.map) {
      if (!isPlainObject(v)) throw new ProtocolError(`Expecting an object for map field '${where}'`);
      const m: Msg = {};
      for (const [k, item] of Object.entries(v)) if (present(item)) m[k] = jsonValue(f, item, `${where}[${k}]`);
      if (Object.keys(m).length > 0) out[f.name] = m;
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw new ProtocolError(`Expecting an array for field '${where}'`);
      if (v.length > 0) out[f.name] = v.map((item, i) => jsonValue(f, item, `${where}[${i}]`));
    } else {
      out[f.name] = jsonValue(f, v, where);
    }
  }
  return out;
}

/**
 * Mesos JSON for a message: proto field names, enums by name, bytes as base64,
 * int64 as numbers, unset fields with an explicit non-deprecated default included
 * (as stout does), non-finite doubles as "Infinity"/"-Infinity"/"NaN".
 */
export function toJson(type: string, msg: Msg): Msg {
  return toJsonObject(lookup(type), msg, '');
}

/** `toJson` serialized to a string. */
export function encodeJson(type: string, msg: Msg): string {
  return JSON.stringify(toJson(type, msg));
}

// ---------------------------------------------------------------------------
// Mesos JSON -> internal object (stout's parsing rules).

const NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

function parseNumberString(s: string, f: FieldInfo, where: string): number {
  const t = s.trim();
  if (f.kind === 'double') {
    if (t === 'Infinity' || t === '+Infinity') return Infinity;
    if (t === '-Infinity') return -Infinity;
    if (t === 'NaN') return NaN;
  }
  if (!NUMBER_RE.test(t)) {
    throw new ProtocolError(`Failed to parse '${s}' as a JSON number for field '${where}'`);
  }
  return Number(t);
}

function integral(n: number, f: FieldInfo, where: string): number {
  if (!Number.isFinite(n)) throw new ProtocolError(`Expecting a finite number for field '${where}'`);
  const i = Math.trunc(n);
  if (f.unsigned && i < 0) throw new ProtocolError(`Expecting a non-negative number for field '${where}'`);
  return i;
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Returns the parsed value, or undefined when stout would leave the field unset. */
function parseJsonValue(f: FieldInfo, v: unknown, where: string): unknown {
  if (isPlainObject(v)) {
    if (f.kind !== 'message') throw new ProtocolError(`Not expecting a JSON object for field '${where}'`);
    return parseJsonObject(f.message!, v, where);
  }
  if (typeof v === 'string') {
    switch (f.kind) {
      case 'string':
        return v;
      case 'bytes':
        if (!BASE64_RE.test(v) || v.replace(/=+$/, '').length % 4 === 1) {
          throw new ProtocolError(`Failed to base64 decode bytes field '${where}': Invalid base64 string`);
        }
        return Buffer.from(v, 'base64');
      case 'enum':
        if (f.enumByName![v] !== undefined) return v;
        if (f.required) throw new ProtocolError(`Failed to find enum for '${v}' in field '${where}'`);
        return undefined; // proto2: unknown values of optional enums are discarded
      case 'double':
        return parseNumberString(v, f, where);
      case 'int': case 'int64':
        return integral(parseNumberString(v, f, where), f, where);
      default:
        throw new ProtocolError(`Not expecting a JSON string for field '${where}'`);
    }
  }
  if (typeof v === 'number') {
    if (f.kind === 'double') return v;
    if (f.kind === 'int' || f.kind === 'int64') return integral(v, f, where);
    throw new ProtocolError(`Not expecting a JSON number for field '${where}'`);
  }
  if (typeof v === 'boolean') {
    if (f.kind === 'bool') return v;
    throw new ProtocolError(`Not expecting a JSON boolean for field '${where}'`);
  }
  throw new ProtocolError(`Unexpected JSON value for field '${where}'`);
}

function parseMap(f: FieldInfo, v: unknown, where: string): Msg {
  const out: Msg = {};
  if (isPlainObject(v)) {
    for (const [k, item] of Object.entries(v)) {
      if (item === null) continue;
      const parsed = parseJsonValue(f, item, `${where}[${k}]`);
      if (parsed !== undefined) out[k] = parsed;
    }
    return out;
  }
  if (Array.isArray(v)) {
    // Also accept the older wire shape: [{"key": ..., "value": ...}, ...].
    v.forEach((entry, i) => {
      if (entry === null) return;
      if (!isPlainObject(entry) || typeof entry.key !== 'string') {
        throw new ProtocolError(`Expecting a {"key", "value"} object in map field '${where}[${i}]'`);
      }
      if (entry.value === null || entry.value === undefined) return;
      const parsed = parseJsonValue(f, entry.value, `${where}[${entry.key}]`);
      if (parsed !== undefined) out[entry.key] = parsed;
    });
    return out;
  }
  throw new ProtocolError(`Expecting a JSON object for map field '${where}'`);
}

function parseJsonObject(schema: Schema, obj: Record<string, unknown>, prefix: string): Msg {
  const out: Msg = {};
  for (const [key, v] of Object.entries(obj)) {
    const f = schema.byName.get(key);
    if (!f || v === null || v === undefined) continue; // unknown keys and nulls are ignored
    const where = join(prefix, key);
    if (f.map) {
      const m = parseMap(f, v, where);
      if (Object.keys(m).length > 0) out[key] = { ...(out[key] ?? {}), ...m };
    } else if (f.repeated) {
      // stout adds a single (non-array) value as one element.
      const items = (Array.isArray(v) ? v : [v])
        .map((item, i) => (item === null ? undefined : parseJsonValue(f, item, `${where}[${i}]`)))
        .filter((item) => item !== undefined);
      if (items.length > 0) out[key] = [...(out[key] ?? []), ...items];
    } else {
      if (Array.isArray(v)) throw new ProtocolError(`Not expecting a JSON array for field '${where}'`);
      const parsed = parseJsonValue(f, v, where);
      if (parsed !== undefined) out[key] = parsed;
    }
  }
  return out;
}

/** Parses a JSON value (already `JSON.parse`d) with Mesos's rules. */
export function fromJson(type: string, value: unknown): Msg {
  const schema = lookup(type);
  if (!isPlainObject(value)) throw new ProtocolError('Expecting a JSON object');
  const msg = parseJsonObject(schema, value, '');
  checkRequired(schema, msg);
  return msg;
}

/** Parses JSON text (or a Buffer holding UTF-8 JSON) into a message object. */
export function decodeJson(type: string, text: string | Buffer): Msg {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch (e) {
    throw new ProtocolError(`Failed to parse JSON: ${(e as Error).message}`);
  }
  return fromJson(type, value);
}
