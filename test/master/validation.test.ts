// Pure validation rules: FrameworkInfo, offers of an ACCEPT, tasks of a LAUNCH, refuse_seconds,
// and the health checker's ping/timeout arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.js';
import { Resources } from '../../src/resources/index.js';
import { AgentHealth } from '../../src/master/health.js';
import { refuseSeconds } from '../../src/master/master.js';
import { Agent, Framework, type OfferRecord } from '../../src/master/records.js';
import { validateFrameworkInfo, validateFrameworkUpdate, validateOffers, validateTask } from '../../src/master/tasks/validation.js';
import { scalar } from './helpers.js';

const now = Date.UTC(2026, 0, 1);

test('FrameworkInfo validation', () => {
  assert.equal(validateFrameworkInfo({ user: 'u', name: 'n' }, []), undefined);
  assert.equal(validateFrameworkInfo({ user: 'u', name: 'n', role: 'a/b' }, []), undefined);
  assert.match(validateFrameworkInfo({ user: 'u', name: 'n', role: '-x' }, [])!, /^'FrameworkInfo.role' is not a valid role/);
  const multi = { user: 'u', name: 'n', capabilities: [{ type: 'MULTI_ROLE' }] };
  assert.equal(validateFrameworkInfo({ ...multi, roles: ['a', 'b'] }, ['b']), undefined);
  assert.equal(validateFrameworkInfo({ ...multi, roles: ['a', 'a'] }, []), "'FrameworkInfo.roles' contains duplicate items");
  assert.equal(validateFrameworkInfo({ ...multi, role: 'a' }, []), "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable");
  assert.equal(validateFrameworkInfo({ ...multi, roles: ['a'] }, ['c']), "Suppressed role 'c' is not contained in the list of roles");
  assert.equal(validateFrameworkInfo({ user: 'u', name: 'n', role: 'x' }, [], new Set(['y'])), "Role 'x' is not present in the master's --roles");
  assert.equal(validateFrameworkUpdate({ user: 'u', principal: 'p' }, { user: 'u', principal: 'q' }), "Changing framework's principal is not allowed.");
  assert.equal(validateFrameworkUpdate({ user: 'u', checkpoint: false }, { user: 'u', checkpoint: true }), "Updating 'FrameworkInfo.checkpoint' is unsupported");
  assert.equal(validateFrameworkUpdate({ user: 'u', name: 'a' }, { user: 'u', name: 'b' }), undefined);
});

test('refuse_seconds: default 5, negative -> default, 0 -> no filter, capped at a year', () => {
  assert.equal(refuseSeconds(undefined), 5);
  assert.equal(refuseSeconds({}), 5);
  assert.equal(refuseSeconds({ refuse_seconds: -3 }), 5);
  assert.equal(refuseSeconds({ refuse_seconds: 0 }), undefined);
  assert.equal(refuseSeconds({ refuse_seconds: 12.5 }), 12.5);
  assert.equal(refuseSeconds({ refuse_seconds: 1e12 }), 365 * 24 * 3600);
  assert.equal(refuseSeconds({ refuse_seconds: Infinity }), 5);
});

function fixtures() {
  const fw = new Framework('M-0000', { user: 'u', name: 'n' }, now);
  const agent = new Agent('M-S0', { hostname: 'h' }, 'slave(1)@127.0.0.1:5051', '1.11.0', [], Resources.parse('cpus:4;mem:1024'), now);
  const other = new Agent('M-S1', { hostname: 'h2' }, 'slave(1)@127.0.0.2:5051', '1.11.0', [], Resources.parse('cpus:4;mem:1024'), now);
  const offers = new Map<string, OfferRecord>();
  const mk = (id: string, a: Agent, role = '*', frameworkId = fw.id) =>
    offers.set(id, { id, frameworkId, agentId: a.id, role, resources: Resources.parse('cpus:1').allocate(role), message: {} });
  mk('O1', agent);
  mk('O2', agent);
  mk('O3', other);
  mk('O4', agent, 'r');
  mk('O5', agent, '*', 'M-0001');
  const lookup = { offer: (id: string) => offers.get(id), agent: (id: string) => [agent, other].find((a) => a.id === id) };
  return { fw, agent, other, lookup };
}

test('offer validation messages', () => {
  const { fw, lookup, other } = fixtures();
  assert.equal(validateOffers(lookup, fw, ['O1', 'O2']), undefined);
  assert.equal(validateOffers(lookup, fw, []), 'No offers specified');
  assert.equal(validateOffers(lookup, fw, ['O1', 'O1']), 'Duplicate offer O1 in offer list');
  assert.equal(validateOffers(lookup, fw, ['O9']), 'Offer O9 is no longer valid');
  assert.equal(validateOffers(lookup, fw, ['O5']), 'Offer O5 has invalid framework M-0001 while framework M-0000 is expected');
  assert.match(validateOffers(lookup, fw, ['O1', 'O3'])!, /^Aggregated offers must belong to one single agent/);
  assert.match(validateOffers(lookup, fw, ['O1', 'O4'])!, /^Aggregated offers must be allocated to the same role/);
  other.connected = false;
  assert.equal(validateOffers(lookup, fw, ['O3']), 'Offer O3 outlived disconnected agent M-S1');
});

