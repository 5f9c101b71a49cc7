import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeJson, decodeProto, encodeJson, encodeProto, fromJson, hasType, ProtocolError, toJson, type Msg,
} from '../../src/protocol/codec.js';

const CALL = 'mesos.v1.scheduler.Call';
const EVENT = 'mesos.v1.scheduler.Event';

function protoRoundTrip(type: string, msg: Msg): Msg {
  return decodeProto(type, encodeProto(type, msg));
}

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

const offer: Msg = {
  id: { value: 'o-1' },
  framework_id: { value: 'fw-0000' },
  agent_id: { value: 'ag-S0' },
  hostname: 'host1',
  url: { scheme: 'http', address: { hostname: 'host1', ip: '10.0.0.2', port: 5051 }, path: '/slave(1)' },
  resources: [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 3.9 }, role: '*', allocation_info: { role: 'eng' } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }, { begin: 1, end: 2 }] } },
    { name: 'disk', type: 'SCALAR', scalar: { value: 100 },
      reservations: [{ type: 'DYNAMIC', role: 'eng', principal: 'p', labels: { labels: [{ key: 'k', value: 'v' }] } }],
      disk: { persistence: { id: 'vol' }, volume: { mode: 'RW', container_path: 'data' } } },
  ],
  attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r12' } }],
  executor_ids: [{ value: 'e1' }],
  allocation_info: { role: 'eng' },
};

test('scheduler Call (SUBSCRIBE, ACCEPT) round-trips through protobuf', () => {
  const subscribe = {
    type: 'SUBSCRIBE',
    subscribe: {
      framework_info: {
        user: 'svc', name: 'fw', roles: ['eng'], failover_timeout: 604800, checkpoint: true,
        capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
        offer_filters: { eng: { min_allocatable_resources: { quantities: [{ quantities: { cpus: { value: 1 } } }] } } },
      },
      suppressed_roles: ['eng'],
      offer_constraints: { role_constraints: { eng: { groups: [{ attribute_constraints: [
        { selector: { attribute_name: 'rack' }, predicate: { text_equals: { value: 'r1' } } },
        { selector: { pseudoattribute_type: 'HOSTNAME' }, predicate: { exists: {} } },
      ] }] } } },
    },
  };
  assert.deepEqual(protoRoundTrip(CALL, subscribe), subscribe);

  const accept = {
    framework_id: { value: 'fw-0000' },
    type: 'ACCEPT',
    accept: {
      offer_ids: [{ value: 'o-1' }],
      operations: [{
        type: 'LAUNCH',
        launch: { task_infos: [{
          name: 't', task_id: { value: 't1' }, agent_id: { value: 'ag-S0' },
          resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }],
          command: { value: 'sleep 10', shell: true, environment: { variables: [{ name: 'A', value: 'b' }] } },
          kill_policy: { grace_period: { nanoseconds: 3_000_000_000 } },
          data: Buffer.from([0, 1, 2, 255]),
          limits: { cpus: { value: Infinity } },
        }] },
      }],
      filters: { refuse_seconds: 1 },
    },
  };
  assert.deepEqual(protoRoundTrip(CALL, accept), accept);
});

