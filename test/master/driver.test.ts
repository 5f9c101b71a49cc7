// Driver-based schedulers (WIRE-02): a fake MesosSchedulerDriver made of a libprocess actor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuidBytes } from '../../src/common/ids.js';
import { HttpServer } from '../../src/common/http/server.js';
import { Libprocess } from '../../src/transport/libprocess.js';
import { formatUpid } from '../../src/transport/upid.js';
import { FRAMEWORK, FakeAgent, type Msg, commandTask, getJson, request, scalar, startTestMaster, until } from './helpers.js';

class FakeDriver {
  readonly received: Array<{ name: string; msg: Msg }> = [];
  private taken = 0;
  private constructor(
    readonly server: HttpServer,
    readonly lp: Libprocess,
    readonly actor: ReturnType<Libprocess['spawn']>,
    readonly masterPid: string,
  ) {}

  static async start(masterPid: string): Promise<FakeDriver> {
    const server = new HttpServer({ host: '127.0.0.1', port: 0 });
    const lp = new Libprocess(server, { ip: '127.0.0.1', port: 0 });
    lp.setAddress('127.0.0.1', await server.listen());
    const actor = lp.spawn('scheduler-1234');
    const d = new FakeDriver(server, lp, actor, masterPid);
    for (const name of [
      'FrameworkRegisteredMessage', 'FrameworkReregisteredMessage', 'ResourceOffersMessage', 'RescindResourceOfferMessage',
      'StatusUpdateMessage', 'ExecutorToFrameworkMessage', 'ExitedExecutorMessage', 'LostSlaveMessage', 'FrameworkErrorMessage',
    ]) {
      actor.install(`mesos.internal.${name}`, (_from, msg) => d.received.push({ name, msg: msg as Msg }));
    }
    return d;
  }
  get pid(): string {
    return formatUpid(this.actor.upid);
  }
  call(call: Msg): void {
    this.actor.send(this.masterPid, 'mesos.scheduler.Call', call);
  }
  send(name: string, msg: Msg): void {
    this.actor.send(this.masterPid, `mesos.internal.${name}`, msg);
  }
  async next(name: string): Promise<Msg> {
    let found: Msg | undefined;
    await until(() => {
      for (let i = this.taken; i < this.received.length; i++) {
        if (this.received[i]!.name === name) {
          found = this.received[i]!.msg;
          this.taken = i + 1;
          return true;
        }
      }
      return false;
    }, `driver message ${name}`);
    return found!;
  }
  async stop(): Promise<void> {
    this.lp.close();
    await this.server.close();
  }
}

test('a driver subscribes, gets offers with agent pids, launches, acknowledges; its exit tears it down', async (t) => {
  const c = await startTestMaster();
  const agent = await FakeAgent.start(c.master.pid);
  const driver = await FakeDriver.start(c.master.pid);
  t.after(async () => {
    await driver.stop();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register();
  driver.call({ type: 'SUBSCRIBE', subscribe: { framework_info: FRAMEWORK, force: true } });
  const registered = await driver.next('FrameworkRegisteredMessage');
  const frameworkId = registered.framework_id.value;
  assert.equal(registered.master_info.id, c.master.master.id);

  const offers = await driver.next('ResourceOffersMessage');
  assert.equal(offers.offers.length, 1);
  assert.deepEqual(offers.pids, [agent.pid]);
  const offer = offers.offers[0];

  // The legacy LaunchTasksMessage and the Call API both work.
  driver.send('LaunchTasksMessage', {
    framework_id: { value: frameworkId },
    tasks: [commandTask('t1', agentId, [scalar('cpus', 1)])],
    filters: {},
    offer_ids: [offer.id],
  });
  const run = await agent.next('RunTaskMessage');
  assert.equal(run.task.task_id.value, 't1');

  const uuid = uuidBytes();
  agent.statusUpdate(frameworkId, 't1', 'TASK_RUNNING', uuid);
  const su = await driver.next('StatusUpdateMessage');
  assert.equal(su.pid, agent.pid);
  assert.equal(su.update.framework_id.value, frameworkId);
  assert.equal(su.update.slave_id.value, agentId);
  assert.equal(su.update.status.state, 'TASK_RUNNING');
  assert.ok(Buffer.from(su.update.uuid).equals(uuid));

  driver.call({ type: 'ACKNOWLEDGE', framework_id: { value: frameworkId }, acknowledge: { slave_id: { value: agentId }, task_id: { value: 't1' }, uuid } });
  const ack = await agent.next('StatusUpdateAcknowledgementMessage');
  assert.ok(Buffer.from(ack.uuid).equals(uuid));

  // Reconciliation answers come without a uuid and with an empty acknowledgee pid.
  driver.call({ type: 'RECONCILE', framework_id: { value: frameworkId }, reconcile: { tasks: [{ task_id: { value: 'ghost' }, slave_id: { value: agentId } }] } });
  const rec = await driver.next('StatusUpdateMessage');
  assert.equal(rec.update.status.state, 'TASK_LOST');
  assert.equal(rec.update.uuid, undefined);
  assert.equal(rec.pid, '@0.0.0.0:0');

  // HTTP calls for a driver framework are refused; the state shows its pid.
  const r = await request(c.url, '/api/v1/scheduler', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Mesos-Stream-Id': `pid:${driver.pid}` },
    body: JSON.stringify({ type: 'REVIVE', framework_id: { value: frameworkId } }),
  });
  assert.equal(r.status, 403);
  assert.equal(r.body, 'Framework is not connected via HTTP');
  const state = await getJson(c.url, '/master/state');
  assert.equal(state.frameworks[0].pid, driver.pid);

  // Calls from another pid are ignored.
  const intruder = await FakeDriver.start(c.master.pid);
  t.after(() => intruder.stop());
  intruder.call({ type: 'TEARDOWN', framework_id: { value: frameworkId } });
  await new Promise((res) => setTimeout(res, 50));
  assert.ok(c.master.master.framework(frameworkId));

  // The driver goes away (failover_timeout 0): the framework is removed.
  await driver.stop();
  await agent.next('ShutdownFrameworkMessage');
  assert.equal(c.master.master.framework(frameworkId), undefined);
});

test('driver failover: a new pid re-registering takes over; the old one gets FrameworkErrorMessage', async (t) => {
  const c = await startTestMaster();
  const first = await FakeDriver.start(c.master.pid);
  const second = await FakeDriver.start(c.master.pid);
  t.after(async () => {
    await first.stop();
    await second.stop();
    await c.master.stop();
  });
  first.send('RegisterFrameworkMessage', { framework: { ...FRAMEWORK, failover_timeout: 100 } });
  const id = (await first.next('FrameworkRegisteredMessage')).framework_id.value;
  // A retry from the same pid is answered again, without an error.
  first.call({ type: 'SUBSCRIBE', framework_id: { value: id }, subscribe: { framework_info: { ...FRAMEWORK, failover_timeout: 100, id: { value: id } } } });
  await first.next('FrameworkReregisteredMessage');
  second.send('ReregisterFrameworkMessage', { framework: { ...FRAMEWORK, failover_timeout: 100, id: { value: id } }, failover: true });
  const re = await second.next('FrameworkReregisteredMessage');
  assert.equal(re.framework_id.value, id);
  const err = await first.next('FrameworkErrorMessage');
  assert.equal(err.message, 'Framework failed over');
  assert.equal(first.received.filter((m) => m.name === 'FrameworkErrorMessage').length, 1);
  assert.equal(c.master.master.framework(id)!.pid, second.pid);
});
