// Content negotiation for the v1 HTTP APIs: request encoding from
// `Content-Type`, response (event stream) encoding from `Accept`.

export const APPLICATION_JSON = 'application/json';
export const APPLICATION_PROTOBUF = 'application/x-protobuf';
export const APPLICATION_RECORDIO = 'application/recordio';

export type Encoding = 'json' | 'protobuf';

export interface MediaError {
  status: 400 | 415;
  error: string;
}

export const MISSING_CONTENT_TYPE = "Expecting 'Content-Type' to be present";
export const UNSUPPORTED_CONTENT_TYPE =
  `Expecting 'Content-Type' of ${APPLICATION_JSON} or ${APPLICATION_PROTOBUF}`;
export const NOT_ACCEPTABLE =
  `Expecting 'Accept' to allow '${APPLICATION_PROTOBUF}' or '${APPLICATION_JSON}'`;

/** The media type for an encoding. */
export function contentType(encoding: Encoding): string {
  return encoding === 'json' ? APPLICATION_JSON : APPLICATION_PROTOBUF;
}

function mediaType(value: string): string {
  return value.split(';')[0]!.trim().toLowerCase();
}

/** Encoding of a request body; parameters such as `; charset=utf-8` are ignored. */
export function requestEncoding(header: string | string[] | undefined): Encoding | MediaError {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return { status: 400, error: MISSING_CONTENT_TYPE };
  switch (mediaType(value)) {
    case APPLICATION_JSON: return 'json';
    case APPLICATION_PROTOBUF: return 'protobuf';
    default: return { status: 415, error: UNSUPPORTED_CONTENT_TYPE };
  }
}

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  for (const part of header.split(',')) {
    const [media, ...params] = part.split(';');
    const [type, subtype] = media!.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k?.toLowerCase() === 'q') {
        const n = Number(v);
        q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 0;
      }
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** q-value for `media` from the most specific matching range (0 if none matches). */
function quality(ranges: Range[], media: string): number {
  const [type, subtype] = media.split('/');
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype ? 2 :
      r.type === type && r.subtype === '*' ? 1 :
      r.type === '*' && r.subtype === '*' ? 0 : -1;
    if (specificity > best) {
      best = specificity;
      q = r.q;
    }
  }
  return best < 0 ? 0 : q;
}

/**
 * Encoding for a response from the `Accept` header(s), as libprocess decides it: JSON when absent
 * or whenever JSON is acceptable at all (q > 0, whatever protobuf's q), else protobuf if
 * acceptable, else null (406).
 */
export function responseEncoding(header: string | string[] | undefined): Encoding | null {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined || value.trim() === '') return 'json';
  const ranges = parseAccept(value);
  if (quality(ranges, APPLICATION_JSON) > 0) return 'json';
  if (quality(ranges, APPLICATION_PROTOBUF) > 0) return 'protobuf';
  return null;
}

export function isMediaError(v: Encoding | MediaError): v is MediaError {
  return typeof v === 'object';
}
