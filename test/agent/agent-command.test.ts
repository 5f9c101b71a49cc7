// The agent against a fake master: registration, pings, a command task end to end through the
// real command executor, acknowledgements, re-registration and kills.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type AgentHandle } from '../../src/agent/main.js';
import { ManualClock } from '../../src/common/clock.js';
import { decodeProto } from '../../src/protocol/codec.js';
import { FakeMaster, commandTask, frameworkInfo } from './fake-master.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function setup(extraFlags: string[] = []): Promise<{ master: FakeMaster; agent: AgentHandle; workDir: string }> {
  const master = await FakeMaster.start();
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-agent-'));
  dirs.push(workDir);
  const agent = await startAgent([
    `--master=127.0.0.1:${master.port}`,
    `--work_dir=${workDir}`,
    '--port=0',
    '--ip=127.0.0.1',
    '--hostname=agent.test',
    '--registration_backoff_factor=10ms',
    '--resources=cpus:2;mem:1024;disk:2048;ports:[31000-31100]',
    '--attributes=rack:r1;level:3',
    '--no-switch_user',
    ...extraFlags,
  ]);
  return { master, agent, workDir };
}

async function teardown(master: FakeMaster, agent: AgentHandle): Promise<void> {
  await agent.stop();
  await master.stop();
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return res.json();
}

test('registers with SlaveInfo, version and capabilities; answers pings to their sender', async () => {
  const { master, agent } = await setup();
  try {
    const reg = await master.waitFor('registration', () => master.messages('RegisterSlaveMessage')[0]);
    const slave = reg.msg.slave;
    assert.equal(slave.hostname, 'agent.test');
    assert.equal(slave.port, agent.port);
    assert.equal(slave.id, undefined);
    const names = slave.resources.map((r: any) => r.name).sort();
    assert.deepEqual(names, ['cpus', 'disk', 'mem', 'ports']);
    assert.deepEqual(
      slave.attributes.map((a: any) => a.name),
      ['rack', 'level'],
    );
    assert.equal(reg.msg.version, '1.11.0');
    assert.ok(reg.msg.agent_capabilities.some((c: any) => c.type === 'MULTI_ROLE'));
    assert.equal(reg.from.id, 'slave(1)');
    assert.equal(agent.pid, `slave(1)@127.0.0.1:${agent.port}`);

    await master.waitFor('registered', () => agent.agent.registered);
    assert.equal(agent.agent.agentId, 'M1-S0');

    // Pings come from the slave observer; the pong goes back to it.
    const observer = master.lp.spawn('slave-observer(1)');
    let pongs = 0;
    observer.install('mesos.internal.PongSlaveMessage', () => pongs++);
    master.send('PingSlaveMessage', { connected: true }, observer);
    await master.waitFor('pong', () => pongs > 0);

    const state = await getJson(`${agent.url}/state`);
    assert.equal(state.id, 'M1-S0');
    assert.equal(state.pid, agent.pid);
    assert.equal(state.hostname, 'agent.test');
    assert.equal(state.resources.cpus, 2);
    assert.equal(state.resources.mem, 1024);
    assert.equal(state.resources.ports, '[31000-31100]');
    assert.deepEqual(state.attributes, { rack: 'r1', level: 3 });
    assert.deepEqual(state.frameworks, []);
    assert.equal(state.flags.port, '0');

    const same = await getJson(`${agent.url}/slave(1)/state`);
    assert.equal(same.id, 'M1-S0');
    const flags = await getJson(`${agent.url}/flags`);
    assert.equal(flags.flags.executor_registration_timeout, '1mins');
    assert.equal(flags.flags.isolation, 'posix/cpu,posix/mem');
    const health = await fetch(`${agent.url}/health`);
    assert.equal(health.status, 200);
    const metrics = await getJson(`${agent.url}/metrics/snapshot`);
    assert.equal(metrics['slave/registered'], 1);
    assert.equal(metrics['slave/cpus_total'], 2);
  } finally {
    await teardown(master, agent);
  }
});

