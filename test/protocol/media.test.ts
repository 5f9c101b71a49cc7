import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contentType, isMediaError, MISSING_CONTENT_TYPE, requestEncoding, responseEncoding, UNSUPPORTED_CONTENT_TYPE,
} from '../../src/protocol/media.js';

test('request encoding from Content-Type', () => {
  const table: Array<[string | string[] | undefined, unknown]> = [
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['Application/JSON', 'json'],
    ['application/x-protobuf', 'protobuf'],
    [['application/x-protobuf'], 'protobuf'],
    [undefined, { status: 400, error: MISSING_CONTENT_TYPE }],
    ['', { status: 400, error: MISSING_CONTENT_TYPE }],
    ['text/plain', { status: 415, error: UNSUPPORTED_CONTENT_TYPE }],
    ['application/recordio', { status: 415, error: UNSUPPORTED_CONTENT_TYPE }],
  ];
  for (const [header, expected] of table) {
    assert.deepEqual(requestEncoding(header), expected, `Content-Type ${JSON.stringify(header)}`);
  }
  assert.ok(isMediaError(requestEncoding(undefined)));
  assert.ok(!isMediaError(requestEncoding('application/json')));
  assert.match(UNSUPPORTED_CONTENT_TYPE, /application\/json or application\/x-protobuf/);
});

test('response encoding from Accept', () => {
  const table: Array<[string | string[] | undefined, 'json' | 'protobuf' | null]> = [
    [undefined, 'json'],
    ['', 'json'],
    ['application/json', 'json'],
    ['application/x-protobuf', 'protobuf'],
    ['application/x-protobuf, application/json', 'json'],
    // libprocess picks JSON whenever it is acceptable, whatever the q of protobuf.
    ['application/json;q=0.5, application/x-protobuf', 'json'],
    ['application/x-protobuf;q=0.9, application/json;q=0.9', 'json'],
    [['text/html', 'application/x-protobuf'], 'protobuf'],
    [['application/json', 'application/x-protobuf'], 'json'],
    ['*/*', 'json'],
    ['application/*', 'json'],
    ['application/*;q=0.2, application/x-protobuf', 'json'],
    ['application/x-protobuf, */*;q=0.1', 'json'],
    ['text/html', null],
    ['application/json;q=0', null],
    ['application/json;q=0, application/x-protobuf;q=0', null],
    ['application/json;q=0, */*', 'protobuf'],
    ['*/*;q=0', null],
    ['application/recordio', null],
  ];
  for (const [header, expected] of table) {
    assert.equal(responseEncoding(header), expected, `Accept ${JSON.stringify(header)}`);
  }
  assert.equal(contentType('json'), 'application/json');
  assert.equal(contentType('protobuf'), 'application/x-protobuf');
});
