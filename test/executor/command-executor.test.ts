import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { Msg } from '../../src/protocol/codec.js';
import { createContainerizer } from '../../src/agent/containerizer/index.js';
import { CommandExecutor } from '../../src/executor/command-executor.js';
import { eventually, isAlive, readIf, tempDir } from '../containerizer/helpers.js';

const root = tempDir('meseta-command-executor-');
const clock = new ManualClock();
const containerizer = createContainerizer({ clock, workDir: root, runtimeDir: path.join(root, 'runtime') });
let n = 0;

const KILLING = { capabilities: [{ type: 'TASK_KILLING_STATE' }] };
const secs = (s: number) => ({ nanoseconds: s * 1e9 });

interface Run {
  executor: CommandExecutor;
  updates: Msg[];
  terminated: Promise<void>;
  sandbox: string;
  containerId: string;
}

function run(
  task: Msg,
  frameworkInfo: Msg = {},
  extra: { env?: Record<string, string>; executorInfo?: Msg; sandbox?: string; switchUser?: boolean } = {},
): Run {
  const id = `t${++n}`;
  const sandbox = path.join(root, 'sandboxes', id);
  fs.mkdirSync(sandbox, { recursive: true });
  const updates: Msg[] = [];
  let done!: () => void;
  const terminated = new Promise<void>((r) => (done = r));
  const executor = new CommandExecutor({
    task: { task_id: { value: id }, ...task },
    executorInfo: extra.executorInfo ?? { executor_id: { value: id } },
    frameworkInfo: { name: 'f', user: '', ...frameworkInfo },
    agentId: 'agent-S0',
    containerId: `container-${id}`,
    sandbox: extra.sandbox ?? sandbox,
    env: extra.env ?? {},
    containerizer,
    clock,
    sendUpdate: (s) => updates.push(s),
    onTerminated: done,
    ...(extra.switchUser !== undefined ? { switchUser: extra.switchUser } : {}),
  });
  executor.start();
  return { executor, updates, terminated, sandbox, containerId: `container-${id}` };
}

const states = (r: Run) => r.updates.map((u) => u.state);
const last = (r: Run) => r.updates[r.updates.length - 1]!;
// The task may touch `ready` before launch() resolved, i.e. before TASK_RUNNING went out.
const ready = (r: Run) =>
  eventually(() => fs.existsSync(path.join(r.sandbox, 'ready')) && r.updates.some((u) => u.state === 'TASK_RUNNING'), 'the task to start');

