// LAUNCH_GROUP validation in the master (OPS-02): every task of an invalid group is answered
// TASK_ERROR / REASON_TASK_GROUP_INVALID and nothing reaches the agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../cluster/harness.js';

type Msg = Record<string, any>;

test('master: invalid task groups are refused as a whole', async (t) => {
  const cluster = await Cluster.start({ agents: 1, agentFlags: ['--no-switch_user'] });
  t.after(() => cluster.stop());
  let n = 0;
  const attempt = async (mutate: (executor: Msg, tasks: Msg[]) => Msg | void): Promise<Msg[]> => {
    const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS');
    const offer = offers.offers.offers[0];
    const role = offer.allocation_info?.role ?? '*';
    const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
    const executor: Msg = { type: 'DEFAULT', executor_id: { value: `e${++n}` }, framework_id: offer.framework_id, resources: [res('cpus', 0.1), res('mem', 32)] };
    const tasks: Msg[] = ['x', 'y'].map((s) => ({ name: s, task_id: { value: `${s}${n}` }, agent_id: offer.agent_id, resources: [res('cpus', 0.1), res('mem', 32)], command: { value: 'true' } }));
    const group = mutate(executor, tasks) ?? { executor, task_group: { tasks } };
    await cluster.scheduler.accept([offer.id], [{ type: 'LAUNCH_GROUP', launch_group: group }], { refuse_seconds: 0 });
    const out: Msg[] = [];
    for (const task of tasks) {
      const u = await cluster.awaitEvent((e) => e.type === 'UPDATE' && e.update.status.task_id.value === task.task_id.value);
      out.push(u.update.status);
    }
    await cluster.scheduler.revive();
    return out;
  };
  const refused = (statuses: Msg[], re: RegExp) => {
    for (const s of statuses) {
      assert.equal(s.state, 'TASK_ERROR', s.message);
      assert.equal(s.reason, 'REASON_TASK_GROUP_INVALID');
      assert.match(s.message, re);
    }
  };
  refused(await attempt((e) => void (e.command = { value: 'x' })), /'ExecutorInfo.command' must not be set/);
  refused(await attempt((e, tasks) => void (tasks[1]!.executor = e)), /should not have 'TaskInfo.executor' set/);
  refused(
    await attempt((_e, tasks) => void (tasks[0]!.container = { type: 'MESOS', network_infos: [{ name: 'net' }] })),
    /network_infos/,
  );
  // Resources beyond the offer, executor's share included.
  refused(await attempt((e) => void (e.resources = [{ name: 'cpus', type: 'SCALAR', scalar: { value: 100 }, allocation_info: { role: '*' } }])), /more resources|invalid resources/);
  assert.equal(cluster.agents[0]!.agent.framework(String(cluster.events.find((e) => e.type === 'SUBSCRIBED')!.subscribed.framework_id.value)), undefined, 'nothing reached the agent');
});
