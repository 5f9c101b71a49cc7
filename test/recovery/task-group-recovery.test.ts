// Agent recovery of task groups (FT-05): the real default executor and its nested containers keep
// running while the agent is gone; the restarted agent re-adopts the nested containers with the
// executor's container, the executor re-subscribes, and the tasks are still under control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { userInfo } from 'node:os';
import { SystemClock } from '../../src/common/clock.js';
import { startAgent } from '../../src/agent/main.js';
import { Cluster } from '../cluster/harness.js';

type Msg = Record<string, any>;
const FRAMEWORK = { user: userInfo().username, name: 'groups', roles: ['*'], checkpoint: true, capabilities: [{ type: 'MULTI_ROLE' }] };

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a restarted agent re-adopts the nested containers of a task group; the group is still killed as a group', async (t) => {
  const cluster = await Cluster.start({ clock: new SystemClock(), frameworkInfo: FRAMEWORK, agentFlags: ['--no-switch_user'] });
  t.after(() => cluster.stop());
  const first = cluster.agents[0]!;
  const workDir = first.agent.config.workDir;
  const offer = (await cluster.awaitEvent((e) => e.type === 'OFFERS')).offers.offers[0];
  const agentId = offer.agent_id.value as string;
  const role = offer.allocation_info?.role ?? '*';
  const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
  const ids = ['g1', 'g2'];
  await cluster.scheduler.accept([offer.id], [
    {
      type: 'LAUNCH_GROUP',
      launch_group: {
        executor: { type: 'DEFAULT', executor_id: { value: 'group' }, framework_id: offer.framework_id, resources: [res('cpus', 0.1), res('mem', 32)] },
        task_group: { tasks: ids.map((id) => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: [res('cpus', 0.1), res('mem', 32)], command: { value: 'exec sleep 600' } })) },
      },
    },
  ]);
  for (const id of ids) {
    for (const state of ['TASK_STARTING', 'TASK_RUNNING']) {
      const e = await cluster.awaitUpdate(id, state, 30_000);
      assert.equal(await cluster.scheduler.acknowledge(e.update.status), true);
    }
  }
  // The task processes: the nested containers' own pids, from their run dirs.
  const containersDir = path.join(workDir, 'runtime/containers');
  const nested = fs.readdirSync(containersDir).filter((id) => id.includes('.'));
  assert.equal(nested.length, 2, `two nested containers (${nested.join(', ')})`);
  // forked.pid is written by the container's supervisor, maybe just after TASK_RUNNING went out.
  const pidOf = (id: string) => until(`${id}/forked.pid`, () => {
    const text = fs.existsSync(path.join(containersDir, id, 'forked.pid')) ? fs.readFileSync(path.join(containersDir, id, 'forked.pid'), 'utf8').trim() : '';
    return /^\d+$/.test(text) ? Number(text) : undefined;
  });
  const pids = await Promise.all(nested.map(pidOf));
  const executorPid = await pidOf(nested[0]!.split('.')[0]!);

  // Every acknowledgement reached the agent before it dies (else its update is simply resent).
  await until('the acknowledgements to reach the agent', () => first.agent.statusUpdates.pendingCount() === 0);
  await first.crash();
  for (const pid of [...pids, executorPid]) assert.ok(alive(pid), `${pid} survives the agent`);
  const second = await startAgent(
    ['--master=127.0.0.1:' + cluster.master.port, '--ip=127.0.0.1', `--port=${first.port}`, `--work_dir=${workDir}`, '--resources=cpus:4;mem:2048;disk:4096;ports:[31000-32000]', '--no-switch_user'],
    { env: {}, clock: cluster.clock },
  );
  cluster.agents[0] = second;
  assert.equal(second.agent.agentId, agentId);
  // The default executor re-subscribes; both tasks are running under the new agent.
  await until('the executor to re-subscribe', () => {
    const ex = second.agent.framework(offer.framework_id.value)?.executors.get('group');
    return ex?.phase === 'RUNNING' && ids.every((id) => ex.launchedTasks.get(id)?.state === 'TASK_RUNNING');
  });
  for (const pid of pids) assert.ok(alive(pid), `nested container process ${pid} was re-adopted, not killed as an orphan`);

  // Killing one task goes through the executor to its re-adopted nested container; the other
  // task of the group goes with it.
  await cluster.scheduler.kill({ value: 'g1' }, { value: agentId });
  const killed = await cluster.awaitUpdate('g1', 'TASK_KILLED', 30_000);
  assert.equal(await cluster.scheduler.acknowledge(killed.update.status), true);
  const other = await cluster.awaitEvent((e: Msg) => e.type === 'UPDATE' && e.update.status.task_id.value === 'g2' && ['TASK_KILLED', 'TASK_FAILED'].includes(e.update.status.state), 30_000);
  assert.equal(other.update.status.state, 'TASK_KILLED');
  await cluster.scheduler.acknowledge(other.update.status);
  await until('the nested containers to end', () => pids.every((pid) => !alive(pid)));
});
