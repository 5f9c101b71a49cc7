import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJson, decodeProto, encodeJson, encodeProto, hasType, ProtocolError } from '../../src/protocol/codec.js';

test('scheduler SUBSCRIBE call round-trips through protobuf and JSON', () => {
  const call = {
    type: 'SUBSCRIBE',
    subscribe: { framework_info: { user: 'svc', name: 'fw', roles: ['eng'], capabilities: [{ type: 'MULTI_ROLE' }] } },
  };
  assert.deepEqual(decodeProto('mesos.v1.scheduler.Call', encodeProto('mesos.v1.scheduler.Call', call)), call);
  const back = decodeJson('mesos.v1.scheduler.Call', encodeJson('mesos.v1.scheduler.Call', call));
  // JSON output carries stout's explicit defaults (failover_timeout, checkpoint).
  assert.deepEqual(back, {
    ...call,
    subscribe: { framework_info: { ...call.subscribe.framework_info, failover_timeout: 0, checkpoint: false } },
  });
  assert.ok(hasType('mesos.internal.RegisterSlaveMessage'));
  assert.ok(!hasType('mesos.v1.Nope'));
});

test('missing required field is rejected with its path', () => {
  assert.throws(
    () => decodeJson('mesos.v1.scheduler.Call', '{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"x"}}}'),
    (e: unknown) => e instanceof ProtocolError && /subscribe\.framework_info\.user/.test(e.message),
  );
});
