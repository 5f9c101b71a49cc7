// The agent operator API's container calls over real HTTP against an in-process agent:
// LAUNCH_CONTAINER / WAIT_CONTAINER / KILL_CONTAINER / REMOVE_CONTAINER (and a deprecated
// alias), GET_CONTAINERS with show_nested, nested sandboxes, and nested containers dying with
// their parent. The parent is a custom executor's container that just sleeps.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type AgentHandle } from '../../src/agent/main.js';
import { decodeProto, encodeProto } from '../../src/protocol/codec.js';
import { FakeMaster, frameworkInfo } from '../agent/fake-master.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: Buffer;
}

function post(agent: AgentHandle, body: string | Buffer, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${agent.url}/api/v1`, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function call(agent: AgentHandle, c: unknown): Promise<Reply> {
  return post(agent, JSON.stringify(c), { 'Content-Type': 'application/json', Accept: 'application/json' });
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

const launch = (parent: string, child: string, command: string) => ({
  type: 'LAUNCH_CONTAINER',
  launch_container: { container_id: { value: child, parent: { value: parent } }, command: { shell: true, value: command } },
});
const nestedId = (parent: string, child: string) => ({ value: child, parent: { value: parent } });

test('agent operator API: nested containers under a running executor container', async () => {
  const master = await FakeMaster.start();
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-nested-'));
  dirs.push(workDir);
  const agent = await startAgent([
    `--master=127.0.0.1:${master.port}`,
    `--work_dir=${workDir}`,
    '--port=0',
    '--ip=127.0.0.1',
    '--registration_backoff_factor=10ms',
    '--resources=cpus:4;mem:1024;disk:1024',
    '--no-switch_user',
    '--executor_shutdown_grace_period=100ms',
  ], { env: {} });
  try {
    await master.waitFor('registered', () => agent.agent.registered);
    const executor = {
      executor_id: { value: 'e1' },
      framework_id: { value: 'fw-1' },
      name: 'parent',
      command: { shell: true, value: 'sleep 30' },
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role: '*' } }],
    };
    const task = {
      name: 't1',
      task_id: { value: 't1' },
      agent_id: { value: 'M1-S0' },
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role: '*' } }],
      executor,
    };
    master.send('RunTaskMessage', { framework: frameworkInfo(), task, pid: 'scheduler-1@127.0.0.1:1' });
    const ex = await waitFor('executor', () => agent.agent.framework('fw-1')?.executors.get('e1'));
    const parent = ex.containerId;

    // Bad requests.
    assert.equal((await call(agent, { type: 'LAUNCH_CONTAINER' })).status, 400);
    const slash = await call(agent, launch(parent, 'a/b', 'true'));
    assert.equal(slash.status, 400);
    assert.match(slash.body.toString(), /path separator/);
    const orphan = await call(agent, launch('no-such-parent', 'c0', 'true'));
    assert.equal(orphan.status, 400);
    assert.match(orphan.body.toString(), /Parent container no-such-parent does not exist/);
    const standalone = await call(agent, { type: 'LAUNCH_CONTAINER', launch_container: { container_id: { value: 'solo' }, command: { value: 'true' } } });
    assert.equal(standalone.status, 501);
    const docker = await call(agent, { ...launch(parent, 'd1', 'true'), launch_container: { ...launch(parent, 'd1', 'true').launch_container, container: { type: 'DOCKER', docker: { image: 'x' } } } });
    assert.equal(docker.status, 400);
    assert.match(docker.body.toString(), /not supported/);
    const withVolume = (volume: unknown) => ({ ...launch(parent, 'v1', 'true'), launch_container: { ...launch(parent, 'v1', 'true').launch_container, container: { type: 'MESOS', volumes: [volume] } } });
    const hostPath = await call(agent, withVolume({ container_path: 'x', mode: 'RW', source: { type: 'HOST_PATH', host_path: { path: '/etc' } } }));
    assert.equal(hostPath.status, 400);
    assert.match(hostPath.body.toString(), /only SANDBOX_PATH/);
    const escape = await call(agent, withVolume({ container_path: '../x', mode: 'RW', source: { type: 'SANDBOX_PATH', sandbox_path: { type: 'PARENT', path: 'shared' } } }));
    assert.equal(escape.status, 400);
    assert.match(escape.body.toString(), /inside the sandbox/);
    assert.equal((await call(agent, { type: 'WAIT_CONTAINER', wait_container: { container_id: nestedId(parent, 'nope') } })).status, 404);
    assert.equal((await call(agent, { type: 'KILL_CONTAINER', kill_container: { container_id: nestedId(parent, 'nope') } })).status, 404);

    // A long-running nested container: launched once (200), a second launch is 202.
    const first = await call(agent, launch(parent, 'c1', 'echo hello; echo "$MESOS_SANDBOX" > where; exec sleep 30'));
    assert.equal(first.status, 200, first.body.toString());
    assert.equal((await call(agent, launch(parent, 'c1', 'true'))).status, 202);
    const sandbox = join(ex.directory, 'containers', 'c1');
    await waitFor('nested stdout', () => existsSync(join(sandbox, 'where')) && readFileSync(join(sandbox, 'stdout'), 'utf8').includes('hello'));
    assert.equal(readFileSync(join(sandbox, 'where'), 'utf8').trim(), sandbox);

    // GET_CONTAINERS lists it only with show_nested.
    const plain = JSON.parse((await call(agent, { type: 'GET_CONTAINERS' })).body.toString());
    assert.ok(!plain.get_containers.containers.some((c: any) => c.container_id.parent));
    const withNested = JSON.parse((await call(agent, { type: 'GET_CONTAINERS', get_containers: { show_nested: true } })).body.toString());
    const listed = withNested.get_containers.containers.find((c: any) => c.container_id.value === 'c1');
    assert.deepEqual(listed.container_id, nestedId(parent, 'c1'));
    assert.equal(listed.executor_id.value, 'e1');
    assert.equal(listed.framework_id.value, 'fw-1');

    // KILL with SIGTERM; WAIT (protobuf this time) reports the raw wait status of signal 15.
    const waiting = post(agent, encodeProto('mesos.v1.agent.Call', { type: 'WAIT_CONTAINER', wait_container: { container_id: nestedId(parent, 'c1') } }), {
      'Content-Type': 'application/x-protobuf',
      Accept: 'application/x-protobuf',
    });
    const running = await call(agent, { type: 'REMOVE_CONTAINER', remove_container: { container_id: nestedId(parent, 'c1') } });
    assert.equal(running.status, 500);
    assert.match(running.body.toString(), /running/);
    assert.equal((await call(agent, { type: 'KILL_CONTAINER', kill_container: { container_id: nestedId(parent, 'c1'), signal: 15 } })).status, 200);
    const waited = await waiting;
    assert.equal(waited.status, 200);
    const response = decodeProto('mesos.v1.agent.Response', waited.body);
    assert.equal(response.type, 'WAIT_CONTAINER');
    assert.equal(response.wait_container.exit_status, 15);

    // An exit code, through the deprecated alias; then REMOVE deletes the sandbox.
    assert.equal((await call(agent, { type: 'LAUNCH_NESTED_CONTAINER', launch_nested_container: { container_id: nestedId(parent, 'c2'), command: { value: 'exit 3' } } })).status, 200);
    const exit3 = JSON.parse((await call(agent, { type: 'WAIT_NESTED_CONTAINER', wait_nested_container: { container_id: nestedId(parent, 'c2') } })).body.toString());
    assert.equal(exit3.type, 'WAIT_NESTED_CONTAINER');
    assert.equal(exit3.wait_nested_container.exit_status, 3 << 8);
    assert.ok(existsSync(join(ex.directory, 'containers', 'c2')));
    assert.equal((await call(agent, { type: 'REMOVE_CONTAINER', remove_container: { container_id: nestedId(parent, 'c2') } })).status, 200);
    assert.ok(!existsSync(join(ex.directory, 'containers', 'c2')));

    // Nested containers die with their parent.
    assert.equal((await call(agent, launch(parent, 'c3', 'exec sleep 30'))).status, 200);
    const c3 = call(agent, { type: 'WAIT_CONTAINER', wait_container: { container_id: nestedId(parent, 'c3') } });
    master.send('ShutdownExecutorMessage', { framework_id: { value: 'fw-1' }, executor_id: { value: 'e1' } });
    const c3Reply = await c3;
    assert.equal(c3Reply.status, 200);
    assert.equal(JSON.parse(c3Reply.body.toString()).wait_container.exit_status, 9);
    const after = await call(agent, launch(parent, 'c4', 'true'));
    assert.equal(after.status, 400);
  } finally {
    await agent.stop();
    await master.stop();
  }
});
