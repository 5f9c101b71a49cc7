// End-to-end: signals to a real bin/mesos-agent, as Mesos handles them. SIGTERM leaves the tasks
// of checkpointing frameworks running (a restarted agent recovers them) and kills the others;
// SIGUSR1 unregisters the agent from the master and kills everything.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { SchedulerClient } from '../../src/scheduler/client.js';
import type { Msg } from '../../src/scheduler/wire.js';
import { type Proc, Procs, eventually, httpGet } from './procs.js';
import { freePort } from '../support/net.js';

const procs = new Procs();
const clients: SchedulerClient[] = [];
let masterUrl = '';


async function startAgentProc(args: string[]): Promise<{ proc: Proc; url: string }> {
  const proc = procs.spawn('mesos-agent', args, { MESOS_REGISTRATION_BACKOFF_FACTOR: '100ms' });
  const url = (await proc.waitForLine(/Agent started at (http:\/\/\S+)/))[1]!;
  return { proc, url };
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

interface Launched {
  client: SchedulerClient;
  frameworkId: string;
  agentId: string;
  /** Every status of the task, in arrival order (each acknowledged). */
  states: Msg[];
}

/** Subscribes a framework, launches one `sleep 600` task on the first offer, waits for TASK_RUNNING. */
async function launchOne(name: string, taskId: string, checkpoint: boolean): Promise<Launched> {
  const client = new SchedulerClient({
    master: masterUrl.replace(/^http:\/\//, ''),
    contentType: 'protobuf',
    frameworkInfo: { user: userInfo().username, name, roles: ['*'], checkpoint, capabilities: [{ type: 'MULTI_ROLE' }] },
  });
  clients.push(client);
  const sub = await client.subscribe();
  const launched: Launched = { client, frameworkId: sub.framework_id.value as string, agentId: '', states: [] };
  void (async () => {
    for await (const e of client) {
      if (e.type === 'OFFERS' && !launched.agentId) {
        const offer = e.offers.offers[0];
        launched.agentId = offer.agent_id.value;
        const role = offer.allocation_info?.role ?? '*';
        const res = (n: string, value: number) => ({ name: n, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
        await client.launch([offer.id], [{ name: taskId, task_id: { value: taskId }, agent_id: offer.agent_id, resources: [res('cpus', 0.1), res('mem', 32)], command: { value: 'sleep 600' } }]);
      } else if (e.type === 'UPDATE') {
        launched.states.push(e.update.status);
        void client.acknowledge(e.update.status).catch(() => undefined);
      }
    }
  })().catch(() => undefined);
  await eventually(() => launched.states.some((s) => s.state === 'TASK_RUNNING'), 30_000, `${taskId} to run`);
  return launched;
}

/** The pid of a task's own process (the supervisor's child), from its container's run dir. */
async function taskPid(workDir: string, agentUrl: string, frameworkId: string): Promise<number> {
  const state = (await httpGet(`${agentUrl}/state`)).json();
  const fw = (state.frameworks as Msg[]).find((f) => f.id === frameworkId)!;
  const container = fw.executors[0].container as string;
  // The supervisor writes the task's pid a moment after TASK_RUNNING may already have gone out.
  const pidFile = path.join(workDir, 'runtime/containers', container, 'forked.pid');
  return eventually(() => {
    const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : '';
    return text === '' ? undefined : Number(text);
  }, 10_000, `the task's pid in ${pidFile}`);
}

before(async () => {
  const master = procs.spawn('mesos-master', ['--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir('smaster')}`, '--registry=in_memory']);
  masterUrl = (await master.waitForLine(/Master started at (http:\/\/\S+)/))[1]!;
});

after(async () => {
  for (const c of clients) c.close();
  await procs.cleanup();
});

test('SIGTERM: the checkpointed task survives, the other one dies; the restarted agent recovers the survivor', async () => {
  const workDir = procs.tempDir('sagent');
  const port = await freePort();
  const args = [`--master=${masterUrl.replace(/^http:\/\//, '')}`, '--ip=127.0.0.1', `--port=${port}`, `--work_dir=${workDir}`, '--resources=cpus:2;mem:1024;disk:512'];
  let agent = await startAgentProc(args);
  const plain = await launchOne('no-checkpoint', 'plain', false);
  const kept = await launchOne('checkpoint', 'kept', true);
  const plainPid = await taskPid(workDir, agent.url, plain.frameworkId);
  const keptPid = await taskPid(workDir, agent.url, kept.frameworkId);
  procs.remember();

  agent.proc.child.kill('SIGTERM');
  const exit = await agent.proc.exited;
  assert.equal(exit.code, 0, `the agent exits 0 on SIGTERM\n${agent.proc.output()}`);
  assert.ok(running(keptPid), 'the task of the checkpointing framework survives SIGTERM');
  await eventually(() => !running(plainPid), 20_000, 'the task of the non-checkpointing framework to die');
  // The master heard about it before the agent went away.
  await eventually(() => plain.states.some((s) => s.state === 'TASK_KILLED' || s.state === 'TASK_FAILED'), 20_000, 'a terminal update for the plain task');

  agent = await startAgentProc(args);
  const state = await eventually(async () => {
    const s = (await httpGet(`${agent.url}/state`)).json();
    return s.id === kept.agentId && s.frameworks?.length === 1 ? s : undefined;
  }, 20_000, 'the agent to recover');
  assert.equal(state.frameworks[0].id, kept.frameworkId, 'only the checkpointing framework is recovered');
  assert.equal(state.frameworks[0].executors[0].tasks[0].state, 'TASK_RUNNING');
  assert.ok(running(keptPid), 'the recovered task never stopped');
  await eventually(async () => {
    const m = (await httpGet(`${masterUrl}/master/state`)).json();
    return m.slaves?.find((x: Msg) => x.id === kept.agentId)?.active === true;
  }, 20_000, 'the master to see the agent again');

  // Still under the agent's control.
  await kept.client.kill({ value: 'kept' }, { value: kept.agentId });
  await eventually(() => kept.states.some((s) => s.state === 'TASK_KILLED'), 20_000, 'the recovered task to be killed');
  await eventually(() => !running(keptPid), 20_000, 'the recovered task to die');
  agent.proc.child.kill('SIGTERM');
  assert.equal((await agent.proc.exited).code, 0);
});

test('SIGUSR1: the agent unregisters from the master, kills every task (checkpointed too) and exits 0', async () => {
  const workDir = procs.tempDir('uagent');
  const args = [`--master=${masterUrl.replace(/^http:\/\//, '')}`, '--ip=127.0.0.1', '--port=0', `--work_dir=${workDir}`, '--resources=cpus:2;mem:1024;disk:512'];
  const agent = await startAgentProc(args);
  const kept = await launchOne('checkpoint-2', 'doomed', true);
  const pid = await taskPid(workDir, agent.url, kept.frameworkId);
  procs.remember();

  agent.proc.child.kill('SIGUSR1');
  const exit = await agent.proc.exited;
  assert.equal(exit.code, 0, `the agent exits 0 on SIGUSR1\n${agent.proc.output()}`);
  await eventually(() => !running(pid), 20_000, 'the checkpointed task to die');
  await eventually(async () => {
    const m = (await httpGet(`${masterUrl}/master/state`)).json();
    return !(m.slaves as Msg[]).some((x) => x.id === kept.agentId);
  }, 20_000, 'the master to remove the unregistered agent');
  const metrics = (await httpGet(`${masterUrl}/metrics/snapshot`)).json();
  assert.equal(metrics['master/slave_removals/reason_unregistered'], 1);
});
