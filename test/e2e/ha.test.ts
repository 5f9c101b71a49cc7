// High availability end to end (FT-01..FT-03): a 3-node ZooKeeper ensemble and three real
// bin/mesos-master processes on loopback, two bin/mesos-agent processes and a PARTITION_AWARE
// scheduler, all finding the leader through zk://. The tests run in order on one cluster:
// standby redirects, a ZooKeeper leader crash, kill -9 of the leading master, and a leading
// master paused past its session timeout.
import assert from 'node:assert/strict';
import http from 'node:http';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { SchedulerClient } from '../../src/scheduler/client.js';
import type { Msg } from '../../src/scheduler/wire.js';
import { WireZkClient, parseServers } from '../../src/zookeeper/index.js';
import { startEnsemble, zookeeperMissing, type ZkTestCluster } from '../support/zookeeper-server.js';
import { type Proc, Procs, eventually, httpGet } from './procs.js';

const missing = zookeeperMissing();
if (missing) console.log(`# ${missing}`);

const SESSION_MS = 3000;

interface MasterProc {
  proc: Proc;
  url: string;
  port: number;
}

function request(url: string, method = 'GET', body?: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;

describe('three masters and a ZooKeeper ensemble', { skip: missing }, () => {
  const procs = new Procs();
  let zk: ZkTestCluster;
  let zkUrl = '';
  const masters: MasterProc[] = [];
  const agents: Array<{ proc: Proc; url: string }> = [];
  let client: SchedulerClient;
  const events: Msg[] = [];
  const subscriptions: Msg[] = [];
  const errors: Error[] = [];
  const paused = new Set<MasterProc>();
  const served = new Set<string>();
  const toLaunch = [['ha-0', 'ha-1'], ['ha-2', 'ha-3']];

  /** The live master whose metrics say it is elected (only ever one). */
  async function leader(): Promise<MasterProc | undefined> {
    const elected: MasterProc[] = [];
    for (const m of masters) {
      // A stopped (SIGSTOP) process would hold the request until it runs again.
      if (!alive(m.proc) || paused.has(m)) continue;
      const r = await httpGet(`${m.url}/metrics/snapshot`).catch(() => undefined);
      if (r?.status === 200 && r.json()['master/elected'] === 1) elected.push(m);
    }
    assert.ok(elected.length <= 1, `two masters elected at once: ${elected.map((m) => m.port).join(', ')}`);
    return elected[0];
  }

  async function newLeader(old: MasterProc | undefined, ms = 30_000): Promise<MasterProc> {
    return eventually(async () => {
      const l = await leader();
      return l && l !== old ? l : undefined;
    }, ms, 'a new leading master');
  }

  function startMasterProc(i: number): MasterProc {
    const proc = procs.spawn('mesos-master', [
      '--ip=127.0.0.1', '--port=0', `--zk=${zkUrl}`, '--quorum=2', `--zk_session_timeout=${SESSION_MS / 1000}secs`,
      `--work_dir=${procs.tempDir(`master${i}`)}`, '--hostname=127.0.0.1', '--allocation_interval=100ms',
      '--agent_reregister_timeout=30secs',
    ]);
    return { proc, url: '', port: 0 };
  }

  async function stateOf(m: MasterProc): Promise<Msg> {
    return (await httpGet(`${m.url}/master/state`)).json();
  }

  /** Tasks the leader knows, per state, for our framework. */
  async function taskStates(m: MasterProc): Promise<Map<string, string>> {
    const state = await stateOf(m);
    const out = new Map<string, string>();
    for (const fw of state.frameworks ?? []) for (const t of fw.tasks ?? []) out.set(t.id, t.state);
    return out;
  }

  before(async () => {
    zk = await startEnsemble(3);
    zkUrl = `zk://${zk.connectString}/mesos`;
    for (let i = 0; i < 3; i++) masters.push(startMasterProc(i));
    for (const m of masters) {
      m.url = (await m.proc.waitForLine(/Master started at (http:\/\/\S+)/, 30_000))[1]!;
      m.port = Number(new URL(m.url).port);
    }
    await newLeader(undefined);
    for (let i = 0; i < 2; i++) {
      const proc = procs.spawn('mesos-agent', [
        `--master=${zkUrl}`, '--ip=127.0.0.1', '--port=0', `--work_dir=${procs.tempDir(`agent${i}`)}`,
        '--resources=cpus:4;mem:2048;disk:1024', '--registration_backoff_factor=100ms',
      ]);
      agents.push({ proc, url: (await proc.waitForLine(/Agent started at (http:\/\/\S+)/, 30_000))[1]! });
    }
    client = new SchedulerClient({
      master: zkUrl,
      contentType: 'json',
      backoffInitialMs: 200,
      backoffMaxMs: 1000,
      frameworkInfo: {
        user: userInfo().username,
        name: 'ha-e2e',
        roles: ['*'],
        failover_timeout: 600,
        capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
      },
    });
    client.on('subscribed', (s: Msg) => subscriptions.push(s));
    await client.subscribe();
    void (async () => {
      for await (const e of client) {
        events.push(e);
        if (e.type === 'UPDATE' && e.update.status.uuid) client.acknowledge(e.update.status).catch(() => undefined);
        if (e.type !== 'OFFERS') continue;
        for (const offer of e.offers.offers ?? []) {
          const agentId = offer.agent_id.value as string;
          const ids = served.has(agentId) ? undefined : toLaunch.shift();
          if (!ids) {
            client.decline([offer.id], { refuse_seconds: 1 }).catch(() => undefined);
            continue;
          }
          // Two long tasks on each agent.
          served.add(agentId);
          const res = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role: '*' } });
          const tasks = ids.map((id) => ({
            name: id, task_id: { value: id }, agent_id: offer.agent_id,
            resources: [res('cpus', 0.1), res('mem', 16)], command: { value: 'sleep 300' },
          }));
          client.launch([offer.id], tasks, { refuse_seconds: 0 }).catch((err: Error) => errors.push(err));
        }
      }
    })();
    await eventually(() => {
      const running = new Set(events.filter((e) => e.type === 'UPDATE' && e.update.status.state === 'TASK_RUNNING').map((e) => e.update.status.task_id.value));
      return running.size === 4;
    }, 40_000, 'four tasks running').catch((err: Error) => {
      const seen = events.map((e) => (e.type === 'UPDATE' ? `${e.update.status.task_id.value}:${e.update.status.state}` : e.type));
      throw new Error(`${err.message}; events ${seen.join(' ')}; errors ${errors.map((x) => x.message).join('; ')}\n${agents.map((a) => a.proc.output()).join('\n')}`);
    });
    procs.remember();
  });

  after(async () => {
    client?.close();
    await procs.cleanup();
    await zk?.stop();
  });

  it('standby masters redirect to the leader; the znodes read as Mesos writes them', async () => {
    const lead = (await leader())!;
    const standby = masters.find((m) => m !== lead && alive(m.proc))!;
    const hostPort = `//127.0.0.1:${lead.port}`;
    let r = await request(`${standby.url}/master/state`);
    assert.equal(r.status, 307);
    assert.equal(r.location, `${hostPort}/master/state`);
    r = await request(`${standby.url}/api/v1/scheduler`, 'POST', '{"type":"SUBSCRIBE"}');
    assert.equal(r.status, 307);
    assert.equal(r.location, `${hostPort}/api/v1/scheduler`);
    r = await request(`${standby.url}/api/v1`, 'POST', '{"type":"GET_HEALTH"}');
    assert.equal(r.status, 307);
    assert.equal(r.location, `${hostPort}/api/v1`);
    r = await request(`${standby.url}/master/redirect`);
    assert.equal(r.status, 307);
    assert.equal(r.location, hostPort);
    const state = await stateOf(lead);
    assert.equal(state.leader, `master@127.0.0.1:${lead.port}`);
    assert.equal(state.leader_info.port, lead.port);
    assert.equal(typeof state.elected_time, 'number');

    // A plain ZooKeeper client: three json.info_ members, the lowest is the leader.
    const zc = new WireZkClient({ servers: parseServers(zk.connectString), sessionTimeoutMs: 4000 });
    try {
      await zc.connected();
      const members = (await zc.getChildren('/mesos')).children.filter((c) => c.startsWith('json.info_')).sort();
      assert.equal(members.length, 3);
      const data = JSON.parse((await zc.getData(`/mesos/${members[0]}`)).data.toString('utf8'));
      assert.equal(data.pid, `master@127.0.0.1:${lead.port}`);
      assert.equal(data.ip, 16777343);
      assert.equal(data.address.port, lead.port);
    } finally {
      await zc.close();
    }
  });

  it('the leading master keeps leading when the ZooKeeper leader dies', async () => {
    const lead = (await leader())!;
    const zkLeader = await eventually(async () => {
      for (const s of zk.servers) if ((await s.mode()) === 'leader') return s;
      return undefined;
    }, 10_000, 'the ZooKeeper leader');
    await zkLeader.kill();
    // The rest of the ensemble elects a new ZooKeeper leader and the sessions move there.
    await eventually(async () => {
      for (const s of zk.servers) if (s.running && (await s.mode()) === 'leader') return true;
      return false;
    }, 20_000, 'a new ZooKeeper leader');
    // Longer than a session timeout: a lost session would have shown by now.
    await new Promise((r) => setTimeout(r, 2 * SESSION_MS));
    assert.equal(await leader(), lead);
    for (const m of masters) assert.ok(alive(m.proc), `master ${m.port} still runs`);
    assert.equal((await stateOf(lead)).activated_slaves, 2);
  });

  it('kill -9 of the leading master: a new leader, agents and the scheduler come back, every task accounted for, offers resume', async () => {
    const old = (await leader())!;
    const frameworkId = client.frameworkId!.value;
    const subscribedBefore = subscriptions.length;
    old.proc.child.kill('SIGKILL');
    await old.proc.exited;
    // Started while ZooKeeper still names the dead leader: it waits for the next one.
    const exec = procs.spawn('mesos-execute', [`--master=${zkUrl}`, '--name=ha-during-failover', '--command=true', '--resources=cpus:0.1;mem:16']);
    const lead = await newLeader(old);

    await eventually(async () => (await stateOf(lead)).activated_slaves === 2, 30_000, 'both agents to re-register');
    await eventually(() => subscriptions.length > subscribedBefore, 30_000, 'the scheduler to re-subscribe');
    assert.equal(subscriptions[subscriptions.length - 1]!.framework_id.value, frameworkId);
    assert.equal(client.masterEndpoint.port, lead.port);

    const states = await eventually(async () => {
      const s = await taskStates(lead);
      return s.size === 4 ? s : undefined;
    }, 20_000, 'the new leader to know all four tasks');
    for (const [id, st] of states) assert.equal(st, 'TASK_RUNNING', id);

    // Explicit reconciliation: an answer for every task, all running.
    const mark = events.length;
    await client.reconcile(['ha-0', 'ha-1', 'ha-2', 'ha-3'].map((id) => ({ task_id: id })));
    await eventually(() => {
      const got = new Map(events.slice(mark).filter((e) => e.type === 'UPDATE').map((e) => [e.update.status.task_id.value, e.update.status.state]));
      return got.size === 4 && [...got.values()].every((s) => s === 'TASK_RUNNING');
    }, 20_000, 'reconciliation answers for all four tasks');
    // Offers flow again from the new leader.
    const offersMark = events.length;
    await client.revive();
    await eventually(() => events.slice(offersMark).some((e) => e.type === 'OFFERS'), 20_000, 'offers from the new leader');
    const exit = await exec.exited;
    await new Promise((r) => (exec.child.stdout?.readableEnded ? r(undefined) : exec.child.stdout?.once('end', r)));
    assert.equal(exit.code, 0, exec.output());
    assert.match(exec.output(), /TASK_FINISHED/);
  });

  it('a leading master paused past its session timeout steps down for good; another takes over', async () => {
    const old = (await leader())!;
    const subscribedBefore = subscriptions.length;
    old.proc.child.kill('SIGSTOP');
    paused.add(old);
    let lead: MasterProc;
    try {
      lead = await newLeader(old);
    } finally {
      old.proc.child.kill('SIGCONT');
      paused.delete(old);
    }
    // Once it runs again it finds its session gone and exits, as Mesos does.
    const exit = await Promise.race([old.proc.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
    assert.ok(exit, 'the old leader exited');
    assert.equal(exit.code, 1);
    assert.match(old.proc.errLines.join('\n'), /Lost leadership/);
    assert.equal(await leader(), lead);

    await eventually(async () => (await stateOf(lead)).activated_slaves === 2, 30_000, 'both agents to re-register');
    await eventually(() => subscriptions.length > subscribedBefore, 30_000, 'the scheduler to re-subscribe');
    const states = await eventually(async () => {
      const s = await taskStates(lead);
      return s.size === 4 ? s : undefined;
    }, 20_000, 'all four tasks');
    for (const [id, st] of states) assert.equal(st, 'TASK_RUNNING', id);
  });

  it('bin/mesos-execute --master=zk://... finds the leader and runs a task', async () => {
    const exec = procs.spawn('mesos-execute', [`--master=${zkUrl}`, '--name=ha-execute', '--command=echo hello-ha', '--resources=cpus:0.1;mem:16']);
    const exit = await exec.exited;
    // 'exit' may come before the last output is read.
    await new Promise((r) => (exec.child.stdout?.readableEnded ? r(undefined) : exec.child.stdout?.once('end', r)));
    assert.equal(exit.code, 0, exec.output());
    assert.match(exec.output(), /TASK_FINISHED/);
  });
});
