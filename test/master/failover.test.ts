// Master failover (FT-02/FT-03): agents admitted in the durable registry are "recovered" by the next
// master; they re-register, or become unreachable after --agent_reregister_timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.js';
import { startMaster } from '../../src/master/main.js';
import { FakeAgent, PA_FRAMEWORK, Scheduler, getJson, scalar } from './helpers.js';

test('a restarted master recovers admitted agents from --work_dir and waits for them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meseta-failover-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const flags = (port: number) => ['--ip=127.0.0.1', `--port=${port}`, `--work_dir=${dir}`, '--agent_reregister_timeout=10mins', '--weights=a=2'];
  let master = await startMaster(flags(0), { env: {}, clock });
  const agentA = await FakeAgent.start(master.pid);
  const agentB = await FakeAgent.start(master.pid);
  const s = new Scheduler(master.url);
  t.after(async () => {
    s.disconnect();
    await agentA.stop();
    await agentB.stop();
    await master.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const idA = await agentA.register('cpus:2;mem:512', 'host-a');
  const idB = await agentB.register('cpus:2;mem:512', 'host-b');
  // Admissions are stored asynchronously; wait for both to land.
  let stored: string[] = [];
  const deadline = Date.now() + 5000;
  while (stored.length < 2 && Date.now() < deadline) {
    const registry = await getJson(master.url, '/registrar(1)/registry');
    stored = (registry.slaves?.slaves ?? []).map((x: any) => x.info.id.value);
    if (stored.length < 2) await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(stored.sort(), [idA, idB].sort());

  const port = master.port;
  await master.stop();
  master = await startMaster(flags(port), { env: {}, clock });
  let state = await getJson(master.url, '/master/state');
  assert.deepEqual(state.recovered_slaves.map((x: any) => x.id).sort(), [idA, idB].sort());
  assert.equal(state.slaves.length, 0);

  // While agents may still come back, explicit reconciliation of unknown tasks gets no answer.
  await s.subscribe(PA_FRAMEWORK);
  await s.next('SUBSCRIBED');
  await s.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'ghost' }, agent_id: { value: idA } }] } });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.count('UPDATE'), 0);

  // Agent A re-registers with the new master; B never does.
  agentA.send('ReregisterSlaveMessage', {
    slave: { id: { value: idA }, hostname: 'host-a', port: 5051, resources: [scalar('cpus', 2), scalar('mem', 512)] },
    version: '1.11.0',
  });
  await agentA.next('SlaveReregisteredMessage');
  state = await getJson(master.url, '/master/state');
  assert.deepEqual(state.recovered_slaves.map((x: any) => x.id), [idB]);
  assert.equal(state.slaves[0].id, idA);

  // Step through the 10 minutes so agent A's pongs keep it healthy.
  for (let i = 0; i < 40; i++) {
    clock.advance(15_000);
    await new Promise((r) => setTimeout(r, 5));
  }
  state = await getJson(master.url, '/master/state');
  assert.deepEqual(state.recovered_slaves, []);
  assert.equal(state.unreachable_slaves, 1);
  await s.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'ghost' }, agent_id: { value: idB } }] } });
  const u = await s.next('UPDATE');
  assert.equal(u.update.status.state, 'TASK_UNREACHABLE');
  const metrics = await getJson(master.url, '/metrics/snapshot');
  assert.equal(metrics['master/recovery_slave_removals'], 1);
  assert.equal(typeof metrics['registrar/registry_size_bytes'], 'number');
});
