// End-to-end: bin/mesos-local runs a master and two agents in one process; SIGTERM leaves nothing behind.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { descendantPids, isAlive } from '../../src/cli/proc.js';
import { TestFramework } from './driver.js';
import { Procs, eventually, httpGet } from './procs.js';

const procs = new Procs();
after(() => procs.cleanup());

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

test('mesos-local starts, answers /health, runs a task, and SIGTERM leaves no child process', async () => {
  const local = procs.spawn('mesos-local', ['--port=0', '--num_slaves=2', `--work_dir=${procs.tempDir('local')}`], {
    MESOS_REGISTRATION_BACKOFF_FACTOR: '100ms',
  });
  const url = (await local.waitForLine(/Master started at (http:\/\/\S+)/))[1]!;
  await local.waitForLine(/Agent 1 started at http:\/\//);
  const health = await httpGet(`${url}/health`);
  assert.equal(health.status, 200);
  await eventually(async () => (await httpGet(`${url}/master/state`)).json().slaves?.length === 2, 30_000, 'two agents to register');

  const fw = await new TestFramework(url.replace(/^http:\/\//, ''), 'local-e2e').start();
  let taskPids: number[] = [];
  try {
    fw.submit([{ id: 'sleeper', command: 'sleep 100' }]);
    await fw.awaitState('sleeper', 'TASK_RUNNING');
    taskPids = await eventually(() => {
      const pids = descendantPids(local.pid).filter((p) => cmdline(p).includes('sleep 100'));
      return pids.length > 0 ? pids : undefined;
    }, 10_000, 'the task process under mesos-local');
  } finally {
    await fw.stop(false);
  }
  procs.remember();
  const everything = descendantPids(local.pid);
  assert.ok(everything.length > 0);

  local.child.kill('SIGTERM');
  const exit = await local.exited;
  assert.equal(exit.code, 0, local.output());
  for (const pid of [...taskPids, ...everything]) {
    await eventually(() => !isAlive(pid), 5000, `process ${pid} (${cmdline(pid)}) to be gone`);
  }
});
