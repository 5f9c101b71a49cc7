// HTTP Basic authentication (SCH-01 401, MNT-04): scheduler API, read-only and read-write endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster } from '../../src/master/main.js';
import { FRAMEWORK, Scheduler, request } from './helpers.js';

const basic = (p: string, s: string) => `Basic ${Buffer.from(`${p}:${s}`).toString('base64')}`;

test('--authenticate_http_* answer 401 without valid credentials and check principals', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meseta-auth-'));
  const creds = join(dir, 'credentials.json');
  writeFileSync(creds, JSON.stringify({ credentials: [{ principal: 'alice', secret: 'pw' }, { principal: 'bob', secret: 'pw2' }] }));
  const m = await startMaster(
    ['--ip=127.0.0.1', '--port=0', '--registry=in_memory', `--credentials=${creds}`, '--authenticate_http_frameworks', '--authenticate_http_readonly', '--authenticate_http_readwrite'],
    { env: {} },
  );
  const s = new Scheduler(m.url);
  t.after(async () => {
    s.disconnect();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const subscribe = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { ...FRAMEWORK, principal: 'alice' } } });
  let r = await request(m.url, '/api/v1/scheduler', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: subscribe });
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'Basic realm="mesos-master-scheduler"');
  r = await request(m.url, '/api/v1/scheduler', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: basic('alice', 'wrong') }, body: subscribe,
  });
  assert.equal(r.status, 401);
  r = await request(m.url, '/api/v1/scheduler', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: basic('bob', 'pw2') }, body: subscribe,
  });
  assert.equal(r.status, 400);
  assert.equal(r.body, "Failed to validate scheduler::Call: Authenticated principal 'bob' does not match principal 'alice' set in `FrameworkInfo`");

  await s.subscribe({ ...FRAMEWORK, principal: 'alice' }, {}, { Authorization: basic('alice', 'pw') });
  assert.equal(s.status, 200);
  await s.next('SUBSCRIBED');
  r = await s.call({ type: 'REVIVE' }, { 'Mesos-Stream-Id': s.streamId!, Authorization: basic('alice', 'pw') });
  assert.equal(r.status, 202);
  r = await s.call({ type: 'REVIVE' }, { 'Mesos-Stream-Id': s.streamId!, Authorization: basic('bob', 'pw2') });
  assert.equal(r.status, 400);
  assert.equal(r.body, "Authenticated principal 'bob' does not match principal 'alice' used to subscribe");

  assert.equal((await request(m.url, '/master/state')).status, 401);
  assert.equal((await request(m.url, '/master/state', { headers: { Authorization: basic('bob', 'pw2') } })).status, 200);
  const op = await request(m.url, '/api/v1', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type":"GET_HEALTH"}' });
  assert.equal(op.status, 401);
  assert.equal(op.headers['www-authenticate'], 'Basic realm="mesos-master-readwrite"');
  assert.equal((await request(m.url, '/health')).status, 200);
});

test('HTTP authentication without --credentials refuses to start', async () => {
  await assert.rejects(startMaster(['--ip=127.0.0.1', '--port=0', '--registry=in_memory', '--authenticate_http_frameworks'], { env: {} }), /--credentials/);
});
