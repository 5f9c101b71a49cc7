// stout's duration and byte-size syntax, as used by Mesos flags.

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  secs: 1000,
  mins: 60_000,
  hrs: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** Parses `15secs`, `500ms`, `2hrs`, ... into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([a-z]+)\s*$/.exec(text);
  if (!m) throw new Error(`Invalid duration '${text}': expected a number followed by one of ${Object.keys(DURATION_UNITS).join(', ')}`);
  const unit = DURATION_UNITS[m[2]!];
  if (unit === undefined) throw new Error(`Invalid duration '${text}': unknown unit '${m[2]}'`);
  return Number(m[1]) * unit;
}

/** Formats milliseconds the way stout prints a Duration (largest unit that keeps a whole-ish value). */
export function formatDuration(ms: number): string {
  const order: Array<[string, number]> = [
    ['weeks', 604_800_000],
    ['days', 86_400_000],
    ['hrs', 3_600_000],
    ['mins', 60_000],
    ['secs', 1000],
    ['ms', 1],
    ['us', 1e-3],
    ['ns', 1e-6],
  ];
  if (ms === 0) return '0ns';
  for (const [unit, size] of order) {
    if (Math.abs(ms) >= size) {
      const v = ms / size;
      return `${Number.isInteger(v) ? v : Number(v.toFixed(6))}${unit}`;
    }
  }
  return `${ms * 1e6}ns`;
}

const BYTE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

/** Parses `32B`, `4KB`, `2GB` into bytes. */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?B)\s*$/i.exec(text);
  if (!m) throw new Error(`Invalid byte size '${text}': expected a number followed by B, KB, MB, GB or TB`);
  return Math.round(Number(m[1]) * BYTE_UNITS[m[2]!.toUpperCase()]!);
}

export function formatBytes(bytes: number): string {
  for (const unit of ['TB', 'GB', 'MB', 'KB']) {
    const size = BYTE_UNITS[unit]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
