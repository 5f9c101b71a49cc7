// One attempt of a check: a command in the task's environment, an HTTP GET or a TCP connect to
// the task on this host. Every timeout runs on the Clock.
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Clock } from '../../common/clock.js';
import { formatDuration } from '../../common/units.js';
import type { Msg } from '../../protocol/codec.js';

export type ProbeResult =
  | { kind: 'ok'; value: number | boolean }
  | { kind: 'timeout'; message: string }
  | { kind: 'error'; message: string };

export interface ProbeContext {
  clock: Clock;
  /** 0 (or less) means no timeout. */
  timeoutMs: number;
}

export interface CommandContext extends ProbeContext {
  /** The task's environment (CommandInfo.environment of the check is applied on top). */
  env: Record<string, string>;
  cwd: string;
  /** argv prepended to the command (e.g. nsenter into the task's namespaces). */
  launchPrefix?: string[];
}

function withTimeout(ctx: ProbeContext, what: string, run: () => Promise<ProbeResult>, onTimeout?: () => void): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      ctx.clock.clearTimeout(timer);
      resolve(r);
    };
    const timer =
      ctx.timeoutMs > 0
        ? ctx.clock.setTimeout(() => {
            onTimeout?.();
            finish({ kind: 'timeout', message: `${what} has not returned after ${formatDuration(ctx.timeoutMs)}; aborting` });
          }, ctx.timeoutMs)
        : undefined;
    run().then(finish, (e: Error) => finish({ kind: 'error', message: e.message }));
  });
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs CommandInfo (shell by default): ok with the exit code; its process group is killed on timeout. */
export function runCommand(command: Msg, ctx: CommandContext): Promise<ProbeResult> {
  let pid: number | undefined;
  const run = () =>
    new Promise<ProbeResult>((resolve) => {
      const env: Record<string, string> = { ...ctx.env };
      for (const v of (command.environment?.variables ?? []) as Msg[]) {
        if (typeof v.name === 'string' && v.name && v.type !== 'SECRET') env[v.name] = typeof v.value === 'string' ? v.value : '';
      }
      const argv: string[] =
        command.shell === false
          ? [String(command.value), ...((command.arguments as string[] | undefined) ?? []).slice(1)]
          : ['/bin/sh', '-c', String(command.value ?? '')];
      const full = [...(ctx.launchPrefix ?? []), ...argv];
      const child = spawn(full[0]!, full.slice(1), { cwd: ctx.cwd, env, stdio: 'ignore', detached: true });
      pid = child.pid;
      child.once('error', (e) => resolve({ kind: 'error', message: `Failed to run the command: ${e.message}` }));
      child.once('exit', (code, signal) => {
        killGroup(pid); // leftovers of the check do not outlive it
        if (code !== null) resolve({ kind: 'ok', value: code });
        else resolve({ kind: 'error', message: `Command was terminated by signal ${signal}` });
      });
    });
  return withTimeout(ctx, 'Command', run, () => killGroup(pid));
}

export interface HttpTarget {
  port: number;
  path?: string;
  scheme?: string;
  /** 'IPv6' -> ::1, else 127.0.0.1. */
  protocol?: string;
}

/** GET scheme://127.0.0.1:port/path: ok with the status code. */
export function httpGet(target: HttpTarget, ctx: ProbeContext): Promise<ProbeResult> {
  let req: http.ClientRequest | undefined;
  const host = target.protocol === 'IPv6' ? '::1' : '127.0.0.1';
  return withTimeout(ctx, 'HTTP request', () =>
    new Promise<ProbeResult>((resolve) => {
      const client = target.scheme === 'https' ? https : http;
      req = client.request(
        {
          host,
          port: target.port,
          path: target.path ?? '/',
          method: 'GET',
          agent: false,
          // Mesos checks with `curl -k`: the task's certificate is not verified.
          rejectUnauthorized: false,
          headers: { 'User-Agent': 'meseta-checker', Connection: 'close' },
        } as https.RequestOptions,
        (res) => {
          res.resume();
          resolve({ kind: 'ok', value: res.statusCode ?? 0 });
        },
      );
      req.on('error', (e) => resolve({ kind: 'error', message: `HTTP request failed: ${e.message}` }));
      req.end();
    }),
  ).finally(() => req?.destroy());
}

/** TCP connect to 127.0.0.1:port (or ::1): ok with true on connect, false on refusal. */
export function tcpConnect(target: { port: number; protocol?: string }, ctx: ProbeContext): Promise<ProbeResult> {
  let socket: net.Socket | undefined;
  const host = target.protocol === 'IPv6' ? '::1' : '127.0.0.1';
  return withTimeout(ctx, 'TCP connection', () =>
    new Promise<ProbeResult>((resolve) => {
      socket = net.connect({ host, port: target.port });
      socket.once('connect', () => resolve({ kind: 'ok', value: true }));
      socket.once('error', () => resolve({ kind: 'ok', value: false }));
    }),
  ).finally(() => socket?.destroy());
}
