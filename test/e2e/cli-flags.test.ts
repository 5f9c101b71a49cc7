// The bin/ programs as a user meets them: usage, flag errors, MESOS_* env vars, clean exit on SIGTERM.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Procs, httpGet } from './procs.js';

const procs = new Procs();
after(() => procs.cleanup());

test('an unknown flag prints the error and the usage on stderr and exits 1', async () => {
  const p = procs.spawn('mesos-master', ['--bogus=1']);
  const exit = await p.exited;
  assert.equal(exit.code, 1);
  const err = p.errLines.join('\n');
  assert.match(err, /Failed to load unknown flag 'bogus'/);
  assert.match(err, /Usage: mesos-master/);
  assert.match(err, /--work_dir/);
});

test('--help prints the flags and exits 0', async () => {
  const p = procs.spawn('mesos-agent', ['--help']);
  assert.equal((await p.exited).code, 0);
  const out = p.lines.join('\n');
  assert.match(out, /Usage: mesos-agent/);
  assert.match(out, /--resources=VALUE/);
  const e = procs.spawn('mesos-execute', ['--help']);
  assert.equal((await e.exited).code, 0);
  assert.match(e.lines.join('\n'), /--kill_after=VALUE/);
});

test('meseta rejects an unknown command', async () => {
  const p = procs.spawn('meseta', ['frobnicate']);
  assert.equal((await p.exited).code, 1);
  assert.match(p.errLines.join('\n'), /Unknown command 'frobnicate'/);
});

test('flags come from MESOS_* env vars; SIGTERM stops the master with exit 0', async () => {
  const p = procs.spawn('mesos-master', [], {
    MESOS_IP: '127.0.0.1',
    MESOS_PORT: '0',
    MESOS_REGISTRY: 'in_memory',
    MESOS_WORK_DIR: procs.tempDir('envmaster'),
    MESOS_ALLOCATION_INTERVAL: '250ms',
  });
  const url = (await p.waitForLine(/Master started at (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  const flags = (await httpGet(`${url}/master/flags`)).json().flags;
  assert.equal(flags.allocation_interval, '250ms');
  assert.equal(flags.registry, 'in_memory');
  p.child.kill('SIGTERM');
  const exit = await p.exited;
  assert.equal(exit.code, 0, p.output());
});
