// TSK-03: a task whose health check or check is malformed is answered TASK_ERROR by the master
// with Mesos's "Task uses invalid health check/check: ..." message, and never reaches the agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../cluster/harness.js';

type Msg = Record<string, any>;

test('master: invalid health checks and checks are refused with TASK_ERROR', async (t) => {
  const cluster = await Cluster.start({ agents: 1, agentFlags: ['--no-switch_user'] });
  t.after(() => cluster.stop());
  let n = 0;
  const launch = async (extra: Msg): Promise<Msg> => {
    const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS');
    const offer = offers.offers.offers[0];
    const role = offer.allocation_info?.role ?? '*';
    const id = `checked-${++n}`;
    const task = {
      name: id,
      task_id: { value: id },
      agent_id: offer.agent_id,
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role } }],
      command: { value: 'sleep 30' },
      ...extra,
    };
    await cluster.scheduler.accept([offer.id], [{ type: 'LAUNCH', launch: { task_infos: [task] } }], { refuse_seconds: 0 });
    const u = await cluster.awaitEvent((e) => e.type === 'UPDATE' && e.update.status.task_id.value === id);
    await cluster.scheduler.revive();
    return u.update.status;
  };

  const badHealth = await launch({ health_check: { type: 'COMMAND', interval_seconds: -1, command: { value: 'true' } } });
  assert.equal(badHealth.state, 'TASK_ERROR');
  assert.equal(badHealth.reason, 'REASON_TASK_INVALID');
  assert.match(badHealth.message, /^Task uses invalid health check: .*interval_seconds/);

  const badCheck = await launch({ check: { type: 'HTTP' } });
  assert.equal(badCheck.state, 'TASK_ERROR');
  assert.match(badCheck.message, /^Task uses invalid check: /);

  assert.equal(badHealth.uuid, undefined, 'master-generated updates carry no uuid');
});
