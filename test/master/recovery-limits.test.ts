// After a master failover (FT-03): --recovery_agent_removal_limit keeps the master from marking
// too many missing agents unreachable, and --agent_removal_rate_limit spaces the removals out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.js';
import { type MasterHandle, startMaster } from '../../src/master/main.js';
import { FakeAgent, getJson } from './helpers.js';

/** A master whose durable registry holds two admitted agents, then restarted with `extra` flags. */
async function restartedWithTwoAgents(extra: string[]): Promise<{ master: MasterHandle; clock: ManualClock; ids: string[]; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'meseta-rlimits-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const flags = (port: number, more: string[]) => ['--ip=127.0.0.1', `--port=${port}`, `--work_dir=${dir}`, '--agent_reregister_timeout=10mins', ...more];
  let master = await startMaster(flags(0, []), { env: {}, clock });
  const agents = [await FakeAgent.start(master.pid), await FakeAgent.start(master.pid)];
  // SlaveRegisteredMessage comes only after the admission is durable.
  const ids = [await agents[0]!.register('cpus:1;mem:128', 'host-a'), await agents[1]!.register('cpus:1;mem:128', 'host-b')];
  const port = master.port;
  await master.stop();
  for (const a of agents) await a.stop();
  master = await startMaster(flags(port, extra), { env: {}, clock });
  return {
    master,
    clock,
    ids,
    cleanup: async () => {
      await master.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function advance(clock: ManualClock, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 15_000) {
    clock.advance(Math.min(15_000, left));
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('more missing agents than --recovery_agent_removal_limit: none is marked unreachable', async (t) => {
  const { master, clock, ids, cleanup } = await restartedWithTwoAgents(['--recovery_agent_removal_limit=40%']);
  t.after(cleanup);
  await advance(clock, 11 * 60_000);
  const state = await getJson(master.url, '/master/state');
  assert.deepEqual(state.recovered_slaves.map((x: any) => x.id).sort(), [...ids].sort());
  assert.equal(state.unreachable_slaves, 0);
  const registry = await getJson(master.url, '/registrar(1)/registry');
  assert.equal(registry.slaves.slaves.length, 2, 'still admitted in the registry');
});

test('--agent_removal_rate_limit spaces out the unreachable transitions after recovery', async (t) => {
  const { master, clock, cleanup } = await restartedWithTwoAgents(['--agent_removal_rate_limit=1/1mins']);
  t.after(cleanup);
  await advance(clock, 10 * 60_000);
  let state = await getJson(master.url, '/master/state');
  assert.equal(state.unreachable_slaves, 1, 'one removal right away');
  assert.equal(state.recovered_slaves.length, 1);
  await advance(clock, 60_000);
  state = await getJson(master.url, '/master/state');
  assert.equal(state.unreachable_slaves, 2, 'the next one a minute later');
  assert.deepEqual(state.recovered_slaves, []);
  const metrics = await getJson(master.url, '/metrics/snapshot');
  assert.equal(metrics['master/recovery_slave_removals'], 2);
});

test('bad removal flags are refused before the master starts', async () => {
  await assert.rejects(startMaster(['--ip=127.0.0.1', '--port=0', '--registry=in_memory', '--agent_removal_rate_limit=often'], { env: {} }), /agent_removal_rate_limit/);
  await assert.rejects(startMaster(['--ip=127.0.0.1', '--port=0', '--registry=in_memory', '--recovery_agent_removal_limit=2'], { env: {} }), /recovery_agent_removal_limit/);
});
