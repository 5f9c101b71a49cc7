// The v1 executor API against custom executors: status codes, SUBSCRIBE/LAUNCH/UPDATE/ACKNOWLEDGED,
// MESSAGE both ways, KILL, SHUTDOWN, the registration timeout and executor exits. The test plays
// the executor over raw HTTP; the container the agent launches for it just sleeps.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type AgentHandle } from '../../src/agent/main.js';
import { uuidBytes } from '../../src/common/ids.js';
import { RecordIOReader } from '../../src/protocol/recordio.js';
import { decodeProto, encodeProto } from '../../src/protocol/codec.js';
import { FakeMaster, frameworkInfo } from './fake-master.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function setup(extraFlags: string[] = []): Promise<{ master: FakeMaster; agent: AgentHandle }> {
  const master = await FakeMaster.start();
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-agent-'));
  dirs.push(workDir);
  const agent = await startAgent([
    `--master=127.0.0.1:${master.port}`,
    `--work_dir=${workDir}`,
    '--port=0',
    '--ip=127.0.0.1',
    '--registration_backoff_factor=10ms',
    '--resources=cpus:4;mem:1024;disk:1024',
    '--no-switch_user',
    ...extraFlags,
  ]);
  await master.waitFor('registered', () => agent.agent.registered);
  return { master, agent };
}

function executorInfo(id: string, command: string): any {
  return {
    executor_id: { value: id },
    framework_id: { value: 'fw-1' },
    name: `executor ${id}`,
    command: { shell: true, value: command, environment: { variables: [{ name: 'CUSTOM_VAR', value: 'custom' }] } },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, allocation_info: { role: '*' } }],
  };
}

function customTask(taskId: string, executor: any): any {
  return {
    name: `task ${taskId}`,
    task_id: { value: taskId },
    agent_id: { value: 'M1-S0' },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role: '*' } }],
    executor,
  };
}

interface Reply {
  status: number;
  body: string;
}

