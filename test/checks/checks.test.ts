// Health checks and generalized checks with a ManualClock against real commands, a real HTTP
// server and real TCP ports.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import {
  Checker,
  HealthChecker,
  initialCheckStatus,
  validateCheckInfo,
  validateHealthCheck,
  type HealthChange,
} from '../../src/executor/checks/index.js';
import type { Msg } from '../../src/protocol/codec.js';

describe('checks: validation (Mesos messages)', () => {
  it('HealthCheck', () => {
    assert.equal(validateHealthCheck({}), "HealthCheck must specify 'type'");
    assert.equal(validateHealthCheck({ type: 'COMMAND' }), "Expecting 'command' to be set for COMMAND health check");
    assert.equal(validateHealthCheck({ type: 'COMMAND', command: {} }), "Command health check must contain 'shell command'");
    assert.equal(validateHealthCheck({ type: 'COMMAND', command: { shell: false } }), "Command health check must contain 'executable path'");
    assert.equal(validateHealthCheck({ type: 'HTTP' }), "Expecting 'http' to be set for HTTP health check");
    assert.equal(validateHealthCheck({ type: 'HTTP', http: { port: 80, scheme: 'ftp' } }), "Unsupported HTTP health check scheme: 'ftp'");
    assert.equal(validateHealthCheck({ type: 'HTTP', http: { port: 80, path: 'health' } }), "The path 'health' of HTTP health check must start with '/'");
    assert.equal(validateHealthCheck({ type: 'TCP' }), "Expecting 'tcp' to be set for TCP health check");
    assert.equal(validateHealthCheck({ type: 'UNKNOWN' }), "'UNKNOWN' is not a valid health check type");
    assert.equal(validateHealthCheck({ type: 'TCP', tcp: { port: 1 }, grace_period_seconds: -1 }), "Expecting 'grace_period_seconds' to be non-negative");
    assert.equal(validateHealthCheck({ type: 'HTTP', http: { port: 80, path: '/ok', scheme: 'https' }, interval_seconds: 5 }), undefined);
  });

  it('CheckInfo', () => {
    assert.equal(validateCheckInfo({}), "CheckInfo must specify 'type'");
    assert.equal(validateCheckInfo({ type: 'COMMAND' }), "Expecting 'command' to be set for COMMAND check");
    assert.equal(validateCheckInfo({ type: 'COMMAND', command: {} }), "Command check must contain 'shell command'");
    assert.equal(validateCheckInfo({ type: 'HTTP' }), "Expecting 'http' to be set for HTTP check");
    assert.equal(validateCheckInfo({ type: 'HTTP', http: { port: 1, path: 'x' } }), "The path 'x' of HTTP check must start with '/'");
    assert.equal(validateCheckInfo({ type: 'TCP' }), "Expecting 'tcp' to be set for TCP check");
    assert.equal(validateCheckInfo({ type: 'UNKNOWN' }), "'UNKNOWN' is not a valid check type");
    assert.equal(validateCheckInfo({ type: 'TCP', tcp: { port: 1 }, timeout_seconds: -2 }), "Expecting 'timeout_seconds' to be non-negative");
    assert.equal(validateCheckInfo({ type: 'COMMAND', command: { command: { value: 'true' } } }), undefined);
  });
});