test('retries registration with backoff until the master answers', async () => {
  const master = await FakeMaster.start();
  master.autoRegisterId = undefined;
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-agent-'));
  dirs.push(workDir);
  const agent = await startAgent([`--master=master@127.0.0.1:${master.port}`, `--work_dir=${workDir}`, '--port=0', '--ip=127.0.0.1', '--registration_backoff_factor=5ms']);
  try {
    await master.waitFor('three attempts', () => master.messages('RegisterSlaveMessage').length >= 3);
    assert.equal(agent.agent.registered, false);
    master.send('SlaveRegisteredMessage', { slave_id: { value: 'M1-S7' } });
    await master.waitFor('registered', () => agent.agent.registered);
    assert.equal(agent.agent.agentId, 'M1-S7');
  } finally {
    await teardown(master, agent);
  }
});

test('rejects malformed zk:// masters and a missing --master with a clear error', async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-agent-'));
  dirs.push(workDir);
  // (A well-formed zk:// master is followed through a detector: test/agent/detection.test.ts, test/e2e/ha.test.ts.)
  await assert.rejects(startAgent(['--master=zk://127.0.0.1:2181', `--work_dir=${workDir}`, '--port=0']), /Failed to parse --master.*path/);
  await assert.rejects(startAgent([`--work_dir=${workDir}`, '--port=0']), /master/);
});

test('a command task runs through the command executor; updates go out in order, one at a time until acknowledged', async () => {
  const { master, agent, workDir } = await setup();
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: commandTask('t1', 'echo hello; echo oops >&2'), pid: 'scheduler-1@127.0.0.1:1' });

    const starting = await master.update('t1', 0);
    assert.equal(starting.update.status.state, 'TASK_STARTING');
    assert.equal(starting.pid, agent.pid);
    assert.equal(starting.update.slave_id.value, 'M1-S0');
    assert.equal(starting.update.framework_id.value, 'fw-1');
    assert.equal(starting.update.executor_id.value, 't1');
    assert.equal(starting.update.status.source, 'SOURCE_EXECUTOR');
    assert.equal(starting.update.uuid.length, 16);
    assert.deepEqual(starting.update.status.uuid, starting.update.uuid);

    // Nothing else is sent until the head is acknowledged.
    const state1 = await getJson(`${agent.url}/state`);
    const fw = state1.frameworks[0];
    assert.equal(fw.id, 'fw-1');
    const ex = fw.executors[0];
    assert.equal(ex.id, 't1');
    assert.equal(ex.name, "Command Executor (Task: t1) (Command: sh -c 'echo hello; ...')");
    assert.equal(ex.source, 't1');
    assert.equal(ex.resources.cpus, 0.2);
    assert.equal(ex.resources.mem, 64);
    assert.equal(ex.directory, join(workDir, 'slaves', 'M1-S0', 'frameworks', 'fw-1', 'executors', 't1', 'runs', ex.container));
    assert.equal(readlinkSync(join(workDir, 'slaves', 'M1-S0', 'frameworks', 'fw-1', 'executors', 't1', 'runs', 'latest')), ex.container);
    assert.equal(master.messages('StatusUpdateMessage').length, 1);

    master.acknowledge(starting);
    const running = await master.update('t1', 1);
    assert.equal(running.update.status.state, 'TASK_RUNNING');
    master.acknowledge(running);
    const finished = await master.update('t1', 2);
    assert.equal(finished.update.status.state, 'TASK_FINISHED');
    assert.equal(finished.update.latest_state, 'TASK_FINISHED');

    assert.equal(readFileSync(join(ex.directory, 'stdout'), 'utf8'), 'hello\n');
    assert.match(readFileSync(join(ex.directory, 'stderr'), 'utf8'), /oops/);

    // The sandbox is browsable under its virtual path and its real path.
    const virtual = '/frameworks/fw-1/executors/t1/runs/latest';
    const listing = await getJson(`${agent.url}/files/browse?path=${encodeURIComponent(virtual)}`);
    const names = listing.map((e: any) => e.path.slice(e.path.lastIndexOf('/') + 1)).sort();
    assert.ok(names.includes('stdout') && names.includes('stderr'), `listing: ${names}`);
    const read = await getJson(`${agent.url}/files/read?path=${encodeURIComponent(`${ex.directory}/stdout`)}&offset=0`);
    assert.equal(read.data, 'hello\n');

    master.acknowledge(finished);
    for (let i = 0; i < 100; i++) {
      const s = await getJson(`${agent.url}/state`);
      if (s.completed_frameworks.length === 1) {
        const cex = s.completed_frameworks[0].completed_executors[0];
        assert.equal(cex.id, 't1');
        assert.equal(cex.completed_tasks[0].state, 'TASK_FINISHED');
        assert.equal(cex.completed_tasks[0].executor_id, '');
        assert.equal(cex.completed_tasks[0].slave_id, 'M1-S0');
        assert.deepEqual(
          cex.completed_tasks[0].statuses.map((x: any) => x.state),
          ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED'],
        );
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const final = await getJson(`${agent.url}/state`);
    assert.equal(final.frameworks.length, 0);
    assert.equal(final.completed_frameworks.length, 1);
    const metrics = await getJson(`${agent.url}/metrics/snapshot`);
    assert.equal(metrics['slave/tasks_finished'], 1);
    assert.equal(metrics['slave/valid_status_updates'], 3);
    // Custom executors only: no ExitedExecutorMessage for the command executor.
    assert.equal(master.messages('ExitedExecutorMessage').length, 0);
  } finally {
    await teardown(master, agent);
  }
});

