// Numeric command-line options of the benchmarks: `--name=N` or `--name N`.

function rawArg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i]!.startsWith(`--${name}=`)) return argv[i]!.slice(name.length + 3);
  }
  return undefined;
}

/** `--name` as a number; `fallback` when it is not given. */
export function numberArg(name: string, fallback: number): number {
  const v = rawArg(name);
  return v === undefined ? fallback : Number(v);
}

/** `--name` as a positive integer (anything else exits 2 with `usage`); undefined when it is not given. */
export function positiveIntArg(name: string, usage: string): number | undefined {
  const v = rawArg(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive integer (got '${v}')\n${usage}\n`);
    process.exit(2);
  }
  return n;
}
