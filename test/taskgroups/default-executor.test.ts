// The DefaultExecutor class in this process (its timers on a ManualClock) against a real
// in-process agent: the agent launched a stand-in executor container that just sleeps, and the
// test's DefaultExecutor subscribes in its place and runs the group's tasks as nested
// containers. Covers kill-policy escalation (SIGTERM ignored -> SIGKILL after the grace),
// SHUTDOWN, and updates sent while disconnected being resent with the next SUBSCRIBE.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ManualClock } from '../../src/common/clock.js';
import { startAgent, type AgentHandle } from '../../src/agent/main.js';
import type { Msg } from '../../src/protocol/codec.js';
import { AgentClient, type Subscription } from '../../src/executor/default-executor/agent-client.js';
import { DefaultExecutor } from '../../src/executor/default-executor/executor.js';
import { FakeMaster, frameworkInfo } from '../agent/fake-master.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An AgentClient whose event stream the test can cut. */
class CuttableClient extends AgentClient {
  current?: Subscription;
  subscribes: Msg[] = [];
  override async subscribe(call: Msg, onEvent: (e: Msg) => void, onEnd: (why: string) => void): Promise<Subscription> {
    this.subscribes.push(call);
    this.current = await super.subscribe(call, onEvent, onEnd);
    return this.current;
  }
}

const cpus = [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role: '*' } }];

async function setup(executorId: string, tasks: Msg[]) {
  const master = await FakeMaster.start();
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-dexec-'));
  dirs.push(workDir);
  const agent: AgentHandle = await startAgent(
    [`--master=127.0.0.1:${master.port}`, `--work_dir=${workDir}`, '--port=0', '--ip=127.0.0.1', '--registration_backoff_factor=10ms', '--resources=cpus:4;mem:1024', '--no-switch_user'],
    { env: {} },
  );
  await master.waitFor('registered', () => agent.agent.registered);
  const executor = { executor_id: { value: executorId }, framework_id: { value: 'fw-1' }, command: { shell: true, value: 'exec sleep 30' }, resources: cpus };
  master.send('RunTaskGroupMessage', { framework: frameworkInfo(), executor, task_group: { tasks } });
  await master.waitFor('executor', () => agent.agent.framework('fw-1')?.executors.get(executorId));
  const clock = new ManualClock(Date.now());
  const client = new CuttableClient(agent.url);
  let exited!: (code: number) => void;
  const exit = new Promise<number>((r) => (exited = r));
  const dexec = new DefaultExecutor({
    client,
    clock,
    frameworkId: 'fw-1',
    executorId,
    checkpoint: true,
    recoveryTimeoutMs: 60_000,
    subscriptionBackoffMaxMs: 1_000,
    exit: exited,
  });
  await dexec.start();
  // The scheduler's part: acknowledge every update, so each task's stream moves on.
  let acked = 0;
  const acker = setInterval(() => {
    const all = master.messages('StatusUpdateMessage');
    for (; acked < all.length; acked++) master.acknowledge(all[acked]!.msg);
  }, 10);
  const stop = async () => {
    clearInterval(acker);
    await agent.stop();
    await master.stop();
  };
  return { master, agent, clock, client, dexec, exit, stop };
}

const task = (id: string, command: string, extra: Msg = {}) => ({ name: id, task_id: { value: id }, agent_id: { value: 'M1-S0' }, resources: cpus, command: { value: command }, ...extra });

/** States the master has received for a task, in order. */
function states(master: FakeMaster, taskId: string): string[] {
  return master.messages('StatusUpdateMessage').filter((r) => r.msg.update.status.task_id.value === taskId).map((r) => r.msg.update.status.state);
}

test('default executor: a task ignoring SIGTERM is SIGKILLed after its grace period; its group goes with it', async () => {
  const grace = { grace_period: { nanoseconds: 2_000_000_000 } };
  const marker = join(mkdtempSync(join(tmpdir(), 'meseta-dexec-mark-')), 'trapped');
  dirs.push(dirname(marker));
  const { master, clock, exit, stop } = await setup('ek', [
    task('stubborn', `trap "" TERM; touch ${marker}; while :; do sleep 0.05; done`, { kill_policy: grace }),
    task('plain', 'exec sleep 1000'),
  ]);
  try {
    await master.waitFor('both running', () => states(master, 'stubborn').includes('TASK_RUNNING') && states(master, 'plain').includes('TASK_RUNNING'));
    await master.waitFor('SIGTERM trapped', () => existsSync(marker));
    master.send('KillTaskMessage', { framework_id: { value: 'fw-1' }, task_id: { value: 'stubborn' } });
    await master.waitFor('plain killed', () => states(master, 'plain').includes('TASK_KILLED'));
    // SIGTERM did nothing to the stubborn task; only the grace period's end (protocol time) kills it.
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!states(master, 'stubborn').includes('TASK_KILLED'), `stubborn: ${states(master, 'stubborn').join(',')}`);
    clock.advance(2_000);
    await master.waitFor('stubborn killed', () => states(master, 'stubborn').includes('TASK_KILLED'));
    const killed = master.messages('StatusUpdateMessage').find((r) => r.msg.update.status.task_id.value === 'stubborn' && r.msg.update.status.state === 'TASK_KILLED')!;
    assert.match(killed.msg.update.status.message, /signal Killed/);
    assert.equal(await exit, 0);
  } finally {
    await stop();
  }
});

test('default executor: updates sent while disconnected are resent with the next SUBSCRIBE; SHUTDOWN kills all', async () => {
  const { master, clock, client, dexec, exit, stop } = await setup('er', [task('quick', 'sleep 0.3'), task('long', 'exec sleep 1000')]);
  try {
    await master.waitFor('running', () => states(master, 'quick').includes('TASK_RUNNING') && states(master, 'long').includes('TASK_RUNNING'));
    await master.waitFor('all acknowledged by the agent', () => dexec.unacknowledgedUpdates === 0);
    client.current!.close();
    await master.waitFor('disconnected', () => !dexec.isConnected);
    // 'quick' finishes while the executor is disconnected: its update waits for the next subscription.
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(!states(master, 'quick').includes('TASK_FINISHED'));
    clock.advance(1_000);
    await master.waitFor('re-subscribed', () => dexec.isConnected);
    const resent = client.subscribes[client.subscribes.length - 1]!.subscribe.unacknowledged_updates as Msg[];
    assert.deepEqual(resent.map((u) => `${u.status.task_id.value}:${u.status.state}`), ['quick:TASK_FINISHED']);
    await master.waitFor('finished reported', () => states(master, 'quick').includes('TASK_FINISHED'));
    // TASK_FINISHED does not take the group down: 'long' still runs until SHUTDOWN.
    assert.ok(!states(master, 'long').includes('TASK_KILLED'));
    master.send('ShutdownExecutorMessage', { framework_id: { value: 'fw-1' }, executor_id: { value: 'er' } });
    await master.waitFor('long killed', () => states(master, 'long').includes('TASK_KILLED'));
    assert.equal(await exit, 0);
  } finally {
    await stop();
  }
});
