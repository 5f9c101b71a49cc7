import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';

test('in-process cluster: subscribe, get an offer, run `echo hi` to TASK_FINISHED, acknowledge', async (t) => {
  const cluster = await Cluster.start({ agents: 1 });
  t.after(() => cluster.stop());

  const subscribed = await cluster.awaitEvent((e) => e.type === 'SUBSCRIBED');
  const frameworkId = subscribed.subscribed.framework_id.value;
  assert.match(frameworkId, /-0000$/);

  const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS');
  const offer = offers.offers.offers[0];
  assert.equal(offer.framework_id.value, frameworkId);
  const role = offer.allocation_info?.role ?? '*';
  const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
  await cluster.scheduler.launch([offer.id], [
    {
      name: 'hi',
      task_id: { value: 'hi' },
      agent_id: offer.agent_id,
      resources: [res('cpus', 0.1), res('mem', 32)],
      command: { value: 'echo hi' },
    },
  ]);

  const seen: string[] = [];
  for (;;) {
    const e = await cluster.awaitEvent((x) => x.type === 'UPDATE' && x.update.status.task_id.value === 'hi');
    const status = e.update.status;
    seen.push(`${status.state}${status.message ? ` (${status.message})` : ''}${status.reason ? ` [${status.reason}]` : ''}`);
    assert.ok(status.uuid, `agent/executor updates carry a uuid (${status.state})`);
    assert.equal(await cluster.scheduler.acknowledge(status), true);
    if (status.state !== 'TASK_STARTING' && status.state !== 'TASK_RUNNING') break;
  }
  assert.match(seen[seen.length - 1]!, /^TASK_FINISHED/, `updates: ${seen.join(', ')}`);
  assert.ok(seen.some((s) => s.startsWith('TASK_RUNNING')));

  // Once the terminal update is acknowledged the master moves the task to completed.
  for (let i = 0; ; i++) {
    const state = await cluster.getJson(`${cluster.masterUrl}/master/state`);
    const fw = state.frameworks.find((f: any) => f.id === frameworkId);
    const done = fw?.completed_tasks?.find((x: any) => x.id === 'hi');
    if (done && fw.tasks.length === 0) {
      assert.equal(done.state, 'TASK_FINISHED');
      break;
    }
    assert.ok(i < 100, 'task never moved to completed_tasks');
    await cluster.step();
  }
});