function post(agent: AgentHandle, body: string | Buffer, headers: Record<string, string>, method = 'POST', path = '/api/v1/executor'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${agent.url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

function call(agent: AgentHandle, c: any): Promise<Reply> {
  return post(agent, JSON.stringify(c), JSON_HEADERS);
}

/** A subscribed executor's event stream. */
class Subscription {
  readonly events: any[] = [];
  status = 0;
  private waiters: Array<() => void> = [];
  private req?: http.ClientRequest;
  ended = false;

  open(agent: AgentHandle, frameworkId: string, executorId: string, path = '/api/v1/executor', subscribe: any = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const reader = new RecordIOReader();
      this.req = http.request(`${agent.url}${path}`, { method: 'POST', headers: JSON_HEADERS, agent: false }, (res) => {
        this.status = res.statusCode ?? 0;
        resolve();
        res.on('data', (chunk: Buffer) => {
          for (const r of reader.push(chunk)) this.events.push(JSON.parse(r.toString()));
          this.wake();
        });
        res.on('end', () => {
          this.ended = true;
          this.wake();
        });
        res.on('error', () => undefined);
      });
      this.req.on('error', reject);
      this.req.end(JSON.stringify({ type: 'SUBSCRIBE', framework_id: { value: frameworkId }, executor_id: { value: executorId }, subscribe }));
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async next(type: string, after = 0): Promise<any> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const e = this.events.slice(after).find((x) => x.type === type);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`timed out waiting for event ${type}; got ${this.events.map((x) => x.type).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitEnded(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.req?.destroy();
  }
}

function update(taskId: string, executorId: string, state: string, extra: any = {}): any {
  return {
    type: 'UPDATE',
    framework_id: { value: 'fw-1' },
    executor_id: { value: executorId },
    update: {
      status: {
        task_id: { value: taskId },
        state,
        source: 'SOURCE_EXECUTOR',
        uuid: uuidBytes().toString('base64'),
        ...extra,
      },
    },
  };
}

async function waitFor<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('executor API: status codes, subscription, launches, updates, messages, kills and shutdown', async () => {
  const { master, agent } = await setup(['--executor_shutdown_grace_period=300ms']);
  let sub = new Subscription();
  try {
    // Before anything exists.
    assert.equal((await post(agent, '', {}, 'GET')).status, 405);
    assert.equal((await post(agent, '{}', {})).status, 400);
    assert.equal((await post(agent, 'x', { 'Content-Type': 'text/plain' })).status, 415);
    const garbage = await post(agent, '{not json', JSON_HEADERS);
    assert.equal(garbage.status, 400);
    const noFw = await call(agent, { type: 'SUBSCRIBE', framework_id: { value: 'nope' }, executor_id: { value: 'e1' }, subscribe: {} });
    assert.equal(noFw.status, 400);
    assert.match(noFw.body, /Framework cannot be found/);

    const info = executorInfo('e1', 'env > env.txt; sleep 30');
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: customTask('t1', info), pid: 'scheduler-1@127.0.0.1:1' });
    const ex = await waitFor('executor registered', () => agent.agent.framework('fw-1')?.executors.get('e1'));
    const noEx = await call(agent, { type: 'SUBSCRIBE', framework_id: { value: 'fw-1' }, executor_id: { value: 'e2' }, subscribe: {} });
    assert.equal(noEx.status, 400);
    assert.match(noEx.body, /Executor cannot be found/);
    const early = await call(agent, update('t1', 'e1', 'TASK_RUNNING'));
    assert.equal(early.status, 403);
    assert.match(early.body, /Executor is not subscribed/);
    const notAcceptable = await post(agent, JSON.stringify({ type: 'SUBSCRIBE', framework_id: { value: 'fw-1' }, executor_id: { value: 'e1' }, subscribe: {} }), {
      'Content-Type': 'application/json',
      Accept: 'text/html',
    });
    assert.equal(notAcceptable.status, 406);

    // The EXE-30 environment reached the executor process.
    const envFile = join(ex.directory, 'env.txt');
    await waitFor('env.txt', () => existsSync(envFile) && readFileSync(envFile, 'utf8').includes('MESOS_SLAVE_PID'));
    const env = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(env.MESOS_FRAMEWORK_ID, 'fw-1');
    assert.equal(env.MESOS_EXECUTOR_ID, 'e1');
    assert.equal(env.MESOS_DIRECTORY, ex.directory);
    assert.equal(env.MESOS_SANDBOX, ex.directory);
    assert.equal(env.MESOS_SLAVE_ID, 'M1-S0');
    assert.equal(env.MESOS_SLAVE_PID, agent.pid);
    assert.equal(env.MESOS_AGENT_ENDPOINT, `127.0.0.1:${agent.port}`);
    assert.equal(env.MESOS_CHECKPOINT, '0');
    assert.equal(env.MESOS_HTTP_COMMAND_EXECUTOR, '0');
    assert.equal(env.MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD, '300ms');
    assert.equal(env.LIBPROCESS_PORT, '0');
    assert.equal(env.CUSTOM_VAR, 'custom');

    // Subscribe through the delegate path, as the C++ library does.
    await sub.open(agent, 'fw-1', 'e1', '/slave(1)/api/v1/executor');
    assert.equal(sub.status, 200);
    const subscribed = await sub.next('SUBSCRIBED');
    assert.equal(subscribed.subscribed.executor_info.executor_id.value, 'e1');
    assert.equal(subscribed.subscribed.framework_info.id.value, 'fw-1');
    assert.equal(subscribed.subscribed.agent_info.id.value, 'M1-S0');
    assert.equal(subscribed.subscribed.container_id.value, ex.containerId);
    const launch = await sub.next('LAUNCH');
    assert.equal(launch.launch.task.task_id.value, 't1');

    // UPDATE validation.
    const shortUuid = update('t1', 'e1', 'TASK_RUNNING');
    shortUuid.update.status.uuid = Buffer.alloc(15).toString('base64');
    assert.equal((await call(agent, shortUuid)).status, 400);
    assert.equal((await call(agent, update('t1', 'e1', 'TASK_RUNNING', { source: 'SOURCE_AGENT' }))).status, 400);
    assert.equal((await call(agent, update('t1', 'e1', 'TASK_STAGING'))).status, 400);
    assert.equal((await call(agent, update('t1', 'e1', 'TASK_RUNNING', { executor_id: { value: 'other' } }))).status, 400);

    const running = update('t1', 'e1', 'TASK_RUNNING');
    const r = await call(agent, running);
    assert.equal(r.status, 202);
    const acked = await sub.next('ACKNOWLEDGED');
    assert.equal(acked.acknowledged.task_id.value, 't1');
    assert.equal(acked.acknowledged.uuid, running.update.status.uuid);
    const forwarded = await master.update('t1', 0);
    assert.equal(forwarded.update.status.state, 'TASK_RUNNING');
    assert.equal(forwarded.update.status.source, 'SOURCE_EXECUTOR');
    assert.equal(forwarded.update.executor_id.value, 'e1');
    assert.equal(Buffer.from(forwarded.update.uuid).toString('base64'), running.update.status.uuid);
    master.acknowledge(forwarded);

    // The same update again is a duplicate: acknowledged, not forwarded twice.
    const n = sub.events.length;
    assert.equal((await call(agent, running)).status, 202);
    await sub.next('ACKNOWLEDGED', n);

    // Re-subscribing replaces the stream; resent unacknowledged updates are acknowledged again,
    // and only new ones are forwarded.
    const fresh = update('t1', 'e1', 'TASK_RUNNING', { message: 'resent' });
    const resub = new Subscription();
    await resub.open(agent, 'fw-1', 'e1', '/api/v1/executor', { unacknowledged_updates: [running.update, fresh.update] });
    await resub.next('SUBSCRIBED');
    await waitFor('two acks on the new stream', () => resub.events.filter((e) => e.type === 'ACKNOWLEDGED').length === 2);
    // The replaced stream is closed by the agent.
    await sub.waitEnded();
    const resent = await master.update('t1', 1);
    assert.equal(resent.update.status.message, 'resent');
    master.acknowledge(resent);
    sub.close();
    sub = resub;

    // A second task goes straight to the subscribed executor.
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: customTask('t2', info) });
    const launch2 = await sub.next('LAUNCH');
    assert.equal(launch2.launch.task.task_id.value, 't2');

    // Messages both ways.
    assert.equal((await call(agent, { type: 'MESSAGE', framework_id: { value: 'fw-1' }, executor_id: { value: 'e1' }, message: { data: Buffer.from('ping').toString('base64') } })).status, 202);
    const toFw = await master.waitFor('executor message', () => master.messages('ExecutorToFrameworkMessage')[0]);
    assert.equal(Buffer.from(toFw.msg.data).toString(), 'ping');
    assert.equal(toFw.msg.executor_id.value, 'e1');
    master.send('FrameworkToExecutorMessage', { slave_id: { value: 'M1-S0' }, framework_id: { value: 'fw-1' }, executor_id: { value: 'e1' }, data: Buffer.from('pong') });
    const msg = await sub.next('MESSAGE');
    assert.equal(Buffer.from(msg.message.data, 'base64').toString(), 'pong');
    assert.equal((await call(agent, { type: 'HEARTBEAT', framework_id: { value: 'fw-1' }, executor_id: { value: 'e1' } })).status, 202);

    // KILL carries the kill policy from the master's message.
    master.send('KillTaskMessage', { framework_id: { value: 'fw-1' }, task_id: { value: 't1' }, kill_policy: { grace_period: { nanoseconds: 5_000_000_000 } } });
    const kill = await sub.next('KILL');
    assert.equal(kill.kill.task_id.value, 't1');
    assert.equal(kill.kill.kill_policy.grace_period.nanoseconds, 5_000_000_000);
    const killed = update('t1', 'e1', 'TASK_KILLED');
    assert.equal((await call(agent, killed)).status, 202);

    // /state while running: t2 launched; t1 terminal but unacknowledged.
    const state = await (await fetch(`${agent.url}/state`)).json();
    const exJson = state.frameworks[0].executors[0];
    assert.equal(exJson.id, 'e1');
    assert.deepEqual(exJson.tasks.map((t: any) => t.id), ['t2']);
    assert.equal(exJson.resources.cpus, 1.5);

    // SHUTDOWN, then a forced destroy after the grace period; t2 was never finished.
    master.send('ShutdownExecutorMessage', { executor_id: { value: 'e1' }, framework_id: { value: 'fw-1' } });
    await sub.next('SHUTDOWN');
    const exited = await master.waitFor('exited executor', () => master.messages('ExitedExecutorMessage')[0]);
    assert.equal(exited.msg.executor_id.value, 'e1');
    assert.equal(exited.msg.framework_id.value, 'fw-1');
    const failed = await master.waitFor('t2 failed', () =>
      master.messages('StatusUpdateMessage').find((m) => m.msg.update.status.task_id.value === 't2'),
    );
    assert.equal(failed.msg.update.status.state, 'TASK_FAILED');
    assert.equal(failed.msg.update.status.source, 'SOURCE_AGENT');
    assert.equal(failed.msg.update.status.reason, 'REASON_EXECUTOR_TERMINATED');
    await sub.waitEnded();
  } finally {
    sub.close();
    await agent.stop();
    await master.stop();
  }
});

test('an executor that never subscribes is destroyed after --executor_registration_timeout', async () => {
  const { master, agent } = await setup(['--executor_registration_timeout=300ms']);
  try {
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: customTask('slow', executorInfo('lazy', 'sleep 30')) });
    const u = await master.update('slow', 0);
    assert.equal(u.update.status.state, 'TASK_FAILED');
    assert.equal(u.update.status.reason, 'REASON_EXECUTOR_REGISTRATION_TIMEOUT');
    assert.equal(u.update.status.source, 'SOURCE_AGENT');
    const exited = await master.waitFor('exited executor', () => master.messages('ExitedExecutorMessage')[0]);
    assert.equal(exited.msg.executor_id.value, 'lazy');
  } finally {
    await agent.stop();
    await master.stop();
  }
});

test('a task killed before its executor subscribed is TASK_KILLED during launch', async () => {
  const { master, agent } = await setup();
  try {
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: customTask('early', executorInfo('idle', 'sleep 30')) });
    await waitFor('executor', () => agent.agent.framework('fw-1')?.executors.get('idle'));
    master.send('KillTaskMessage', { framework_id: { value: 'fw-1' }, task_id: { value: 'early' } });
    const u = await master.update('early', 0);
    assert.equal(u.update.status.state, 'TASK_KILLED');
    assert.equal(u.update.status.reason, 'REASON_TASK_KILLED_DURING_LAUNCH');
    // The executor had nothing else to do, so it is shut down.
    await master.waitFor('exited executor', () => master.messages('ExitedExecutorMessage')[0]);
  } finally {
    await agent.stop();
    await master.stop();
  }
});

test('an executor exiting with unfinished tasks fails them and reports its exit status', async () => {
  const { master, agent } = await setup();
  try {
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: customTask('doomed', executorInfo('crasher', 'exit 3')) });
    const u = await master.update('doomed', 0);
    assert.equal(u.update.status.state, 'TASK_FAILED');
    assert.equal(u.update.status.reason, 'REASON_EXECUTOR_TERMINATED');
    const exited = await master.waitFor('exited executor', () => master.messages('ExitedExecutorMessage')[0]);
    assert.equal(exited.msg.status, 3 << 8);
  } finally {
    await agent.stop();
    await master.stop();
  }
});

test('executor calls in protobuf are accepted too', async () => {
  const { master, agent } = await setup();
  try {
    // (HEARTBEAT would be 202 before any lookup, as in Mesos; MESSAGE needs the framework.)
    const body = encodeProto('mesos.v1.executor.Call', { type: 'MESSAGE', framework_id: { value: 'fw-x' }, executor_id: { value: 'e' }, message: { data: Buffer.from('x') } });
    const r = await post(agent, body, { 'Content-Type': 'application/x-protobuf' });
    assert.equal(r.status, 400);
    assert.match(r.body, /Framework cannot be found/);
  } finally {
    await agent.stop();
    await master.stop();
  }
});

test('RunTaskGroupMessage reaches a subscribed executor as one LAUNCH_GROUP', async () => {
  const { master, agent } = await setup();
  const sub = new Subscription();
  try {
    const info = { ...executorInfo('grp', 'sleep 30'), type: 'CUSTOM' };
    const group = { tasks: [customTask('g1', undefined), customTask('g2', undefined)].map((t) => { delete t.executor; return t; }) };
    master.send('RunTaskGroupMessage', { framework: frameworkInfo(), executor: info, task_group: group });
    await waitFor('executor', () => agent.agent.framework('fw-1')?.executors.get('grp'));
    await sub.open(agent, 'fw-1', 'grp');
    await sub.next('SUBSCRIBED');
    const launch = await sub.next('LAUNCH_GROUP');
    assert.deepEqual(launch.launch_group.task_group.tasks.map((t: any) => t.task_id.value), ['g1', 'g2']);
    assert.equal(launch.launch_group.task_group.tasks[0].executor, undefined);
    assert.equal(sub.events.filter((e) => e.type === 'LAUNCH').length, 0);
  } finally {
    sub.close();
    await agent.stop();
    await master.stop();
  }
});

test('--executor_environment_variables replaces the inherited environment; SUBSCRIBE in protobuf streams protobuf events', async () => {
  const { master, agent } = await setup(['--executor_environment_variables={"ONLY_THIS":"yes","PATH":"/usr/bin:/bin"}']);
  try {
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: customTask('p1', executorInfo('pe', 'env > env.txt; sleep 30')) });
    const ex = await waitFor('executor', () => agent.agent.framework('fw-1')?.executors.get('pe'));
    const envFile = join(ex.directory, 'env.txt');
    await waitFor('env.txt', () => existsSync(envFile) && readFileSync(envFile, 'utf8').includes('MESOS_SLAVE_PID'));
    const env = readFileSync(envFile, 'utf8');
    assert.match(env, /^ONLY_THIS=yes$/m);
    assert.match(env, /^MESOS_EXECUTOR_ID=pe$/m);
    // The agent's own environment is not passed on.
    assert.doesNotMatch(env, /^HOME=/m);

    const body = encodeProto('mesos.v1.executor.Call', { type: 'SUBSCRIBE', framework_id: { value: 'fw-1' }, executor_id: { value: 'pe' }, subscribe: {} });
    const events: any[] = [];
    const req = http.request(`${agent.url}/api/v1/executor`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf', Accept: 'application/x-protobuf' }, agent: false }, (res) => {
      assert.equal(res.headers['content-type'], 'application/x-protobuf');
      const reader = new RecordIOReader();
      res.on('data', (c: Buffer) => {
        for (const r of reader.push(c)) events.push(decodeProto('mesos.v1.executor.Event', r));
      });
      res.on('error', () => undefined);
    });
    req.end(body);
    try {
      await waitFor('launch', () => events.find((e) => e.type === 'LAUNCH'));
      assert.equal(events[0].type, 'SUBSCRIBED');
      assert.equal(events[0].subscribed.agent_info.id.value, 'M1-S0');
      assert.equal(events.find((e) => e.type === 'LAUNCH').launch.task.task_id.value, 'p1');
    } finally {
      req.destroy();
    }
  } finally {
    await agent.stop();
    await master.stop();
  }
});

test('killing a task the agent does not know reports it lost; messages to unknown executors are counted invalid', async () => {
  const { master, agent } = await setup();
  try {
    master.send('RunTaskMessage', { framework: frameworkInfo(), task: customTask('k1', executorInfo('ke', 'sleep 30')) });
    await waitFor('executor', () => agent.agent.framework('fw-1')?.executors.get('ke'));
    master.send('KillTaskMessage', { framework_id: { value: 'fw-1' }, task_id: { value: 'nope' } });
    const u = await master.update('nope', 0);
    assert.equal(u.update.status.state, 'TASK_LOST');
    assert.equal(u.update.status.source, 'SOURCE_AGENT');
    master.send('FrameworkToExecutorMessage', { slave_id: { value: 'M1-S0' }, framework_id: { value: 'fw-1' }, executor_id: { value: 'nobody' }, data: Buffer.from('x') });
    await waitFor('invalid message counted', () => agent.agent.counters.invalidFrameworkMessages === 1);
    const metrics = await (await fetch(`${agent.url}/metrics/snapshot`)).json();
    assert.equal(metrics['slave/invalid_framework_messages'], 1);
    assert.equal(metrics['slave/executors_registering'], 1);
    assert.equal(metrics['slave/tasks_staging'], 1);
  } finally {
    await agent.stop();
    await master.stop();
  }
});
