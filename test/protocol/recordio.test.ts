import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { frame, RecordIOError, RecordIOReader } from '../../src/protocol/recordio.js';

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(buf.subarray(prev, p));
    prev = p;
  }
  chunks.push(buf.subarray(prev));
  return chunks;
}

test('frame writes length, newline and body in one buffer', () => {
  assert.equal(frame('{"type":"HEARTBEAT"}').toString(), '20\n{"type":"HEARTBEAT"}');
  assert.deepEqual(frame(Buffer.from([1, 2, 3])), Buffer.from([0x33, 0x0a, 1, 2, 3]));
  // The length counts bytes, not characters.
  assert.deepEqual(frame('é'), Buffer.from([0x32, 0x0a, 0xc3, 0xa9]));
});

test('any records split at any chunk boundaries round-trip', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (records, cuts) => {
        const stream = Buffer.concat(records.map((r) => frame(Buffer.from(r))));
        const reader = new RecordIOReader();
        const out: Buffer[] = [];
        for (const chunk of splitAt(stream, cuts)) out.push(...reader.push(chunk));
        reader.end();
        assert.deepEqual(out.map((b) => [...b]), records.map((r) => [...r]));
      },
    ),
    { numRuns: 300 },
  );
});

test('byte-at-a-time feeding works', () => {
  const stream = Buffer.concat([frame('a'), frame('hello world'), frame('x'.repeat(1000))]);
  const reader = new RecordIOReader();
  const out: string[] = [];
  for (const byte of stream) out.push(...reader.push(Buffer.from([byte])).map((b) => b.toString()));
  assert.deepEqual(out, ['a', 'hello world', 'x'.repeat(1000)]);
  reader.end();
});

test('malformed input is rejected', () => {
  const bad: Array<[string, RegExp]> = [
    ['abc\n', /unexpected byte/],
    ['-5\nhello', /unexpected byte/],
    [' 5\nhello', /unexpected byte/],
    ['5\r\nhello', /unexpected byte 0x0d/],
    ['\nhello', /empty/],
    ['0\n', /size: 0/],
    ['00\n', /size: 0/],
    ['9'.repeat(25) + '\n', /too long/],
  ];
  for (const [input, pattern] of bad) {
    const reader = new RecordIOReader();
    assert.throws(
      () => reader.push(Buffer.from(input)),
      (e: unknown) => e instanceof RecordIOError && pattern.test(e.message),
      JSON.stringify(input),
    );
    // The reader stays failed.
    assert.throws(() => reader.push(Buffer.from('1\na')), RecordIOError);
  }
  const limited = new RecordIOReader(10);
  assert.deepEqual(limited.push(Buffer.from('10\n0123456789')).map(String), ['0123456789']);
  assert.throws(() => limited.push(Buffer.from('11\n')), /exceeds the maximum/);
  const big = new RecordIOReader();
  assert.throws(() => big.push(Buffer.from(`${256 * 1024 * 1024 + 1}\n`)), /exceeds the maximum/);
});

test('end() throws on a truncated record', () => {
  const r1 = new RecordIOReader();
  r1.push(Buffer.from('5\nhel'));
  assert.throws(() => r1.end(), /ended inside a record/);
  const r2 = new RecordIOReader();
  r2.push(Buffer.from('12'));
  assert.throws(() => r2.end(), /ended inside a record/);
  const r3 = new RecordIOReader();
  assert.deepEqual(r3.push(Buffer.from('2\nhi')).map(String), ['hi']);
  r3.end();
});
