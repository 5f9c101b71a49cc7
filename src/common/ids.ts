// Identifier helpers: UUIDs (as Mesos makes them) and the master's id formats.
import { randomBytes, randomUUID } from 'node:crypto';

/** A random 16-byte UUID (RFC 4122 v4), as raw bytes: the form TaskStatus.uuid carries. */
export function uuidBytes(): Buffer {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b;
}

export function uuidString(): string {
  return randomUUID();
}

export function uuidBytesToString(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `<masterId>-0000`: frameworks are numbered with at least four digits. */
export function frameworkIdFor(masterId: string, n: number): string {
  return `${masterId}-${String(n).padStart(4, '0')}`;
}

export function agentIdFor(masterId: string, n: number): string {
  return `${masterId}-S${n}`;
}

export function offerIdFor(masterId: string, n: number): string {
  return `${masterId}-O${n}`;
}

/** Validation of TaskID / ExecutorID values (2.8): non-empty, no `/` `\`, no control chars, not `.`/`..`. */
export function validateIdValue(kind: string, value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0) return `${kind} must not be empty`;
  if (Buffer.byteLength(value) > 255) return `${kind} '${value}' is longer than 255 bytes`;
  if (value === '.' || value === '..') return `${kind} '${value}' is disallowed`;
  if (/[/\\]/.test(value)) return `${kind} '${value}' contains a path separator`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) return `${kind} '${value}' contains a control character`;
  return undefined;
}