/** A port nothing listens on (bound then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('checks: health checker', () => {
  let status = 200;
  let hang = false;
  const hung: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (hang) {
      hung.push(res);
      return;
    }
    res.writeHead(req.url === '/health' ? status : 404);
    res.end();
  });
  let port = 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-checks-'));
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const r of hung) r.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function harness(check: Msg) {
    const clock = new ManualClock();
    const changes: HealthChange[] = [];
    const kills: HealthChange[] = [];
    const checker = new HealthChecker(check, {
      clock,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FOO: 'bar' },
      cwd: dir,
      onHealthChanged: (c) => changes.push(c),
      onUnhealthyKill: (c) => kills.push(c),
    });
    const tick = async (ms: number) => {
      clock.advance(ms);
      await checker.settled();
    };
    return { clock, checker, changes, kills, tick };
  }

  it('HTTP: healthy on the first success, every failure unhealthy, healthy again after failures, kill after consecutive failures', async () => {
    status = 200;
    const h = harness({ type: 'HTTP', http: { port, path: '/health' }, delay_seconds: 5, interval_seconds: 10, timeout_seconds: 2, consecutive_failures: 3, grace_period_seconds: 0 });
    h.checker.start();
    await h.tick(4_999);
    assert.equal(h.changes.length, 0, 'nothing before delay_seconds');
    await h.tick(1);
    assert.deepEqual(h.changes, [{ healthy: true, consecutiveFailures: 0, killTask: false }]);
    await h.tick(10_000);
    assert.equal(h.changes.length, 1, 'a second success is not reported again');
    status = 500;
    await h.tick(10_000);
    await h.tick(10_000);
    assert.deepEqual(
      h.changes.slice(1).map((c) => [c.healthy, c.consecutiveFailures, c.message]),
      [
        [false, 1, 'Unexpected HTTP response code: 500'],
        [false, 2, 'Unexpected HTTP response code: 500'],
      ],
    );
    status = 302; // 200-399 is healthy
    await h.tick(10_000);
    assert.deepEqual(h.changes.at(-1), { healthy: true, consecutiveFailures: 0, killTask: false });
    status = 503;
    await h.tick(10_000);
    await h.tick(10_000);
    assert.equal(h.kills.length, 0);
    await h.tick(10_000);
    assert.equal(h.kills.length, 1);
    assert.deepEqual(h.changes.at(-1), { healthy: false, consecutiveFailures: 3, message: 'Unexpected HTTP response code: 503', killTask: true });
    assert.equal(h.clock.pending(), 0, 'checking stops once the task is to be killed');
  });

  it('TCP: failures inside the grace period are ignored until the first success', async () => {
    const closed = await closedPort();
    const h = harness({ type: 'TCP', tcp: { port: closed }, delay_seconds: 0, interval_seconds: 5, timeout_seconds: 1, consecutive_failures: 2, grace_period_seconds: 12 });
    h.checker.start();
    await h.tick(0);
    await h.tick(5_000);
    await h.tick(5_000);
    assert.equal(h.changes.length, 0, 'refused connections at 0, 5 and 10 s are inside the grace period');
    await h.tick(5_000);
    assert.deepEqual(h.changes.map((c) => c.consecutiveFailures), [1], 'at 15 s the grace period is over');
    assert.match(h.changes[0]!.message!, new RegExp(`Failed to connect to port ${closed}`));
    h.checker.stop();

    // A success ends the grace period early: a failure right after it counts.
    const listener = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const open = (listener.address() as AddressInfo).port;
    const g = harness({ type: 'TCP', tcp: { port: open }, delay_seconds: 0, interval_seconds: 1, timeout_seconds: 1, grace_period_seconds: 60 });
    g.checker.start();
    await g.tick(0);
    assert.deepEqual(g.changes.map((c) => c.healthy), [true]);
    await new Promise((r) => listener.close(r));
    await g.tick(1_000);
    assert.deepEqual(g.changes.map((c) => c.healthy), [true, false]);
    g.checker.stop();
  });

  it('COMMAND: runs in the task environment and sandbox; a command over timeout_seconds fails and is killed', async () => {
    fs.writeFileSync(path.join(dir, 'marker'), '');
    const h = harness({ type: 'COMMAND', command: { value: 'test "$FOO" = bar && test -f marker' }, delay_seconds: 0, interval_seconds: 1, grace_period_seconds: 0 });
    h.checker.start();
    await h.tick(0);
    assert.deepEqual(h.changes.map((c) => c.healthy), [true]);
    fs.rmSync(path.join(dir, 'marker'));
    await h.tick(1_000);
    assert.deepEqual(h.changes.at(-1)?.message, 'Command returned: exited with status 1');
    h.checker.stop();

    const pidFile = path.join(dir, 'sleeper.pid');
    const t = harness({ type: 'COMMAND', command: { value: `echo $$ > ${pidFile}; exec sleep 30` }, delay_seconds: 0, timeout_seconds: 1, grace_period_seconds: 0 });
    t.checker.start();
    t.clock.advance(0);
    for (let i = 0; i < 500 && !(fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim()); i++) await new Promise((r) => setTimeout(r, 10));
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    await t.tick(1_000);
    assert.deepEqual(t.changes.map((c) => [c.healthy, c.message]), [[false, 'Command has not returned after 1secs; aborting']]);
    for (let i = 0; i < 200 && fs.existsSync(`/proc/${pid}`) && !/\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(!fs.existsSync(`/proc/${pid}`) || /\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')), 'the timed-out command was killed');
    t.checker.stop();
  });

  it('HTTP: a request that does not answer within timeout_seconds is a failure', async () => {
    hang = true;
    const h = harness({ type: 'HTTP', http: { port, path: '/health' }, delay_seconds: 0, timeout_seconds: 3, grace_period_seconds: 0 });
    h.checker.start();
    h.clock.advance(0);
    await new Promise((r) => setTimeout(r, 50));
    await h.tick(3_000);
    hang = false;
    assert.deepEqual(h.changes.map((c) => c.message), ['HTTP request has not returned after 3secs; aborting']);
    h.checker.stop();
  });
});

describe('checks: generalized checker', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-checker-'));
  let code = 200;
  const server = http.createServer((_req, res) => {
    res.writeHead(code);
    res.end();
  });
  let port = 0;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function harness(check: Msg) {
    const clock = new ManualClock();
    const statuses: Msg[] = [];
    const checker = new Checker(check, { clock, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: dir, onCheckStatus: (s) => statuses.push(s) });
    const tick = async (ms: number) => {
      clock.advance(ms);
      await checker.settled();
    };
    return { clock, checker, statuses, tick };
  }

  it('COMMAND: reports the exit code, only when it changes; a timeout gives the empty status', async () => {
    fs.writeFileSync(path.join(dir, 'code'), '0');
    const check = { type: 'COMMAND', command: { command: { value: 'if [ -f slow ]; then sleep 30; fi; exit $(cat code)' } }, delay_seconds: 1, interval_seconds: 2, timeout_seconds: 1 };
    assert.deepEqual(initialCheckStatus(check), { type: 'COMMAND', command: {} });
    const h = harness(check);
    assert.deepEqual(h.checker.status, { type: 'COMMAND', command: {} });
    h.checker.start();
    await h.tick(1_000);
    await h.tick(2_000);
    fs.writeFileSync(path.join(dir, 'code'), '3');
    await h.tick(2_000);
    assert.deepEqual(h.statuses, [
      { type: 'COMMAND', command: { exit_code: 0 } },
      { type: 'COMMAND', command: { exit_code: 3 } },
    ]);
    fs.writeFileSync(path.join(dir, 'slow'), '');
    h.clock.advance(2_000);
    await new Promise((r) => setTimeout(r, 30));
    await h.tick(1_000);
    assert.deepEqual(h.statuses.at(-1), { type: 'COMMAND', command: {} });
    h.checker.stop();
    assert.equal(h.clock.pending(), 0);
  });

  it('HTTP reports the status code; TCP reports whether it connected', async () => {
    const h = harness({ type: 'HTTP', http: { port, path: '/' }, delay_seconds: 0, interval_seconds: 1 });
    h.checker.start();
    await h.tick(0);
    code = 503;
    await h.tick(1_000);
    assert.deepEqual(h.statuses, [
      { type: 'HTTP', http: { status_code: 200 } },
      { type: 'HTTP', http: { status_code: 503 } },
    ]);
    h.checker.stop();

    const t = harness({ type: 'TCP', tcp: { port }, delay_seconds: 0, interval_seconds: 1 });
    t.checker.start();
    await t.tick(0);
    t.checker.stop();
    const closed = await closedPort();
    const c = harness({ type: 'TCP', tcp: { port: closed }, delay_seconds: 0, interval_seconds: 1 });
    c.checker.start();
    await c.tick(0);
    c.checker.stop();
    assert.deepEqual([...t.statuses, ...c.statuses], [
      { type: 'TCP', tcp: { succeeded: true } },
      { type: 'TCP', tcp: { succeeded: false } },
    ]);
  });
});