test('scheduler Event (OFFERS, UPDATE) round-trips through protobuf and JSON', () => {
  const offers = { type: 'OFFERS', offers: { offers: [offer] } };
  assert.deepEqual(protoRoundTrip(EVENT, offers), offers);
  const json = JSON.parse(encodeJson(EVENT, offers));
  assert.equal(json.offers.offers[0].resources[1].ranges.range[0].begin, 31000);
  assert.deepEqual(fromJson(EVENT, json), offers);

  const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const update = {
    type: 'UPDATE',
    update: { status: {
      task_id: { value: 't1' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', reason: 'REASON_RECONCILIATION',
      agent_id: { value: 'ag-S0' }, timestamp: 1700000000.25, uuid, healthy: true,
      unreachable_time: { nanoseconds: 1_700_000_000_123_456_000 },
      container_status: { network_infos: [{ ip_addresses: [{ ip_address: '10.0.0.9' }] }] },
    } },
  };
  const back = protoRoundTrip(EVENT, update);
  assert.deepEqual(back, update);
  assert.ok(Buffer.isBuffer(back.update.status.uuid));
  assert.equal(typeof back.update.status.unreachable_time.nanoseconds, 'number');

  const j = toJson(EVENT, update) as Msg;
  assert.equal(j.update.status.uuid, uuid.toString('base64'));
  assert.equal(j.update.status.state, 'TASK_RUNNING');
  assert.equal(j.update.status.unreachable_time.nanoseconds, 1_700_000_000_123_456_000);
  // stout emits explicit defaults of nested present messages (IPAddress.protocol = IPv4).
  assert.equal(j.update.status.container_status.network_infos[0].ip_addresses[0].protocol, 'IPv4');
  const parsed = decodeJson(EVENT, JSON.stringify(j));
  assert.deepEqual(parsed.update.status.uuid, uuid);
});

test('binary encoding uses Mesos field numbers', () => {
  // TaskStatus{task_id{value:"t"} (1), state TASK_RUNNING (2) = 1}
  assert.deepEqual(
    encodeProto('mesos.v1.TaskStatus', { task_id: { value: 't' }, state: 'TASK_RUNNING' }),
    Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x74, 0x10, 0x01]),
  );
  // Call{type ACKNOWLEDGE (2) = 8}
  assert.deepEqual(encodeProto(CALL, { type: 'ACKNOWLEDGE' }), Buffer.from([0x10, 0x08]));
  // proto2 repeated scalars are not packed: HTTPCheckInfo.statuses (4).
  assert.deepEqual(
    encodeProto('mesos.v1.HealthCheck.HTTPCheckInfo', { port: 80, statuses: [200] }),
    Buffer.from([0x08, 0x50, 0x20, 0xc8, 0x01]),
  );
});

test('internal RegisterSlaveMessage round-trips with v1 types under v0 field names', () => {
  const msg = {
    slave: {
      hostname: 'agent1', port: 5051, id: { value: 'S1' },
      resources: [{ name: 'mem', type: 'SCALAR', scalar: { value: 1024 }, role: '*' }],
      attributes: [{ name: 'zone', type: 'TEXT', text: { value: 'a' } }],
    },
    checkpointed_resources: [{ name: 'disk', type: 'SCALAR', scalar: { value: 10 }, role: 'eng',
      reservation: { principal: 'ops' } }],
    version: '1.11.0',
    agent_capabilities: [{ type: 'MULTI_ROLE' }, { type: 'AGENT_DRAINING' }],
    resource_version_uuid: { value: Buffer.alloc(16, 1) },
  };
  assert.deepEqual(protoRoundTrip('mesos.internal.RegisterSlaveMessage', msg), msg);
  assert.ok(hasType('mesos.internal.StatusUpdateMessage'));
  assert.ok(hasType('mesos.v1.executor.Event'));
  assert.ok(!hasType('mesos.v1.NoSuchThing'));
});

test('internal objects never carry defaults, nulls or empty repeated fields', () => {
  const decoded = protoRoundTrip('mesos.v1.FrameworkInfo', { user: 'u', name: 'n', roles: [] });
  assert.deepEqual(decoded, { user: 'u', name: 'n' });
  // toJson adds stout's explicit non-deprecated defaults, but not deprecated `role`.
  assert.deepEqual(toJson('mesos.v1.FrameworkInfo', decoded), {
    user: 'u', name: 'n', failover_timeout: 0, checkpoint: false,
  });
});

test('decoding binary with a missing required field fails', () => {
  // FrameworkInfo with only name (2): user (1) is required.
  rejects(() => decodeProto('mesos.v1.FrameworkInfo', Buffer.from([0x12, 0x01, 0x6e])), /Missing required fields: user/);
  // Nested: Call{type SUBSCRIBE, subscribe{framework_info{name}}}
  const nested = Buffer.from([0x10, 0x01, 0x1a, 0x05, 0x0a, 0x03, 0x12, 0x01, 0x6e]);
  rejects(() => decodeProto(CALL, nested), /subscribe\.framework_info\.user/);
  // In a repeated field: Labels{labels: [Label{key: 'k'}, Label{value: 'v'}]} names the element.
  const labels = Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x6b, 0x0a, 0x03, 0x12, 0x01, 0x76]);
  rejects(() => decodeProto('mesos.v1.Labels', labels), /^Missing required fields: labels\[1\]\.key$/);
  // The flag that triggers the check is reset per decode: a good message after a bad one decodes.
  assert.deepEqual(decodeProto('mesos.v1.Labels', labels.subarray(0, 5)), { labels: [{ key: 'k' }] });
  rejects(() => decodeProto(CALL, Buffer.from([0x1a, 0xff])), /Failed to parse/);
  rejects(() => encodeProto('mesos.v1.TaskID', {}), /Missing required fields: value/);
});