test('with a manual clock: an unacknowledged update is resent after 10s with the same uuid, then the next follows its ack', async () => {
  const master = await FakeMaster.start();
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-agent-'));
  dirs.push(workDir);
  const clock = new ManualClock(Date.now());
  const agent = await startAgent([`--master=127.0.0.1:${master.port}`, `--work_dir=${workDir}`, '--port=0', '--ip=127.0.0.1', '--registration_backoff_factor=10ms', '--no-switch_user'], { clock });
  try {
    clock.advance(20);
    await master.waitFor('registered', () => agent.agent.registered);
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: commandTask('r1', 'sleep 30') });
    const first = await master.update('r1', 0);
    assert.equal(first.update.status.state, 'TASK_STARTING');
    clock.advance(9_999);
    // Give a (wrong) early resend the chance to arrive before checking there is none.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(master.messages('StatusUpdateMessage').length, 1);
    clock.advance(1);
    const again = await master.update('r1', 1);
    assert.deepEqual(Buffer.from(again.update.uuid), Buffer.from(first.update.uuid));
    assert.equal(again.update.status.state, 'TASK_STARTING');
    // RUNNING is known by now, so the resent head carries it as latest_state.
    await master.waitFor('running known', () => agent.agent.framework('fw-1')?.executorOfTask('r1')?.task('r1')?.state === 'TASK_RUNNING');
    clock.advance(20_000);
    const third = await master.update('r1', 2);
    assert.equal(third.update.status.state, 'TASK_STARTING');
    assert.equal(third.update.latest_state, 'TASK_RUNNING');
    master.acknowledge(third);
    const running = await master.update('r1', 3);
    assert.equal(running.update.status.state, 'TASK_RUNNING');
  } finally {
    await teardown(master, agent);
  }
});

test('a task whose id would escape the sandbox directory is failed, not launched', async () => {
  const { master, agent, workDir } = await setup();
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: commandTask('../../evil', 'touch pwned') });
    const u = await master.update('../../evil', 0);
    assert.equal(u.update.status.state, 'TASK_FAILED');
    assert.equal(u.update.status.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.match(u.update.status.message, /path separator/);
    assert.equal(existsSync(join(workDir, 'slaves', 'M1-S0', 'frameworks', 'fw-1', 'evil')), false);
  } finally {
    await teardown(master, agent);
  }
});