afterEach(async () => {
  await Promise.all(containerizer.containers().map((id) => containerizer.destroy(id)));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('command executor', () => {
  it('STARTING, RUNNING, FINISHED with Mesos fields and distinct uuids', async () => {
    const r = run({ command: { value: 'exit 0' } });
    await r.terminated;
    assert.deepEqual(states(r), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    const uuids = new Set(r.updates.map((u) => (u.uuid as Buffer).toString('hex')));
    assert.equal(uuids.size, 3);
    for (const u of r.updates) {
      assert.equal((u.uuid as Buffer).length, 16);
      assert.equal(u.source, 'SOURCE_EXECUTOR');
      assert.deepEqual(u.agent_id, { value: 'agent-S0' });
      assert.deepEqual(u.executor_id, { value: u.task_id.value });
      assert.equal(u.timestamp, clock.now() / 1000);
      assert.deepEqual(u.container_status.container_id, { value: r.containerId });
    }
    const running = r.updates[1]!;
    assert.equal(running.container_status.executor_pid, r.executor.pid);
    assert.ok(r.executor.pid! > 0);
    assert.equal(last(r).message, 'Command exited with status 0');
    assert.equal(last(r).reason, undefined);
    assert.ok(r.executor.terminated);
    assert.deepEqual(containerizer.containers(), []);
  });

  it('non-zero exit and death by signal are TASK_FAILED with Mesos messages', async () => {
    const a = run({ command: { value: 'exit 2' } });
    await a.terminated;
    assert.equal(last(a).state, 'TASK_FAILED');
    assert.equal(last(a).message, 'Command exited with status 2');

    const b = run({ command: { value: 'kill -9 $$' } });
    await b.terminated;
    assert.equal(last(b).state, 'TASK_FAILED');
    assert.equal(last(b).message, 'Command terminated with signal Killed');

    const c = run({ command: { shell: false, value: '/bin/sh', arguments: ['sh', '-c', 'exit 4'] } });
    await c.terminated;
    assert.equal(last(c).message, 'Command exited with status 4');
  });

  it('kill without TASK_KILLING_STATE: SIGTERM, then TASK_KILLED', async () => {
    const r = run({ command: { value: 'touch ready; exec sleep 1000' } });
    await ready(r);
    r.executor.kill();
    await r.terminated;
    assert.deepEqual(states(r), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
    assert.equal(last(r).message, 'Command terminated with signal Terminated');
  });

  it('kill with TASK_KILLING_STATE: TASK_KILLING, SIGKILL only after the KILL policy grace', async () => {
    const r = run(
      { command: { value: "trap '' TERM; touch ready; while :; do sleep 1; done" }, kill_policy: { grace_period: secs(20) } },
      KILLING,
    );
    await ready(r);
    const task = Number(readIf(path.join(root, 'runtime', 'containers', r.containerId, 'forked.pid')));
    r.executor.kill({ grace_period: secs(2) });
    assert.deepEqual(states(r), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING']);
    r.executor.kill({ grace_period: secs(30) }); // retries never extend the grace
    clock.advance(1999);
    assert.ok(isAlive(task), 'SIGTERM is ignored and SIGKILL is not due yet');
    assert.equal(r.updates.length, 3);
    clock.advance(1);
    await r.terminated;
    assert.deepEqual(states(r), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    assert.equal(last(r).message, 'Command terminated with signal Killed');
  });

  it("a repeated kill with a shorter grace brings SIGKILL forward; the task's kill policy is the default", async () => {
    const r = run({ command: { value: "trap '' TERM; touch ready; while :; do sleep 1; done" }, kill_policy: { grace_period: secs(10) } });
    await ready(r);
    r.executor.kill();
    clock.advance(1000);
    r.executor.kill({ grace_period: secs(3) });
    clock.advance(1999);
    assert.equal(r.updates.length, 2);
    clock.advance(1);
    await r.terminated;
    assert.equal(last(r).state, 'TASK_KILLED');
  });

  it('max_completion_time: killed at once, TASK_FAILED with REASON_MAX_COMPLETION_TIME_REACHED, no TASK_KILLING', async () => {
    const r = run({ command: { value: "trap '' TERM; touch ready; while :; do sleep 1; done" }, max_completion_time: secs(5) }, KILLING);
    await ready(r);
    clock.advance(4999);
    assert.equal(r.updates.length, 2);
    clock.advance(1);
    await r.terminated;
    assert.deepEqual(states(r), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    assert.equal(last(r).reason, 'REASON_MAX_COMPLETION_TIME_REACHED');
    assert.match(last(r).message, /^Command terminated with signal /);
  });

  it('a task that ends before max_completion_time leaves no timer behind', async () => {
    const before = clock.pending();
    const r = run({ command: { value: 'exit 0' }, max_completion_time: secs(60) });
    assert.equal(clock.pending(), before + 1);
    await r.terminated;
    assert.equal(clock.pending(), before);
    assert.equal(last(r).state, 'TASK_FINISHED');
  });

  it('shutdown kills within the executor shutdown grace period less the reap reserve', async () => {
    const r = run(
      { command: { value: "trap '' TERM; touch ready; while :; do sleep 1; done" } },
      {},
      { executorInfo: { executor_id: { value: 'e' }, shutdown_grace_period: secs(3) } },
    );
    await ready(r);
    r.executor.shutdown();
    clock.advance(999);
    assert.equal(r.updates.length, 2);
    clock.advance(1);
    await r.terminated;
    assert.equal(last(r).state, 'TASK_KILLED');
    assert.deepEqual(last(r).executor_id, { value: 'e' });
  });

  it('a kill that arrives while the container is being launched is applied once it runs', async () => {
    const r = run({ command: { value: 'exec sleep 1000' } });
    r.executor.kill();
    await r.terminated;
    assert.deepEqual(states(r), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
  });

  it('launch failure: TASK_FAILED from the agent with REASON_CONTAINER_LAUNCH_FAILED', async () => {
    const r = run({ command: { value: 'true' } }, {}, { sandbox: path.join(root, 'no-such-dir') });
    await r.terminated;
    assert.deepEqual(states(r), ['TASK_STARTING', 'TASK_FAILED']);
    assert.equal(last(r).reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.equal(last(r).source, 'SOURCE_AGENT');
    assert.match(last(r).message, /^Failed to launch container: Sandbox directory '.*no-such-dir' does not exist$/);
  });

  it("runs as the framework's user when switching users; not with switchUser false", { skip: process.getuid?.() !== 0 }, async () => {
    const a = run({ command: { value: 'true' } }, { user: 'no-such-user-here' });
    await a.terminated;
    assert.equal(last(a).reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.match(last(a).message, /Failed to get user information for 'no-such-user-here'/);
    const b = run({ command: { value: 'true' } }, { user: 'no-such-user-here' }, { switchUser: false });
    await b.terminated;
    assert.equal(last(b).state, 'TASK_FINISHED');
  });

  it('task environment: executor env, then CommandInfo.environment, then MESOS_ALLOCATION_ROLE', async () => {
    const r = run(
      {
        command: {
          value: 'env > env.txt',
          environment: { variables: [{ name: 'X', value: 'command' }, { name: 'MESOS_ALLOCATION_ROLE', value: 'nope' }] },
        },
        resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role: 'web' } }],
      },
      {},
      { env: { MESOS_FRAMEWORK_ID: 'fw-1', X: 'executor', Y: 'executor' } },
    );
    await r.terminated;
    const env = Object.fromEntries(
      fs.readFileSync(path.join(r.sandbox, 'env.txt'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(env.MESOS_FRAMEWORK_ID, 'fw-1');
    assert.equal(env.X, 'command');
    assert.equal(env.Y, 'executor');
    assert.equal(env.MESOS_ALLOCATION_ROLE, 'web');
    assert.equal(env.MESOS_SANDBOX, r.sandbox);
    assert.equal(env.MESOS_TASK_ID, r.updates[0]!.task_id.value);
  });

  it('keeps updates until acknowledged and re-sends the rest', async () => {
    const r = run({ command: { value: 'exit 0' } });
    await r.terminated;
    assert.equal(r.executor.unacknowledged().length, 3);
    r.executor.acknowledged(r.updates[0]!.uuid);
    r.executor.acknowledged(r.updates[1]!.uuid);
    assert.deepEqual(r.executor.unacknowledged(), [r.updates[2]]);
    r.executor.resend();
    assert.equal(r.updates.length, 4);
    assert.deepEqual(r.updates[3]!.uuid, r.updates[2]!.uuid);
    r.executor.acknowledged(r.updates[2]!.uuid);
    assert.deepEqual(r.executor.unacknowledged(), []);
  });
});