test('Mesos JSON parsing rules', () => {
  // null is ignored, unknown keys ignored, quoted numbers accepted.
  const call = fromJson(CALL, {
    type: 'DECLINE', framework_id: { value: 'f' }, extra: 1,
    decline: { offer_ids: [{ value: 'o' }, null], filters: { refuse_seconds: '2.5' } },
    kill: null,
  });
  assert.deepEqual(call, {
    type: 'DECLINE', framework_id: { value: 'f' },
    decline: { offer_ids: [{ value: 'o' }], filters: { refuse_seconds: 2.5 } },
  });
  // Infinity for doubles, quoted integers for int64.
  const ti = fromJson('mesos.v1.TaskInfo', {
    name: 'x', task_id: { value: 't' }, agent_id: { value: 'a' },
    limits: { cpus: { value: 'Infinity' }, mem: { value: 512 } },
    max_completion_time: { nanoseconds: '5000' },
  });
  assert.equal(ti.limits.cpus.value, Infinity);
  assert.equal(ti.max_completion_time.nanoseconds, 5000);
  // Unknown enum in an optional field is dropped; in a required field it is an error.
  assert.deepEqual(fromJson(CALL, { type: 'NOT_A_TYPE' }), {});
  assert.deepEqual(fromJson('mesos.v1.FrameworkInfo', { user: 'u', name: 'n', capabilities: [{ type: 'FUTURE' }] }),
    { user: 'u', name: 'n', capabilities: [{}] });
  rejects(() => fromJson('mesos.v1.Value', { type: 'BOGUS' }), /Failed to find enum for 'BOGUS'/);
  // Missing required fields are reported with paths.
  rejects(() => fromJson(CALL, { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'n' } } }),
    /Missing required fields: subscribe\.framework_info\.user/);
  rejects(() => fromJson(EVENT, { offers: { offers: [{ id: { value: 'o' } }] } }),
    /offers\.offers\[0\]\.framework_id/);
  // Wrong JSON types.
  rejects(() => fromJson(CALL, { subscribe: 'x' }), /Not expecting a JSON string for field 'subscribe'/);
  rejects(() => fromJson(CALL, { framework_id: { value: 5 } }), /Not expecting a JSON number for field 'framework_id.value'/);
  rejects(() => fromJson(CALL, { framework_id: [] }), /Not expecting a JSON array for field 'framework_id'/);
  rejects(() => fromJson(CALL, { type: true }), /Not expecting a JSON boolean/);
  rejects(() => fromJson(CALL, { type: 1 }), /Not expecting a JSON number for field 'type'/);
  rejects(() => fromJson('mesos.v1.Filters', { refuse_seconds: 'soon' }), /Failed to parse 'soon' as a JSON number/);
  rejects(() => fromJson('mesos.v1.TimeInfo', { nanoseconds: 'Infinity' }), /Failed to parse/);
  rejects(() => fromJson('mesos.v1.UUID', { value: 'not base64!' }), /Failed to base64 decode bytes field 'value'/);
  rejects(() => fromJson(CALL, []), /Expecting a JSON object/);
  rejects(() => decodeJson(CALL, '{"type":'), /Failed to parse JSON/);
  // A plain string where a Scalar message is expected (doc erratum 2.10) is rejected.
  rejects(() => fromJson('mesos.v1.TaskInfo', {
    name: 'x', task_id: { value: 't' }, agent_id: { value: 'a' }, limits: { cpus: 'Infinity' },
  }), /Not expecting a JSON string for field 'limits\[cpus\]'/);
});

