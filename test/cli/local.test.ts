import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagsError } from '../../src/common/flags.js';
import { routeFlags } from '../../src/cli/local.js';

test('mesos-local routes its own flags, master flags and agent flags', () => {
  const r = routeFlags([
    '--num_slaves=2',
    '--work_dir=/tmp/w',
    '--port',
    '5055',
    '--allocation_interval=50ms',
    '--resources=cpus:1;mem:64',
    '--isolation=posix/cpu',
    '--logging_level=WARNING',
    '--no-hostname_lookup',
    '--master=ignored:1',
  ]);
  assert.deepEqual(r.local, ['--num_slaves=2', '--work_dir=/tmp/w', '--port', '5055']);
  assert.deepEqual(r.master, ['--allocation_interval=50ms', '--logging_level=WARNING', '--no-hostname_lookup']);
  assert.deepEqual(r.agent, ['--resources=cpus:1;mem:64', '--isolation=posix/cpu', '--logging_level=WARNING', '--no-hostname_lookup']);
});

test('mesos-local rejects unknown flags and stray arguments', () => {
  assert.throws(() => routeFlags(['--frobnicate=1']), (e: unknown) => e instanceof FlagsError && /unknown flag 'frobnicate'/.test(e.message));
  assert.throws(() => routeFlags(['oops']), FlagsError);
  assert.throws(() => routeFlags(['--resources']), /missing value/);
});