test('draining kills every task with a capped grace, drops new tasks, and ends once updates are acknowledged', async () => {
  const { master, agent } = await setup();
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    const pa = frameworkInfo('fw-1', { capabilities: [{ type: 'PARTITION_AWARE' }] });
    master.send('RunTaskMessage', { framework: pa, task: commandTask('d1', 'sleep 30', 'M1-S0', { kill_policy: { grace_period: { nanoseconds: 60e9 } } }) });
    master.acknowledge(await master.update('d1', 0));
    const running = await master.update('d1', 1);
    assert.equal(running.update.status.state, 'TASK_RUNNING');
    master.acknowledge(running);

    master.send('DrainSlaveMessage', { config: { max_grace_period: { nanoseconds: 100e6 }, mark_gone: true } });
    const gone = await master.update('d1', 2);
    assert.equal(gone.update.status.state, 'TASK_GONE_BY_OPERATOR');
    assert.equal(gone.update.status.reason, 'REASON_AGENT_DRAINING');
    const state = await getJson(`${agent.url}/state`);
    assert.equal(state.drain_config.mark_gone, true);
    assert.equal(typeof state.estimated_drain_start_time_seconds, 'number');

    master.send('RunTaskMessage', { framework: pa, task: commandTask('d2', 'true') });
    const dropped = await master.update('d2', 0);
    assert.equal(dropped.update.status.state, 'TASK_DROPPED');
    assert.equal(dropped.update.status.reason, 'REASON_AGENT_DRAINING');

    master.acknowledge(gone);
    master.acknowledge(dropped);
    for (let i = 0; i < 200 && agent.agent.draining; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(agent.agent.draining, undefined);
    assert.equal((await getJson(`${agent.url}/state`)).drain_config, undefined);
  } finally {
    await teardown(master, agent);
  }
});

test('with a manual clock: no ping within total_ping_timeout_seconds makes the agent re-register', async () => {
  const master = await FakeMaster.start();
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-agent-'));
  dirs.push(workDir);
  const clock = new ManualClock(Date.now());
  const agent = await startAgent([`--master=127.0.0.1:${master.port}`, `--work_dir=${workDir}`, '--port=0', '--ip=127.0.0.1', '--registration_backoff_factor=10ms'], { clock });
  try {
    clock.advance(20);
    await master.waitFor('registered', () => agent.agent.registered);
    // The fake master says 75 s; a ping at 70 s keeps the agent registered past 75 s.
    clock.advance(70_000);
    master.send('PingSlaveMessage', { connected: true });
    await master.waitFor('pong', () => master.messages('PongSlaveMessage').length === 1);
    clock.advance(10_000);
    assert.equal(master.messages('ReregisterSlaveMessage').length, 0);
    clock.advance(70_000);
    assert.equal(agent.agent.registered, false);
    for (let i = 0; i < 20 && master.messages('ReregisterSlaveMessage').length === 0; i++) {
      clock.advance(100);
      await new Promise((r) => setTimeout(r, 10));
    }
    const rereg = await master.waitFor('re-registration', () => master.messages('ReregisterSlaveMessage')[0]);
    assert.equal(rereg.msg.slave.id.value, 'M1-S0');
    await master.waitFor('registered again', () => agent.agent.registered);
  } finally {
    await teardown(master, agent);
  }
});

test('kill of a running command task ends in TASK_KILLED', async () => {
  const { master, agent } = await setup();
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: commandTask('sleepy', 'sleep 30') });
    const starting = await master.update('sleepy', 0);
    master.acknowledge(starting);
    const running = await master.update('sleepy', 1);
    assert.equal(running.update.status.state, 'TASK_RUNNING');
    master.acknowledge(running);
    master.send('KillTaskMessage', { framework_id: { value: 'fw-1' }, task_id: { value: 'sleepy' }, kill_policy: { grace_period: { nanoseconds: 100_000_000 } } });
    const killed = await master.update('sleepy', 2);
    assert.equal(killed.update.status.state, 'TASK_KILLED');
    master.acknowledge(killed);
  } finally {
    await teardown(master, agent);
  }
});