test('JSON maps are objects; bytes are base64; int64 are numbers', () => {
  const info = { user: 'u', name: 'n', offer_filters: { eng: { min_allocatable_resources: {} } } };
  const j = toJson('mesos.v1.FrameworkInfo', info) as Msg;
  assert.deepEqual(j.offer_filters, { eng: { min_allocatable_resources: {} } });
  const msg = decodeJson(CALL, Buffer.from(JSON.stringify({
    type: 'MESSAGE', message: { agent_id: { value: 'a' }, executor_id: { value: 'e' }, data: 'aGVsbG8=' },
  })));
  assert.deepEqual(msg.message.data, Buffer.from('hello'));
  assert.equal(encodeJson('mesos.v1.DurationInfo', { nanoseconds: 9_000_000_000_000 }), '{"nanoseconds":9000000000000}');
});

test('executor Call and Event round-trip', () => {
  const call = {
    executor_id: { value: 'e' }, framework_id: { value: 'f' }, type: 'UPDATE',
    update: { status: { task_id: { value: 't' }, state: 'TASK_FINISHED', source: 'SOURCE_EXECUTOR', uuid: Buffer.alloc(16, 9) } },
  };
  assert.deepEqual(protoRoundTrip('mesos.v1.executor.Call', call), call);
  assert.deepEqual(fromJson('mesos.v1.executor.Call', toJson('mesos.v1.executor.Call', call)), call);
  const ev = { type: 'HEARTBEAT' };
  assert.deepEqual(protoRoundTrip('mesos.v1.executor.Event', ev), ev);
  rejects(() => fromJson('mesos.v1.executor.Call', { type: 'SUBSCRIBE' }), /executor_id, framework_id/);
});

test('operator API and v0 scheduler messages are available', () => {
  for (const t of [
    'mesos.v1.master.Call', 'mesos.v1.master.Response', 'mesos.v1.master.Event',
    'mesos.v1.agent.Call', 'mesos.v1.agent.Response', 'mesos.v1.agent.ProcessIO',
    'mesos.v1.quota.QuotaConfig', 'mesos.v1.maintenance.Schedule', 'mesos.scheduler.Call', 'mesos.scheduler.Event',
  ]) assert.ok(hasType(t), t);

  const drain = {
    type: 'DRAIN_AGENT',
    drain_agent: { agent_id: { value: 'S1' }, max_grace_period: { seconds: 600, nanos: 0 }, mark_gone: true },
  };
  assert.deepEqual(protoRoundTrip('mesos.v1.master.Call', drain), drain);
  const quota = fromJson('mesos.v1.master.Call', {
    type: 'UPDATE_QUOTA',
    update_quota: { force: false, quota_configs: [{ role: 'eng', guarantees: { cpus: { value: 1 } }, limits: { mem: { value: '512' } } }] },
  });
  assert.equal(quota.update_quota.quota_configs[0].limits.mem.value, 512);
  assert.deepEqual(protoRoundTrip('mesos.v1.master.Call', quota), quota);

  const io = { type: 'DATA', data: { type: 'STDOUT', data: Buffer.from('out') } };
  assert.deepEqual(protoRoundTrip('mesos.v1.agent.ProcessIO', io), io);

  // v0 and v1 scheduler calls share the wire format (except Subscribe's tags).
  const v0 = { type: 'KILL', kill: { task_id: { value: 't' }, slave_id: { value: 'S1' } } };
  assert.deepEqual(decodeProto(CALL, encodeProto('mesos.scheduler.Call', v0)),
    { type: 'KILL', kill: { task_id: { value: 't' }, agent_id: { value: 'S1' } } });
});

test('a truncated string field is rejected, not clamped', () => {
  assert.throws(
    () => decodeProto('mesos.internal.ShutdownMessage', Buffer.from([0x0a, 0x7f, 0x41])),
    (e: unknown) => e instanceof ProtocolError && /index out of range/.test(e.message),
  );
  assert.deepEqual(decodeProto('mesos.internal.ShutdownMessage', Buffer.from([0x0a, 0x01, 0x41])), { message: 'A' });
});
