import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandExecutorInfo, commandExecutorName, executorEnvironment } from '../../src/agent/executor-info.js';

const task = (command: any) => ({ task_id: { value: 't' }, command });

test('command executor names follow Mesos, abbreviating past 15 characters', () => {
  assert.equal(commandExecutorName(task({ value: 'sleep 1000' })), "Command Executor (Task: t) (Command: sh -c 'sleep 1000')");
  assert.equal(commandExecutorName(task({ shell: true, value: 'while true ; do sleep 1; done' })), "Command Executor (Task: t) (Command: sh -c 'while true ;...')");
  assert.equal(commandExecutorName(task({ shell: true })), 'Command Executor (Task: t) (Command: NO COMMAND)');
  assert.equal(commandExecutorName(task({ shell: false })), 'Command Executor (Task: t) (Command: NO EXECUTABLE)');
  assert.equal(commandExecutorName(task({ shell: false, value: 'ls' })), 'Command Executor (Task: t) (Command: [ls, ])');
  assert.equal(commandExecutorName(task({ shell: false, value: '/bin/echo', arguments: ['echo', 'hello'] })), 'Command Executor (Task: t) (Command: [/bin/echo, e...])');
});

test('the synthesised ExecutorInfo: id and source are the task id, overhead resources in the task role', () => {
  const info = commandExecutorInfo(
    {
      task_id: { value: 'web.1' },
      command: { value: 'serve', environment: { variables: [{ name: 'A', value: '1' }] }, user: 'nobody' },
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role: 'web' } }],
      labels: { labels: [{ key: 'k', value: 'v' }] },
    },
    { value: 'fw' },
    '/usr/libexec/mesos',
  );
  assert.equal(info.executor_id.value, 'web.1');
  assert.equal(info.source, 'web.1');
  assert.equal(info.framework_id.value, 'fw');
  assert.deepEqual(
    info.resources.map((r: any) => [r.name, r.scalar.value, r.allocation_info.role]),
    [
      ['cpus', 0.1, 'web'],
      ['mem', 32, 'web'],
    ],
  );
  assert.equal(info.command.value, '/usr/libexec/mesos/mesos-executor');
  assert.equal(info.command.shell, false);
  assert.equal(info.command.user, 'nobody');
  assert.equal(info.command.environment.variables[0].name, 'A');
  assert.deepEqual(info.labels, { labels: [{ key: 'k', value: 'v' }] });
});

test('executor environment: EXE-30 variables over the base environment, then CommandInfo.environment', () => {
  const env = executorEnvironment({
    frameworkId: 'fw',
    executorInfo: { executor_id: { value: 'ex' }, command: { environment: { variables: [{ name: 'MINE', value: 'x' }, { name: 'S', type: 'SECRET', secret: {} }] } } },
    directory: '/sandbox',
    agentId: 'A1',
    agentPid: 'slave(1)@1.2.3.4:5051',
    agentEndpoint: '1.2.3.4:5051',
    checkpoint: true,
    httpCommandExecutor: false,
    shutdownGracePeriodMs: 5000,
    recoveryTimeoutMs: 15 * 60_000,
    subscriptionBackoffMaxMs: 2000,
    baseEnv: { PATH: '/bin', MESOS_SLAVE_ID: 'stale' },
  });
  assert.equal(env.PATH, '/bin');
  assert.equal(env.MESOS_SLAVE_ID, 'A1');
  assert.equal(env.MESOS_CHECKPOINT, '1');
  assert.equal(env.MESOS_RECOVERY_TIMEOUT, '15mins');
  assert.equal(env.MESOS_SUBSCRIPTION_BACKOFF_MAX, '2secs');
  assert.equal(env.MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD, '5secs');
  assert.equal(env.LIBPROCESS_PORT, '0');
  assert.equal(env.MINE, 'x');
  assert.equal(env.S, undefined);
});
