import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatDuration, parseBytes, parseDuration } from '../../src/common/units.js';

test('durations parse in stout syntax', () => {
  assert.equal(parseDuration('15secs'), 15_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('10mins'), 600_000);
  assert.equal(parseDuration('2hrs'), 7_200_000);
  assert.equal(parseDuration('3days'), 259_200_000);
  assert.equal(parseDuration('2weeks'), 1_209_600_000);
  assert.equal(parseDuration('1.5secs'), 1500);
  assert.ok(Math.abs(parseDuration('10ns') - 1e-5) < 1e-12);
  assert.throws(() => parseDuration('15'), /Invalid duration/);
  assert.throws(() => parseDuration('15years'), /unknown unit/);
});

test('durations format back to the largest fitting unit', () => {
  assert.equal(formatDuration(5000), '5secs');
  assert.equal(formatDuration(90_000), '1.5mins');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(parseDuration('1weeks')), '1weeks');
});

test('byte sizes parse and format', () => {
  assert.equal(parseBytes('32B'), 32);
  assert.equal(parseBytes('4KB'), 4096);
  assert.equal(parseBytes('2GB'), 2 * 1024 ** 3);
  assert.equal(parseBytes('1.5MB'), 1572864);
  assert.throws(() => parseBytes('12'), /Invalid byte size/);
  assert.equal(formatBytes(2 * 1024 ** 3), '2GB');
  assert.equal(formatBytes(1000), '1000B');
});