test('re-registers when the master says it is disconnected, resending unacknowledged updates', async () => {
  const { master, agent } = await setup();
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: commandTask('long', 'sleep 30') });
    const starting = await master.update('long', 0);
    assert.equal(starting.update.status.state, 'TASK_STARTING');
    // Leave STARTING unacknowledged; a one-way partition makes the agent re-register.
    master.send('PingSlaveMessage', { connected: false });
    const rereg = await master.waitFor('re-registration', () => master.messages('ReregisterSlaveMessage')[0]);
    assert.equal(rereg.msg.slave.id.value, 'M1-S0');
    const tasks = rereg.msg.tasks;
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].task_id.value, 'long');
    assert.equal(tasks[0].framework_id.value, 'fw-1');
    assert.equal(rereg.msg.frameworks[0].id.value, 'fw-1');
    // Command executors are not reported as executors.
    assert.equal((rereg.msg.executor_infos ?? []).length, 0);
    // The unacknowledged head goes out again after re-registration.
    const resent = await master.waitFor('resend', () =>
      master.messages('StatusUpdateMessage').find((r, i) => i > 0 && Buffer.from(r.msg.update.uuid).equals(Buffer.from(starting.update.uuid))),
    );
    assert.equal(resent.msg.update.status.state, 'TASK_STARTING');
  } finally {
    await teardown(master, agent);
  }
});

test('tasks the master reconciles but the agent does not know are reported lost after re-registration', async () => {
  const { master, agent } = await setup();
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    master.autoRegisterId = undefined;
    master.send('PingSlaveMessage', { connected: false });
    await master.waitFor('re-registration', () => master.messages('ReregisterSlaveMessage')[0]);
    master.send('SlaveReregisteredMessage', {
      slave_id: { value: 'M1-S0' },
      reconciliations: [{ framework_id: { value: 'fw-9' }, statuses: [{ task_id: { value: 'ghost' }, state: 'TASK_RUNNING' }] }],
    });
    const u = await master.update('ghost', 0);
    assert.equal(u.update.status.state, 'TASK_LOST');
    assert.equal(u.update.status.reason, 'REASON_RECONCILIATION');
    assert.equal(u.update.status.source, 'SOURCE_AGENT');
    assert.equal(u.update.framework_id.value, 'fw-9');
  } finally {
    await teardown(master, agent);
  }
});

test('re-registers with a master that comes back after its connection broke', async () => {
  const { master, agent } = await setup();
  let second: FakeMaster | undefined;
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    const port = master.port;
    await master.stop();
    second = await FakeMaster.startOn(port);
    const rereg = await second.waitFor('re-registration', () => second!.messages('ReregisterSlaveMessage')[0], 15_000);
    assert.equal(rereg.msg.slave.id.value, 'M1-S0');
    await second.waitFor('registered again', () => agent.agent.registered);
  } finally {
    await agent.stop();
    await second?.stop();
  }
});

test('ShutdownFrameworkMessage kills the framework\'s tasks; /monitor/statistics reports running executors', async () => {
  const { master, agent } = await setup();
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: commandTask('s1', 'sleep 30') });
    master.acknowledge(await master.update('s1', 0));
    const running = await master.update('s1', 1);
    assert.equal(running.update.status.state, 'TASK_RUNNING');
    master.acknowledge(running);

    const stats = await getJson(`${agent.url}/monitor/statistics`);
    assert.equal(stats.length, 1);
    assert.equal(stats[0].executor_id, 's1');
    assert.equal(stats[0].framework_id, 'fw-1');
    assert.equal(stats[0].source, 's1');
    assert.equal(stats[0].executor_name, "Command Executor (Task: s1) (Command: sh -c 'sleep 30')");
    assert.equal(stats[0].statistics.cpus_limit, 0.2);
    assert.equal(stats[0].statistics.mem_limit_bytes, 64 * 1024 * 1024);
    assert.equal(typeof stats[0].statistics.timestamp, 'number');
    const containers = await getJson(`${agent.url}/containers?framework_id=fw-1`);
    assert.equal(containers.length, 1);
    assert.equal(containers[0].executor_id, 's1');
    assert.equal(containers[0].status.container_id.value, containers[0].container_id);
    assert.equal(typeof containers[0].status.executor_pid, 'number');
    assert.deepEqual(await getJson(`${agent.url}/containers?framework_id=other`), []);
    const metrics = await getJson(`${agent.url}/metrics/snapshot`);
    assert.equal(metrics['slave/tasks_running'], 1);
    assert.equal(metrics['slave/executors_running'], 1);
    assert.equal(metrics['slave/cpus_used'], 0.2);

    master.send('ShutdownFrameworkMessage', { framework_id: { value: 'fw-1' } });
    const end = await master.update('s1', 2);
    assert.ok(['TASK_KILLED', 'TASK_FAILED'].includes(end.update.status.state), end.update.status.state);
    // Shut-down frameworks leave nothing running and no update streams behind.
    for (let i = 0; i < 200 && (await getJson(`${agent.url}/state`)).frameworks.length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const state = await getJson(`${agent.url}/state`);
    assert.equal(state.frameworks.length, 0);
    assert.equal(state.completed_frameworks[0].id, 'fw-1');
    assert.equal(agent.agent.statusUpdates.pendingCount(), 0);
  } finally {
    await teardown(master, agent);
  }
});

