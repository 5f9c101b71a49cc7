// End-to-end agent recovery (FT-05): the real bin/mesos-master and bin/mesos-agent, a
// checkpointing framework, `kill -9` of the agent while its tasks run, and a restart with the
// same flags. The tasks never stop, the agent keeps its id, a task that ended while no agent was
// running is reported once, and no acknowledged update is ever delivered again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { SchedulerClient } from '../../src/scheduler/client.js';
import type { Msg } from '../../src/scheduler/wire.js';
import { readTaskUpdates } from '../../src/agent/checkpoint/reader.js';
import { isAlive } from '../../src/cli/proc.js';
import { type Proc, Procs, eventually, httpGet } from './procs.js';
import { freePort } from '../support/net.js';

const procs = new Procs();
let masterUrl = '';
let workDir = '';
let agentArgs: string[] = [];
let client: SchedulerClient | undefined;
let master: Proc;


async function startAgentProc(): Promise<{ proc: Proc; url: string }> {
  const proc = procs.spawn('mesos-agent', agentArgs, { MESOS_REGISTRATION_BACKOFF_FACTOR: '100ms' });
  const url = (await proc.waitForLine(/Agent started at (http:\/\/\S+)/))[1]!;
  return { proc, url };
}

/** Not a zombie: a reparented supervisor may wait for a reaper that never comes. */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

