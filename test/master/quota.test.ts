// Quota (ALC-10): UPDATE_QUOTA/GET_QUOTA, the deprecated SET/REMOVE_QUOTA and /master/quota,
// validation, enforcement of limits in offers, persistence across a master restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.js';
import { fromJson } from '../../src/protocol/codec.js';
import { startMaster } from '../../src/master/main.js';
import { FRAMEWORK, FakeAgent, type Msg, Scheduler, getJson, request } from './helpers.js';

async function call(url: string, body: Msg): Promise<{ status: number; body: string; msg?: Msg }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/v1`, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const status = res.statusCode ?? 0;
        resolve({ status, body: text, msg: status === 200 && text ? fromJson('mesos.v1.master.Response', JSON.parse(text)) : undefined });
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const config = (role: string, guarantees: Record<string, number>, limits: Record<string, number>) => ({
  role,
  guarantees: Object.fromEntries(Object.entries(guarantees).map(([k, v]) => [k, { value: v }])),
  limits: Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, { value: v }])),
});

test('UPDATE_QUOTA validates, is enforced in offers, and survives a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meseta-quota-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const flags = (port: number) => ['--ip=127.0.0.1', `--port=${port}`, `--work_dir=${dir}`];
  let master = await startMaster(flags(0), { env: {}, clock });
  const agent = await FakeAgent.start(master.pid);
  const s = new Scheduler(master.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await master.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await agent.register('cpus:4;mem:1024');

  let r = await call(master.url, { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [config('q', { cpus: 10 }, { cpus: 10 })] } });
  assert.equal(r.status, 400);
  assert.match(r.body, /exceed cluster capacity/);
  r = await call(master.url, { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [config('q', { cpus: 3 }, { cpus: 2 })] } });
  assert.equal(r.status, 400);
  assert.match(r.body, /exceed its limits/);
  r = await call(master.url, { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [config('-bad', {}, { cpus: 1 })] } });
  assert.equal(r.status, 400);
  assert.match(r.body, /^Invalid QuotaConfig: Invalid role/);
  r = await call(master.url, { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [config('q', { cpus: 1 }, { cpus: 2, mem: 512 })] } });
  assert.equal(r.status, 200);

  // A framework of role q is never offered more than its limit.
  await s.subscribe({ ...FRAMEWORK, role: 'q' });
  await s.next('SUBSCRIBED');
  const offer = (await s.next('OFFERS')).offers.offers[0];
  assert.equal(offer.allocation_info.role, 'q');
  assert.equal(offer.resources.find((x: Msg) => x.name === 'cpus').scalar.value, 2);

  // `force` skips the capacity check.
  r = await call(master.url, { type: 'UPDATE_QUOTA', update_quota: { force: true, quota_configs: [config('big', { cpus: 100 }, {})] } });
  assert.equal(r.status, 200);

  let status = (await call(master.url, { type: 'GET_QUOTA' })).msg!.get_quota.status;
  assert.deepEqual(status.configs.map((c: Msg) => c.role).sort(), ['big', 'q']);
  const legacy = await getJson(master.url, '/master/quota');
  assert.equal(legacy.configs.find((c: Msg) => c.role === 'q').limits.cpus.value, 2);

  // Removal: a config with neither guarantees nor limits.
  r = await call(master.url, { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'big' }] } });
  assert.equal(r.status, 200);
  status = (await call(master.url, { type: 'GET_QUOTA' })).msg!.get_quota.status;
  assert.deepEqual(status.configs.map((c: Msg) => c.role), ['q']);

  // The quota is in the registry: a restarted master still has it.
  await new Promise((res) => setTimeout(res, 50));
  const port = master.port;
  s.disconnect();
  await master.stop();
  master = await startMaster(flags(port), { env: {}, clock });
  status = (await call(master.url, { type: 'GET_QUOTA' })).msg!.get_quota.status;
  assert.deepEqual(status.configs.map((c: Msg) => c.role), ['q']);
});

test('deprecated SET_QUOTA/REMOVE_QUOTA and POST/DELETE /master/quota', async (t) => {
  const master = await startMaster(['--ip=127.0.0.1', '--port=0', '--registry=in_memory'], { env: {} });
  const agent = await FakeAgent.start(master.pid);
  t.after(async () => {
    await agent.stop();
    await master.stop();
  });
  await agent.register('cpus:4;mem:1024');
  const guarantee = [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }];
  let r = await call(master.url, { type: 'SET_QUOTA', set_quota: { quota_request: { role: 'a', guarantee } } });
  assert.equal(r.status, 200);
  r = await call(master.url, { type: 'SET_QUOTA', set_quota: { quota_request: { role: 'a', guarantee } } });
  assert.equal(r.status, 400);
  r = await call(master.url, { type: 'REMOVE_QUOTA', remove_quota: { role: 'a' } });
  assert.equal(r.status, 200);
  r = await call(master.url, { type: 'REMOVE_QUOTA', remove_quota: { role: 'a' } });
  assert.equal(r.status, 400);
  assert.equal(r.body, "Failed to remove quota: Role 'a' has no quota set");

  let h = await request(master.url, '/master/quota', { method: 'POST', body: JSON.stringify({ role: 'b', guarantee }) });
  assert.equal(h.status, 200);
  const legacy = await getJson(master.url, '/master/quota');
  assert.equal(legacy.infos[0].role, 'b');
  assert.equal(legacy.infos[0].guarantee[0].scalar.value, 1);
  h = await request(master.url, '/master/quota', { method: 'POST', body: 'nope' });
  assert.equal(h.status, 400);
  h = await request(master.url, '/master/quota/b', { method: 'DELETE' });
  assert.equal(h.status, 200);
  h = await request(master.url, '/master/quota/b', { method: 'DELETE' });
  assert.equal(h.status, 400);
});
