// Recovery of a driver (libprocess) executor: the restarted agent finds its pid in
// runs/latest/pids/libprocess.pid, sends ReconnectExecutorMessage, and takes the updates the
// executor re-registers with.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../../src/agent/main.js';
import { HttpServer } from '../../src/common/http/server.js';
import { uuidBytes } from '../../src/common/ids.js';
import { Libprocess } from '../../src/transport/libprocess.js';
import type { Msg } from '../../src/agent/types.js';
import { FakeMaster, frameworkInfo } from '../agent/fake-master.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a driver executor is reconnected by the restarted agent and its unacknowledged update is delivered', async () => {
  const master = await FakeMaster.start();
  const workDir = fs.mkdtempSync(join(tmpdir(), 'meseta-agent-'));
  dirs.push(workDir);
  const flags = (port: number) => [`--master=127.0.0.1:${master.port}`, `--work_dir=${workDir}`, `--port=${port}`, '--ip=127.0.0.1', '--registration_backoff_factor=10ms', '--no-switch_user', '--resources=cpus:2;mem:1024;disk:1024'];
  let agent = await startAgent(flags(0));
  const server = new HttpServer({ host: '127.0.0.1', port: 0 });
  const lp = new Libprocess(server, { ip: '127.0.0.1', port: 0 });
  lp.setAddress('127.0.0.1', await server.listen());
  const exec = lp.spawn('executor(1)');
  const got: Array<{ name: string; msg: Msg }> = [];
  const finished = uuidBytes();
  const finishedStatus = { task_id: { value: 'd1' }, state: 'TASK_FINISHED', source: 'SOURCE_EXECUTOR', uuid: finished, executor_id: { value: 'drv' } };
  for (const name of ['ExecutorRegisteredMessage', 'ExecutorReregisteredMessage', 'RunTaskMessage', 'StatusUpdateAcknowledgementMessage', 'ReconnectExecutorMessage', 'ShutdownExecutorMessage']) {
    exec.install(`mesos.internal.${name}`, (_from, msg) => {
      got.push({ name, msg });
      // What the executor driver does on ReconnectExecutorMessage.
      if (name === 'ReconnectExecutorMessage') {
        exec.send(agent.pid, 'mesos.internal.ReregisterExecutorMessage', {
          framework_id: { value: 'fw-1' },
          executor_id: { value: 'drv' },
          updates: [{ framework_id: { value: 'fw-1' }, executor_id: { value: 'drv' }, slave_id: msg.slave_id, status: finishedStatus, timestamp: 2, uuid: finished }],
        });
      }
    });
  }
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    const executor = { executor_id: { value: 'drv' }, framework_id: { value: 'fw-1' }, command: { value: 'sleep 30' } };
    master.send('RunTaskMessage', {
      framework: frameworkInfo('fw-1', { checkpoint: true }),
      task: { name: 'd', task_id: { value: 'd1' }, agent_id: { value: 'M1-S0' }, resources: [], executor },
      pid: 'scheduler-1@127.0.0.1:1',
    });
    await until('executor', () => agent.agent.framework('fw-1')?.executors.get('drv'));
    exec.send(agent.pid, 'mesos.internal.RegisterExecutorMessage', { framework_id: { value: 'fw-1' }, executor_id: { value: 'drv' } });
    await until('task', () => got.find((g) => g.name === 'RunTaskMessage'));
    const running = uuidBytes();
    const status = { task_id: { value: 'd1' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid: running, executor_id: { value: 'drv' } };
    exec.send(agent.pid, 'mesos.internal.StatusUpdateMessage', {
      update: { framework_id: { value: 'fw-1' }, executor_id: { value: 'drv' }, slave_id: { value: 'M1-S0' }, status, timestamp: 1, uuid: running },
      pid: exec.pid,
    });
    const fwd = await master.update('d1', 0);
    master.acknowledge(fwd);
    await until('ack checkpointed', () => agent.agent.statusUpdates.pendingCount() === 0);
    const pidFile = join(workDir, 'meta/slaves/M1-S0/frameworks/fw-1/executors/drv/runs/latest/pids/libprocess.pid');
    assert.equal(fs.readFileSync(pidFile, 'utf8'), exec.pid);

    const port = agent.port;
    await agent.crash();
    agent = await startAgent(flags(port));
    assert.equal(agent.agent.agentId, 'M1-S0');
    const rereg = await until('re-registered', () => got.find((g) => g.name === 'ExecutorReregisteredMessage'));
    assert.equal(rereg.msg.slave_id.value, 'M1-S0');
    const ack = await until('ack of the replayed update', () => got.find((g) => g.name === 'StatusUpdateAcknowledgementMessage' && Buffer.from(g.msg.uuid).equals(finished)));
    assert.equal(ack.msg.task_id.value, 'd1');
    const reregistered = await master.waitFor('agent re-registration', () => master.messages('ReregisterSlaveMessage')[0]);
    assert.equal(reregistered.msg.slave.id.value, 'M1-S0');
    assert.deepEqual(reregistered.msg.tasks.map((t: Msg) => `${t.task_id.value}:${t.state}`), ['d1:TASK_FINISHED'], 'the update the executor re-registered with is already known');
    const done = await master.update('d1', 1);
    assert.equal(done.update.status.state, 'TASK_FINISHED');
    assert.ok(Buffer.from(done.update.uuid).equals(finished));
    assert.equal(got.filter((g) => g.name === 'ShutdownExecutorMessage').length, 0);
  } finally {
    lp.close();
    await server.close();
    await agent.stop();
    await master.stop();
  }
});