test('task validation: ids, agent, command/executor, resources, executors', () => {
  const { fw, agent } = fixtures();
  const available = Resources.parse('cpus:2;mem:512').allocate('*');
  const task = (over: Record<string, unknown> = {}) => ({
    name: 't', task_id: { value: 't1' }, agent_id: { value: agent.id }, resources: [scalar('cpus', 1)], command: { value: 'true' }, ...over,
  });
  const ok = validateTask(task(), fw, agent, available, '*', new Map());
  assert.ok(typeof ok !== 'string');
  assert.equal(ok.newExecutor, false);
  assert.equal(ok.consumed.scalar('cpus'), 1);
  assert.ok(ok.consumed.toArray().every((r) => r.allocation_info?.role === '*'));

  assert.match(validateTask(task({ task_id: { value: '' } }), fw, agent, available, '*', new Map()) as string, /^Task ID is invalid/);
  assert.match(validateTask(task({ task_id: { value: 'a/b' } }), fw, agent, available, '*', new Map()) as string, /^Task ID is invalid/);
  assert.match(validateTask(task({ resources: [scalar('cpus', 3)] }), fw, agent, available, '*', new Map()) as string, /^Task uses more resources/);
  // Resources allocated to another role than the offer's are not available.
  const foreign = [{ ...scalar('cpus', 1), allocation_info: { role: 'other' } }];
  assert.match(validateTask(task({ resources: foreign }), fw, agent, available, '*', new Map()) as string, /^Task uses more resources/);
  assert.equal(
    validateTask(task({ kill_policy: { grace_period: { nanoseconds: -1 } } }), fw, agent, available, '*', new Map()),
    "Task's 'kill_policy.grace_period' must be non-negative",
  );

  // Limits: cpus/mem only, not below the request, and only on agents that support them.
  assert.equal(
    validateTask(task({ limits: { cpus: { value: 2 } } }), fw, agent, available, '*', new Map()),
    'Task has resource limits but the agent does not support TASK_RESOURCE_LIMITS',
  );
  agent.capabilities = ['TASK_RESOURCE_LIMITS'];
  assert.ok(typeof validateTask(task({ limits: { cpus: { value: 'Infinity' }, mem: { value: 64 } } }), fw, agent, available, '*', new Map()) !== 'string');
  assert.equal(validateTask(task({ limits: { disk: { value: 2 } } }), fw, agent, available, '*', new Map()), "Resource limits are only supported for cpus and mem, not 'disk'");
  assert.equal(validateTask(task({ limits: { cpus: { value: 0.5 } } }), fw, agent, available, '*', new Map()), 'The cpus limit 0.5 is smaller than the cpus request 1');
  const mixed = [scalar('cpus', 0.5), { ...scalar('mem', 1), revocable: {} }];
  const withRevocable = Resources.parse('cpus:2;mem:512').allocate('*').plus(Resources.fromProto([{ ...scalar('mem', 10), revocable: {} }]).allocate('*'));
  assert.equal(validateTask(task({ resources: mixed }), fw, agent, withRevocable, '*', new Map()), 'Task mixes revocable and non-revocable resources');

  const executor = { executor_id: { value: 'e' }, command: { value: 'x' }, resources: [scalar('cpus', 0.5)] };
  const withExec = validateTask(task({ command: undefined, executor }), fw, agent, available, '*', new Map());
  assert.ok(typeof withExec !== 'string');
  assert.equal(withExec.newExecutor, true);
  assert.equal(withExec.consumed.scalar('cpus'), 1.5);
  assert.equal(
    validateTask(task({ command: undefined, executor: { ...executor, framework_id: { value: 'zzz' } } }), fw, agent, available, '*', new Map()),
    'ExecutorInfo has an invalid FrameworkID (Actual: zzz vs Expected: M-0000)',
  );
  // An executor already running there must be the same ExecutorInfo; then only the task's resources count.
  agent.executors.set(fw.id, new Map([['e', { ...executor, framework_id: { value: fw.id } }]]));
  const reuse = validateTask(task({ command: undefined, executor }), fw, agent, available, '*', new Map());
  assert.ok(typeof reuse !== 'string');
  assert.equal(reuse.newExecutor, false);
  assert.equal(reuse.consumed.scalar('cpus'), 1);
  assert.match(
    validateTask(task({ command: undefined, executor: { ...executor, command: { value: 'y' } } }), fw, agent, available, '*', new Map()) as string,
    /^ExecutorInfo is not compatible/,
  );
});

test('health: pings every timeout, unreachable after max consecutive misses, a pong resets the count', () => {
  const clock = new ManualClock(now);
  const sent: string[] = [];
  let pong: () => void = () => {};
  const unreachable: string[] = [];
  const health = new AgentHealth({
    clock,
    pingTimeoutMs: 1000,
    maxPingTimeouts: 3,
    spawn: (onPong) => {
      pong = () => onPong('slave(1)@127.0.0.1:5051');
      return { pid: 'slave-observer(1)@x:1', send: (to) => sent.push(to), stop: () => {} };
    },
    lookup: () => ({ pid: 'slave(1)@127.0.0.1:5051', connected: true }),
    onUnreachable: (id) => unreachable.push(id),
  });
  health.start('A');
  assert.equal(sent.length, 1);
  clock.advance(1000);
  clock.advance(1000);
  assert.equal(sent.length, 3);
  pong();
  clock.advance(1000);
  clock.advance(1000);
  clock.advance(1000);
  assert.deepEqual(unreachable, []);
  clock.advance(1000);
  assert.deepEqual(unreachable, ['A']);
  const before = sent.length;
  clock.advance(10_000);
  assert.equal(sent.length, before, 'no pings after the agent is unreachable');
  health.close();
});