before(async () => {
  master = procs.spawn('mesos-master', ['--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir('rmaster')}`, '--registry=in_memory']);
  masterUrl = (await master.waitForLine(/Master started at (http:\/\/\S+)/))[1]!;
  workDir = procs.tempDir('ragent');
  // A fixed port: --reconfiguration_policy=equal wants the same AgentInfo after the restart.
  const port = await freePort();
  agentArgs = [`--master=${masterUrl.replace(/^http:\/\//, '')}`, '--ip=127.0.0.1', `--port=${port}`, `--work_dir=${workDir}`, '--resources=cpus:4;mem:2048;disk:1024'];
});

after(async () => {
  client?.close();
  await procs.cleanup();
});

test('kill -9 of an agent: tasks keep running, the restarted agent keeps its id, updates arrive once per uuid', async () => {
  let agent = await startAgentProc();
  const gate = path.join(workDir, 'gate');
  const longIds = ['long-0', 'long-1', 'long-2', 'long-3'];
  const tasks = [
    ...longIds.map((id) => ({ id, command: 'sleep 600' })),
    { id: 'gated', command: `while [ ! -e '${gate}' ]; do sleep 0.05; done` },
  ];
  client = new SchedulerClient({
    master: masterUrl.replace(/^http:\/\//, ''),
    contentType: 'protobuf',
    frameworkInfo: { user: userInfo().username, name: 'e2e-recovery', roles: ['*'], checkpoint: true, capabilities: [{ type: 'MULTI_ROLE' }] },
  });
  const sub = await client.subscribe();
  const frameworkId = sub.framework_id.value as string;
  const received = new Map<string, number>();
  const acked = new Set<string>();
  const afterAck: string[] = [];
  const states = new Map<string, Msg[]>();
  let launched = false;
  const errors: Error[] = [];
  let wake: () => void = () => {};
  const loop = (async () => {
    for await (const e of client!) {
      if (e.type === 'OFFERS' && !launched) {
        const offer = e.offers.offers[0];
        launched = true;
        const role = offer.allocation_info?.role ?? '*';
        const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
        await client!.launch([offer.id], tasks.map((t) => ({ name: t.id, task_id: { value: t.id }, agent_id: offer.agent_id, resources: [res('cpus', 0.1), res('mem', 32)], command: { value: t.command } })));
      } else if (e.type === 'UPDATE') {
        const status = e.update.status;
        const key = Buffer.from(status.uuid ?? []).toString('hex');
        if (acked.has(key)) afterAck.push(`${status.task_id.value}:${status.state}`);
        received.set(key, (received.get(key) ?? 0) + 1);
        const list = states.get(status.task_id.value) ?? [];
        list.push(status);
        states.set(status.task_id.value, list);
        client!.acknowledge(status).then(
          () => {
            acked.add(key);
            wake();
          },
          (err: Error) => errors.push(err),
        );
      }
      wake();
    }
  })();
  const until = (pred: () => boolean, what: string) =>
    eventually(() => pred() || new Promise<false>((r) => ((wake = () => r(false)), setTimeout(() => r(false), 200))), 60_000, what);
  const last = (id: string) => states.get(id)?.at(-1);

  await until(() => tasks.every((t) => last(t.id)?.state === 'TASK_RUNNING'), 'every task to run');
  const agentId = (await httpGet(`${agent.url}/state`)).json().id as string;
  const supervisors = new Map(tasks.map((t) => [t.id, states.get(t.id)!.find((s) => s.state === 'TASK_RUNNING')!.container_status.executor_pid as number]));
  // Every update so far was acknowledged and the agent checkpointed the acknowledgements.
  const updatesFile = (id: string) => path.join(workDir, 'meta/slaves', agentId, 'frameworks', frameworkId, 'executors', id, 'runs/latest/tasks', id, 'task.updates');
  await until(() => tasks.every((t) => readTaskUpdates(updatesFile(t.id)).acks.size === 2), 'acknowledgements to be checkpointed');
  // The task processes themselves (the supervisors' children) from the containers' run dirs.
  const before = (await httpGet(`${agent.url}/state`)).json();
  const taskPids = new Map<string, number>();
  for (const ex of before.frameworks[0].executors as Msg[]) {
    const pidFile = path.join(workDir, 'runtime/containers', ex.container, 'forked.pid');
    await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', `${ex.id}'s pid file`);
    taskPids.set(ex.id, Number(fs.readFileSync(pidFile, 'utf8').trim()));
  }
  assert.equal(taskPids.size, tasks.length);
  procs.remember();

  agent.proc.child.kill('SIGKILL');
  await agent.proc.exited;
  for (const [id, pid] of supervisors) assert.ok(running(pid), `${id}'s supervisor ${pid} survives kill -9 of the agent`);
  for (const [id, pid] of taskPids) assert.ok(running(pid), `${id}'s process ${pid} survives kill -9 of the agent`);

  // The gated task ends while no agent is running.
  fs.writeFileSync(gate, '');
  await eventually(() => !running(supervisors.get('gated')!), 20_000, 'the gated task to end');

  agent = await startAgentProc();
  const state = await eventually(async () => {
    const s = (await httpGet(`${agent.url}/state`)).json();
    return s.id === agentId && s.frameworks?.length === 1 ? s : undefined;
  }, 20_000, 'the agent to recover');
  assert.equal(state.id, agentId, 'the agent keeps its id');
  const executors = state.frameworks[0].executors as Msg[];
  for (const id of longIds) {
    const ex = executors.find((x) => x.id === id);
    assert.equal(ex?.tasks?.[0]?.state, 'TASK_RUNNING', `${id} is recovered running`);
  }
  await until(() => last('gated')?.state === 'TASK_FINISHED', 'the gated task to be reported finished');
  const finished = states.get('gated')!.filter((s) => s.state === 'TASK_FINISHED');
  assert.equal(finished.length, 1, 'TASK_FINISHED arrives exactly once');
  await eventually(async () => {
    const m = (await httpGet(`${masterUrl}/master/state`)).json();
    const a = m.slaves?.find((x: Msg) => x.id === agentId);
    return a?.active === true && m.slaves.length === 1;
  }, 20_000, 'the master to see the same agent again');
  for (const id of longIds) assert.ok(running(supervisors.get(id)!) && running(taskPids.get(id)!), `${id} never stopped`);

  // A recovered task is still under the agent's control.
  await client.kill({ value: 'long-0' }, { value: agentId });
  await until(() => last('long-0')?.state === 'TASK_KILLED', 'long-0 to be killed');
  await eventually(() => !running(supervisors.get('long-0')!) && !running(taskPids.get('long-0')!), 20_000, 'long-0 to die');
  for (const id of longIds.slice(1)) assert.ok(running(taskPids.get(id)!), `${id} still runs`);
  await until(() => [...received.keys()].every((k) => acked.has(k)), 'every update to be acknowledged');

  assert.deepEqual(errors, []);
  assert.deepEqual(afterAck, [], 'no update arrives again after its acknowledgement');
  for (const [k, n] of received) assert.equal(n, 1, `uuid ${k} delivered ${n} times`);
  client.close();
  await loop;
});
