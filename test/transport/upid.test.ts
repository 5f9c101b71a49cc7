import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress, formatUpid, parseUpid, sameUpid, toUpid, tryParseUpid, UpidError } from '../../src/transport/upid.js';

test('parses and formats Mesos UPIDs', () => {
  const cases = [
    'master@10.0.0.1:5050',
    'slave(1)@10.0.0.2:5051',
    'slave-observer(12)@127.0.0.1:5050',
    'scheduler-2b7ee8b4-6d4c-4bd2-9d35-6c1e9fda2b71@192.168.1.9:41234',
    'executor(1)@agent-7.example.com:5051',
  ];
  for (const text of cases) {
    const u = parseUpid(text);
    assert.equal(formatUpid(u), text);
  }
  assert.deepEqual(parseUpid('slave(1)@10.0.0.2:5051'), { id: 'slave(1)', ip: '10.0.0.2', port: 5051 });
});

test('IPv6 hosts are bracketed', () => {
  const u = parseUpid('master@[::1]:5050');
  assert.deepEqual(u, { id: 'master', ip: '::1', port: 5050 });
  assert.equal(formatUpid(u), 'master@[::1]:5050');
  assert.equal(formatAddress('::1', 1), '[::1]:1');
});

test('rejects malformed UPIDs', () => {
  for (const bad of [
    '',
    'master',
    '@10.0.0.1:5050',
    'master@',
    'master@10.0.0.1',
    'master@10.0.0.1:',
    'master@10.0.0.1:abc',
    'master@10.0.0.1:70000',
    'master@10.0.0.1:-1',
    'mas ter@10.0.0.1:5050',
    'a/b@10.0.0.1:5050',
    'master@10.0.0.1 :5050',
    'master@:5050',
    'master@[zz]:5050',
  ]) {
    assert.throws(() => parseUpid(bad), UpidError, bad);
    assert.equal(tryParseUpid(bad), undefined);
  }
});

test('helpers', () => {
  assert.ok(sameUpid(parseUpid('a@1.2.3.4:5'), { id: 'a', ip: '1.2.3.4', port: 5 }));
  assert.ok(!sameUpid(parseUpid('a@1.2.3.4:5'), { id: 'a', ip: '1.2.3.4', port: 6 }));
  assert.deepEqual(toUpid('a@1.2.3.4:5'), { id: 'a', ip: '1.2.3.4', port: 5 });
  const u = { id: 'x', ip: '1.1.1.1', port: 1 };
  assert.equal(toUpid(u), u);
});
