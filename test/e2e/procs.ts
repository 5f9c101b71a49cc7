// Spawning the real bin/ programs for end-to-end tests, and making sure none of them (or their
// tasks) outlive the test.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendantPids, isAlive, killAll } from '../../src/cli/proc.js';

/** The tsc output dir this file was compiled into (dist/ or .build/<x>/): bin/ runs that build. */
export const BUILD_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The repository root, where bin/ lives. */
export const REPO_ROOT = resolve(BUILD_DIR, BUILD_DIR.includes(`${'/'}.build${'/'}`) ? '../..' : '..');
export const BIN = join(REPO_ROOT, 'bin');

export class Proc {
  readonly lines: string[] = [];
  readonly errLines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];
  private outBuf = '';
  private errBuf = '';

  constructor(readonly name: string, readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      this.outBuf = this.split(this.outBuf + d, this.lines);
    });
    child.stderr?.on('data', (d: string) => {
      this.errBuf = this.split(this.errBuf + d, this.errLines);
    });
    this.exited = new Promise((r) =>
      child.once('exit', (code, signal) => {
        if (this.outBuf) this.lines.push(this.outBuf);
        if (this.errBuf) this.errLines.push(this.errBuf);
        this.outBuf = this.errBuf = '';
        this.notify();
        r({ code, signal });
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  private split(text: string, into: string[]): string {
    const parts = text.split('\n');
    const rest = parts.pop()!;
    if (parts.length) {
      into.push(...parts);
      this.notify();
    }
    return rest;
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first match of `re` on stdout; rejects if the process exits or time runs out. */
  waitForLine(re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolvePromise, reject) => {
      let done = false;
      const timer = setTimeout(() => finish(new Error(`${this.name}: no line matching ${re} within ${ms} ms\n${this.output()}`)), ms);
      const finish = (err?: Error, m?: RegExpMatchArray) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolvePromise(m!);
      };
      const check = () => {
        for (const l of this.lines) {
          const m = l.match(re);
          if (m) return finish(undefined, m);
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          return finish(new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${re}\n${this.output()}`));
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  output(): string {
    return [...this.lines.map((l) => `[out] ${l}`), ...this.errLines.slice(-40).map((l) => `[err] ${l}`)].join('\n');
  }
}

/** Everything one test file started: processes, their descendants, temp dirs. */
export class Procs {
  readonly all: Proc[] = [];
  private dirs: string[] = [];
  /** Descendants seen while running: a task may be reparented once its supervisor dies. */
  private seen = new Set<number>();

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `meseta-e2e-${prefix}-`));
    this.dirs.push(dir);
    return dir;
  }

  spawn(program: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
    const child = spawn(join(BIN, program), args, {
      cwd: REPO_ROOT,
      env: { ...process.env, MESETA_BUILD_DIR: BUILD_DIR, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new Proc(program, child);
    this.all.push(p);
    return p;
  }

  /** Records the current descendants of every process so cleanup can reach reparented tasks. */
  remember(): void {
    for (const p of this.all) if (p.child.pid) for (const pid of descendantPids(p.child.pid)) this.seen.add(pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs`, every process and every descendant; removes temp dirs. */
  async cleanup(graceMs = 5000): Promise<void> {
    this.remember();
    const running = this.all.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    for (const p of running) p.child.kill('SIGTERM');
    await Promise.race([Promise.all(running.map((p) => p.exited)), new Promise((r) => setTimeout(r, graceMs))]);
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    killAll([...this.seen].filter(isAlive));
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export interface HttpResult {
  status: number;
  body: string;
  json(): any;
}

export function httpGet(url: string): Promise<HttpResult> {
  return new Promise((resolvePromise, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolvePromise({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url} timed out`)));
  });
}

/** Polls `fn` until it returns a truthy value (test-level waiting, not protocol time). */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
