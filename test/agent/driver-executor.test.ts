// A driver-based executor (WIRE-04) registering over libprocess messages.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../../src/agent/main.js';
import { HttpServer } from '../../src/common/http/server.js';
import { uuidBytes } from '../../src/common/ids.js';
import { Libprocess } from '../../src/transport/libprocess.js';
import type { Msg } from '../../src/agent/types.js';
import { FakeMaster, frameworkInfo } from './fake-master.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
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

test('a driver executor registers, gets its tasks as RunTaskMessage and has its updates acknowledged', async () => {
  const master = await FakeMaster.start();
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-agent-'));
  dirs.push(workDir);
  const agent = await startAgent([`--master=127.0.0.1:${master.port}`, `--work_dir=${workDir}`, '--port=0', '--ip=127.0.0.1', '--registration_backoff_factor=10ms', '--no-switch_user']);
  const server = new HttpServer({ host: '127.0.0.1', port: 0 });
  const lp = new Libprocess(server, { ip: '127.0.0.1', port: 0 });
  lp.setAddress('127.0.0.1', await server.listen());
  const exec = lp.spawn('executor(1)');
  const got: Array<{ name: string; msg: Msg }> = [];
  for (const name of ['ExecutorRegisteredMessage', 'RunTaskMessage', 'StatusUpdateAcknowledgementMessage', 'KillTaskMessage', 'FrameworkToExecutorMessage', 'ShutdownExecutorMessage']) {
    exec.install(`mesos.internal.${name}`, (_from, msg) => got.push({ name, msg }));
  }
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    const executor = { executor_id: { value: 'drv' }, framework_id: { value: 'fw-1' }, command: { value: 'sleep 30' } };
    master.send('RunTaskMessage', {
      framework: frameworkInfo(),
      task: { name: 'd', task_id: { value: 'd1' }, agent_id: { value: 'M1-S0' }, resources: [], executor },
      pid: 'scheduler-1@127.0.0.1:1',
    });
    await until('executor', () => agent.agent.framework('fw-1')?.executors.get('drv'));

    exec.send(agent.pid, 'mesos.internal.RegisterExecutorMessage', { framework_id: { value: 'fw-1' }, executor_id: { value: 'drv' } });
    const registered = await until('registered', () => got.find((g) => g.name === 'ExecutorRegisteredMessage'));
    assert.equal(registered.msg.slave_id.value, 'M1-S0');
    assert.equal(registered.msg.executor_info.executor_id.value, 'drv');
    assert.equal(registered.msg.framework_info.id.value, 'fw-1');
    const run = await until('task', () => got.find((g) => g.name === 'RunTaskMessage'));
    assert.equal(run.msg.task.task_id.value, 'd1');
    assert.equal(run.msg.pid, 'scheduler-1@127.0.0.1:1');

    const uuid = uuidBytes();
    const status = { task_id: { value: 'd1' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid, executor_id: { value: 'drv' } };
    exec.send(agent.pid, 'mesos.internal.StatusUpdateMessage', {
      update: { framework_id: { value: 'fw-1' }, executor_id: { value: 'drv' }, slave_id: { value: 'M1-S0' }, status, timestamp: 1, uuid },
      pid: exec.pid,
    });
    const ack = await until('ack', () => got.find((g) => g.name === 'StatusUpdateAcknowledgementMessage'));
    assert.deepEqual(Buffer.from(ack.msg.uuid), uuid);
    assert.equal(ack.msg.task_id.value, 'd1');
    const fwd = await master.update('d1', 0);
    assert.equal(fwd.update.status.state, 'TASK_RUNNING');

    master.send('KillTaskMessage', { framework_id: { value: 'fw-1' }, task_id: { value: 'd1' } });
    await until('kill', () => got.find((g) => g.name === 'KillTaskMessage'));
    master.send('FrameworkToExecutorMessage', { slave_id: { value: 'M1-S0' }, framework_id: { value: 'fw-1' }, executor_id: { value: 'drv' }, data: Buffer.from('hi') });
    const fm = await until('message', () => got.find((g) => g.name === 'FrameworkToExecutorMessage'));
    assert.equal(Buffer.from(fm.msg.data).toString(), 'hi');
    exec.send(agent.pid, 'mesos.internal.ExecutorToFrameworkMessage', { slave_id: { value: 'M1-S0' }, framework_id: { value: 'fw-1' }, executor_id: { value: 'drv' }, data: Buffer.from('yo') });
    const em = await master.waitFor('executor message', () => master.messages('ExecutorToFrameworkMessage')[0]);
    assert.equal(Buffer.from(em.msg.data).toString(), 'yo');

    // An executor nobody launched is told to shut down.
    exec.send(agent.pid, 'mesos.internal.RegisterExecutorMessage', { framework_id: { value: 'fw-1' }, executor_id: { value: 'ghost' } });
    const shut = await until('shutdown', () => got.find((g) => g.name === 'ShutdownExecutorMessage'));
    assert.equal(shut.msg.executor_id.value, 'ghost');
  } finally {
    lp.close();
    await server.close();
    await agent.stop();
    await master.stop();
  }
});
