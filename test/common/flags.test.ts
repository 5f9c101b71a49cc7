import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flags, FlagsError, parseFlags, type FlagSpec } from '../../src/common/flags.js';

const specs: FlagSpec[] = [
  { name: 'port', kind: 'int', help: 'port', default: '5050' },
  { name: 'ip', kind: 'string', help: 'ip' },
  { name: 'work_dir', kind: 'string', help: 'dir', required: true },
  { name: 'allocation_interval', kind: 'duration', help: 'interval', default: '1secs' },
  { name: 'fetcher_cache_size', kind: 'bytes', help: 'size', default: '2GB' },
  { name: 'switch_user', kind: 'bool', help: 'switch', default: 'true' },
  { name: 'credential', kind: 'string', help: 'credential' },
];

test('flags parse --name=value, defaults, durations, sizes and booleans', () => {
  const f = new Flags(parseFlags(specs, ['--port=6060', '--work_dir=/tmp/x', '--allocation_interval=250ms', '--no-switch_user'], {}));
  assert.equal(f.num('port'), 6060);
  assert.equal(f.str('work_dir'), '/tmp/x');
  assert.equal(f.num('allocation_interval'), 250);
  assert.equal(f.num('fetcher_cache_size'), 2 * 1024 ** 3);
  assert.equal(f.bool('switch_user'), false);
  assert.equal(f.has('ip'), false);
  assert.deepEqual(f.toJSON().allocation_interval, '250ms');
});

test('MESOS_ environment variables are read and the command line wins', () => {
  const env = { MESOS_WORK_DIR: '/from/env', MESOS_PORT: '7070', MESOS_IP: '10.0.0.1' };
  const f = new Flags(parseFlags(specs, ['--port', '8080'], env));
  assert.equal(f.str('work_dir'), '/from/env');
  assert.equal(f.num('port'), 8080);
  assert.equal(f.str('ip'), '10.0.0.1');
});

test('bad flags are rejected with clear messages', () => {
  assert.throws(() => parseFlags(specs, ['--nope=1', '--work_dir=/x'], {}), (e: unknown) => e instanceof FlagsError && /unknown flag 'nope'/.test(e.message));
  assert.throws(() => parseFlags(specs, ['--port=abc', '--work_dir=/x'], {}), /not an integer/);
  assert.throws(() => parseFlags(specs, ['--allocation_interval=5', '--work_dir=/x'], {}), /Invalid duration/);
  assert.throws(() => parseFlags(specs, [], {}), /'--work_dir' is required/);
});

test('file:// values are read from the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flags-'));
  const file = join(dir, 'cred');
  writeFileSync(file, 'principal secret\n');
  const f = new Flags(parseFlags(specs, [`--credential=file://${file}`, '--work_dir=/x'], {}));
  assert.equal(f.str('credential'), 'principal secret');
});
