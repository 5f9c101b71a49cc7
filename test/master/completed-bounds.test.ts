// FT-06: the master keeps at most --max_completed_tasks_per_framework completed tasks per framework
// (the newest ones) and at most --max_completed_frameworks completed frameworks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../cluster/harness.js';
import { SchedulerClient } from '../../src/scheduler/index.js';

type Msg = Record<string, any>;

test('master: completed tasks and completed frameworks are bounded by their flags', async (t) => {
  const cluster = await Cluster.start({
    agents: 1,
    agentFlags: ['--no-switch_user'],
    masterFlags: ['--max_completed_tasks_per_framework=2', '--max_completed_frameworks=1'],
  });
  t.after(() => cluster.stop());
  const subscribed = await cluster.awaitEvent((e) => e.type === 'SUBSCRIBED');
  const frameworkId = subscribed.subscribed.framework_id.value;

  // Four tasks run to completion, one at a time; every update is acknowledged.
  for (let i = 0; i < 4; i++) {
    const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS');
    const offer = offers.offers.offers[0];
    const role = offer.allocation_info?.role ?? '*';
    const id = `done-${i}`;
    await cluster.scheduler.launch([offer.id], [
      {
        name: id,
        task_id: { value: id },
        agent_id: offer.agent_id,
        resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role } }],
        command: { value: 'true' },
      },
    ]);
    for (;;) {
      const e = await cluster.awaitEvent((x) => x.type === 'UPDATE' && x.update.status.task_id.value === id);
      await cluster.scheduler.acknowledge(e.update.status);
      if (e.update.status.state === 'TASK_FINISHED') break;
      assert.ok(['TASK_STARTING', 'TASK_RUNNING'].includes(e.update.status.state), e.update.status.state);
    }
  }
  let completed: string[] = [];
  for (let i = 0; ; i++) {
    const state = await cluster.getJson(`${cluster.masterUrl}/master/state`);
    const fw = state.frameworks.find((f: Msg) => f.id === frameworkId);
    completed = (fw?.completed_tasks ?? []).map((x: Msg) => x.id).sort();
    if (completed.includes('done-3') && fw.tasks.length === 0) break;
    assert.ok(i < 100, `the last task never completed: ${completed.join(',')}`);
    await cluster.step();
  }
  assert.deepEqual(completed, ['done-2', 'done-3'], 'only the two newest completed tasks are kept');

  // Two more frameworks subscribe and tear down; only the newest completed one is kept.
  const torn: string[] = [];
  for (let i = 0; i < 2; i++) {
    const client = new SchedulerClient({
      master: `127.0.0.1:${cluster.master.port}`,
      frameworkInfo: { user: 'root', name: `short-lived-${i}` },
      clock: cluster.clock,
      reconnect: false,
    });
    const subscribedPayload = await client.subscribe();
    torn.push(subscribedPayload.framework_id.value);
    await client.teardown();
    client.close();
  }
  for (let i = 0; ; i++) {
    const state = await cluster.getJson(`${cluster.masterUrl}/master/frameworks`);
    const ids = (state.completed_frameworks as Msg[]).map((f) => f.id);
    if (ids.includes(torn[1])) {
      assert.deepEqual(ids, [torn[1]], 'only the newest completed framework is kept');
      break;
    }
    assert.ok(i < 100, `the second framework never completed: ${ids.join(',')}`);
    await cluster.step();
  }
});
