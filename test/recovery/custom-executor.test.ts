// Recovery of a custom v1 HTTP executor: after the agent comes back it re-subscribes (the agent
// answers anything else with 503 until recovery is over) and keeps running its task; one that
// never re-subscribes is destroyed after --executor_reregistration_timeout.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/common/clock.js';
import { startAgent } from '../../src/agent/main.js';
import { Cluster } from '../cluster/harness.js';

const FRAMEWORK = { user: os.userInfo().username, name: 'ckpt-exec', roles: ['*'], checkpoint: true, capabilities: [{ type: 'MULTI_ROLE' }] };

// A minimal executor: runs nothing, reports TASK_RUNNING on LAUNCH and TASK_KILLED on KILL, and
// after losing its agent re-subscribes (with its unacknowledged updates) once $GATE exists.
const EXECUTOR = String.raw`
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
const [host, port] = process.env.MESOS_AGENT_ENDPOINT.split(':');
const fw = { value: process.env.MESOS_FRAMEWORK_ID };
const ex = { value: process.env.MESOS_EXECUTOR_ID };
const unacked = new Map();
let killed = false;
function post(call, onEvent) {
  return new Promise((resolve) => {
    const req = http.request({ host, port, path: '/api/v1/executor', method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' } }, (res) => {
      if (!onEvent || res.statusCode !== 200) { res.resume(); res.on('end', () => resolve(res.statusCode)); return; }
      resolve(200);
      let buf = Buffer.alloc(0);
      res.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const nl = buf.indexOf(10);
          if (nl < 0) return;
          const n = Number(buf.subarray(0, nl).toString());
          if (buf.length < nl + 1 + n) return;
          onEvent(JSON.parse(buf.subarray(nl + 1, nl + 1 + n).toString()));
          buf = buf.subarray(nl + 1 + n);
        }
      });
      res.on('close', () => setTimeout(reconnect, 50));
    });
    req.on('error', () => resolve(0));
    req.end(JSON.stringify(call));
  });
}
function update(taskId, state) {
  const status = { task_id: taskId, state, source: 'SOURCE_EXECUTOR', uuid: crypto.randomBytes(16).toString('base64') };
  unacked.set(status.uuid, status);
  post({ type: 'UPDATE', framework_id: fw, executor_id: ex, update: { status } });
}
function onEvent(e) {
  if (e.type === 'LAUNCH') update(e.launch.task.task_id, 'TASK_RUNNING');
  if (e.type === 'KILL') { killed = true; update(e.kill.task_id, 'TASK_KILLED'); }
  if (e.type === 'ACKNOWLEDGED') { unacked.delete(e.acknowledged.uuid); if (killed && unacked.size === 0) process.exit(0); }
  if (e.type === 'SHUTDOWN') process.exit(0);
}
function subscribe() {
  const updates = [...unacked.values()].map((status) => ({ status }));
  return post({ type: 'SUBSCRIBE', framework_id: fw, executor_id: ex, subscribe: { unacknowledged_updates: updates } }, onEvent);
}
async function reconnect() {
  if (!fs.existsSync(process.env.GATE) || (await subscribe()) !== 200) setTimeout(reconnect, 50);
}
subscribe();
`;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function postStatus(port: number, body: object): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/api/v1/executor', method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function launchExecutorTask() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-exec-'));
  dirs.push(dir);
  const script = path.join(dir, 'executor.mjs');
  fs.writeFileSync(script, EXECUTOR);
  const gate = path.join(dir, 'gate');
  const cluster = await Cluster.start({ frameworkInfo: FRAMEWORK, agentFlags: ['--executor_reregistration_timeout=5secs'] });
  const offers = await cluster.awaitEvent((e) => e.type === 'OFFERS');
  const offer = offers.offers.offers[0];
  const role = offer.allocation_info?.role ?? '*';
  const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
  await cluster.scheduler.launch([offer.id], [
    {
      name: 'work',
      task_id: { value: 'work' },
      agent_id: offer.agent_id,
      resources: [res('cpus', 0.1), res('mem', 32)],
      executor: {
        executor_id: { value: 'custom' },
        name: 'custom',
        resources: [res('cpus', 0.1), res('mem', 32)],
        command: { value: `exec '${process.execPath}' '${script}'`, environment: { variables: [{ name: 'GATE', value: gate }] } },
      },
    },
  ]);
  const running = await cluster.awaitUpdate('work', 'TASK_RUNNING');
  assert.equal(await cluster.scheduler.acknowledge(running.update.status), true);
  const first = cluster.agents[0]!;
  const state = await cluster.getJson(`${first.url}/state`);
  const containerId = state.frameworks[0].executors[0].container as string;
  const pid = Number(fs.readFileSync(path.join(first.agent.config.workDir, 'runtime/containers', containerId, 'pid'), 'utf8'));
  assert.ok(alive(pid));
  // The acknowledgement of TASK_RUNNING reaches the agent before it goes away.
  for (let i = 0; first.agent.statusUpdates.pendingCount() > 0; i++) {
    assert.ok(i < 200, 'acknowledgement never arrived');
    await cluster.step();
  }
  return { cluster, gate, pid, agentId: offer.agent_id.value };
}