test('v1 operator API: read-only calls in JSON and protobuf', async () => {
  const { master, agent } = await setup();
  const api = async (call: any, accept = 'application/json') => {
    const res = await fetch(`${agent.url}/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: accept }, body: JSON.stringify(call) });
    return { status: res.status, body: accept === 'application/json' ? await res.text() : Buffer.from(await res.arrayBuffer()) };
  };
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: commandTask('o1', 'sleep 30') });
    master.acknowledge(await master.update('o1', 0));
    master.acknowledge(await master.update('o1', 1));

    const health = JSON.parse(String((await api({ type: 'GET_HEALTH' })).body));
    assert.deepEqual(health, { type: 'GET_HEALTH', get_health: { healthy: true } });
    const flags = JSON.parse(String((await api({ type: 'GET_FLAGS' })).body));
    assert.ok(flags.get_flags.flags.some((f: any) => f.name === 'work_dir'));
    const state = JSON.parse(String((await api({ type: 'GET_STATE' })).body));
    assert.equal(state.type, 'GET_STATE');
    assert.deepEqual(state.get_state.get_tasks.launched_tasks.map((t: any) => [t.task_id.value, t.state]), [['o1', 'TASK_RUNNING']]);
    assert.equal(state.get_state.get_executors.executors[0].executor_info.executor_id.value, 'o1');
    assert.equal(state.get_state.get_frameworks.frameworks[0].framework_info.id.value, 'fw-1');
    const ag = JSON.parse(String((await api({ type: 'GET_AGENT' })).body));
    assert.equal(ag.get_agent.agent_info.id.value, 'M1-S0');
    const containers = JSON.parse(String((await api({ type: 'GET_CONTAINERS' })).body));
    assert.equal(containers.get_containers.containers[0].executor_id.value, 'o1');

    const proto = await api({ type: 'GET_VERSION' }, 'application/x-protobuf');
    assert.equal(proto.status, 200);
    const decoded = decodeProto('mesos.v1.agent.Response', proto.body as Buffer);
    assert.equal(decoded.get_version.version_info.version, '1.11.0');

    assert.equal((await api({ type: 'LAUNCH_CONTAINER', launch_container: { container_id: { value: 'x' } } })).status, 501);
    assert.equal((await api({})).status, 400);
    assert.equal((await fetch(`${agent.url}/api/v1`)).status, 405);
    assert.equal((await api({ type: 'GET_HEALTH' }, 'text/html')).status, 406);
  } finally {
    await teardown(master, agent);
  }
});

test('ShutdownMessage from the master stops the agent and its tasks', async () => {
  const { master, agent } = await setup();
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: commandTask('victim', 'sleep 30') });
    await master.update('victim', 0);
    master.send('ShutdownMessage', { message: 'bye' });
    await agent.stopped;
  } finally {
    await teardown(master, agent);
  }
});
