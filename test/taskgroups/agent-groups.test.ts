// The agent's side of task groups (OPS-02): groups queued for an executor that has not
// subscribed yet are delivered as one LAUNCH_GROUP each, and killing one queued task of a
// group kills the whole group.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../../src/agent/main.js';
import { AgentClient } from '../../src/executor/default-executor/agent-client.js';
import { FakeMaster, frameworkInfo } from '../agent/fake-master.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const cpus = [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role: '*' } }];
const executor = (id: string) => ({ executor_id: { value: id }, framework_id: { value: 'fw-1' }, command: { shell: true, value: 'sleep 30' }, resources: cpus });
const task = (id: string) => ({ name: id, task_id: { value: id }, agent_id: { value: 'M1-S0' }, resources: cpus, command: { value: 'true' } });

test('agent: queued task groups stay groups; killing a queued task kills its group', async () => {
  const master = await FakeMaster.start();
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-groups-'));
  dirs.push(workDir);
  const agent = await startAgent(
    [`--master=127.0.0.1:${master.port}`, `--work_dir=${workDir}`, '--port=0', '--ip=127.0.0.1', '--registration_backoff_factor=10ms', '--resources=cpus:4;mem:1024', '--no-switch_user'],
    { env: {} },
  );
  const client = new AgentClient(agent.url);
  try {
    await master.waitFor('registered', () => agent.agent.registered);

    // Kill one task of a queued group: all three end TASK_KILLED.
    master.send('RunTaskGroupMessage', { framework: frameworkInfo(), executor: executor('ek'), task_group: { tasks: [task('k1'), task('k2'), task('k3')] } });
    await master.waitFor('executor ek', () => agent.agent.framework('fw-1')?.executors.get('ek'));
    master.send('KillTaskMessage', { framework_id: { value: 'fw-1' }, task_id: { value: 'k2' } });
    for (const id of ['k1', 'k2', 'k3']) {
      const u = await master.update(id, 0);
      assert.equal(u.update.status.state, 'TASK_KILLED', id);
      assert.equal(u.update.status.reason, 'REASON_TASK_KILLED_DURING_LAUNCH');
    }

    // Two groups queued for one registering executor arrive as two LAUNCH_GROUP events.
    master.send('RunTaskGroupMessage', { framework: frameworkInfo(), executor: executor('eg'), task_group: { tasks: [task('g1'), task('g2')] } });
    await master.waitFor('executor eg', () => agent.agent.framework('fw-1')?.executors.get('eg'));
    master.send('RunTaskGroupMessage', { framework: frameworkInfo(), executor: executor('eg'), task_group: { tasks: [task('h1'), task('h2')] } });
    await master.waitFor('second group queued', () => agent.agent.framework('fw-1')?.executors.get('eg')?.queuedTasks.size === 4);
    const events: any[] = [];
    const sub = await client.subscribe(
      { type: 'SUBSCRIBE', framework_id: { value: 'fw-1' }, executor_id: { value: 'eg' }, subscribe: {} },
      (e) => events.push(e),
      () => undefined,
    );
    await master.waitFor('two LAUNCH_GROUPs', () => events.filter((e) => e.type === 'LAUNCH_GROUP').length === 2);
    sub.close();
    const groups = events.filter((e) => e.type === 'LAUNCH_GROUP').map((e) => e.launch_group.task_group.tasks.map((t: any) => t.task_id.value));
    assert.deepEqual(groups, [['g1', 'g2'], ['h1', 'h2']]);
    assert.ok(!events.some((e) => e.type === 'LAUNCH'), 'no task of a group arrives as a plain LAUNCH');
  } finally {
    client.close();
    await agent.stop();
    await master.stop();
  }
});