function restart(cluster: Awaited<ReturnType<typeof Cluster.start>>) {
  const old = cluster.agents[0]!;
  return startAgent(
    [`--master=127.0.0.1:${cluster.master.port}`, '--ip=127.0.0.1', `--port=${old.port}`, `--work_dir=${old.agent.config.workDir}`,
      '--resources=cpus:4;mem:2048;disk:4096;ports:[31000-32000]', '--executor_reregistration_timeout=5secs'],
    { env: {}, clock: cluster.clock },
  );
}

test('a checkpointing HTTP executor re-subscribes to the restarted agent and keeps its task', async (t) => {
  const { cluster, gate, pid, agentId } = await launchExecutorTask();
  t.after(() => cluster.stop());
  const port = cluster.agents[0]!.port;
  await cluster.agents[0]!.crash();
  assert.ok(alive(pid), 'the executor outlives the agent');

  const restarting = restart(cluster);
  // Whatever happens below, the restarted agent is stopped (cluster.stop() ends the executor).
  t.after(async () => (await restarting).stop());
  // Until the executor is back, the agent is recovering: calls other than SUBSCRIBE get 503.
  let answer: { status: number; text: string } | undefined;
  for (let i = 0; !answer; i++) {
    answer = await postStatus(port, { type: 'MESSAGE', framework_id: { value: 'x' }, executor_id: { value: 'custom' }, message: { data: 'aGk=' } }).catch(() => undefined);
    assert.ok(i < 200, 'the restarted agent never answered');
    if (!answer) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(answer.status, 503);
  assert.equal(answer.text, 'Agent has not finished recovery');
  fs.writeFileSync(gate, '');
  const second = await restarting;
  cluster.agents[0] = second;
  assert.equal(second.agent.agentId, agentId);
  assert.equal(second.agent.recovering, false);

  await cluster.awaitAgents(1);
  await cluster.scheduler.kill({ value: 'work' }, { value: agentId });
  const killed = await cluster.awaitUpdate('work', 'TASK_KILLED');
  assert.equal(killed.update.status.source, 'SOURCE_EXECUTOR', 'the recovered executor itself answered the kill');
  assert.equal(await cluster.scheduler.acknowledge(killed.update.status), true);
  for (let i = 0; alive(pid); i++) {
    assert.ok(i < 300, 'executor never exited');
    await cluster.step();
  }
});

test('an executor that does not re-subscribe within --executor_reregistration_timeout is destroyed', async (t) => {
  const { cluster, pid } = await launchExecutorTask();
  t.after(() => cluster.stop());
  await cluster.agents[0]!.crash();
  const restarting = restart(cluster);
  let done = false;
  void restarting.then(() => (done = true), () => (done = true));
  // Recovery waits on the agent's clock for the executor that never comes back.
  for (let i = 0; !done; i++) {
    assert.ok(i < 300, 'recovery never ended');
    await cluster.step(100);
  }
  cluster.agents[0] = await restarting;
  assert.ok(cluster.clock instanceof ManualClock);
  const lost = await cluster.awaitUpdate('work', 'TASK_LOST');
  assert.equal(lost.update.status.reason, 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT');
  for (let i = 0; alive(pid); i++) {
    assert.ok(i < 300, 'executor never killed');
    await cluster.step();
  }
});
