// Agent registration -> OFFERS -> ACCEPT/LAUNCH -> RunTaskMessage -> status updates -> ACKNOWLEDGE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuidBytes } from '../../src/common/ids.js';
import { FRAMEWORK, FakeAgent, Scheduler, commandTask, getJson, scalar, startTestMaster, until } from './helpers.js';

for (const encoding of ['json', 'protobuf'] as const) {
  test(`launch path over ${encoding}: offer, RunTaskMessage, update with uuid, ack forwarded`, async (t) => {
    const c = await startTestMaster();
    const agent = await FakeAgent.start(c.master.pid);
    const sched = new Scheduler(c.url, encoding);
    t.after(async () => {
      sched.disconnect();
      await agent.stop();
      await c.master.stop();
    });

    const agentId = await agent.register();
    assert.match(agentId, new RegExp(`^${c.master.master.id}-S0$`));
    const registered = agent.received.find((r) => r.name === 'SlaveRegisteredMessage')!.msg;
    assert.equal(registered.connection.total_ping_timeout_seconds, 75);

    await sched.subscribe(FRAMEWORK);
    assert.equal(sched.status, 200);
    assert.equal(sched.headers['content-type'], encoding === 'json' ? 'application/json' : 'application/x-protobuf');
    assert.ok(sched.streamId);
    const subscribed = await sched.next('SUBSCRIBED');
    assert.equal(subscribed.subscribed.framework_id.value, `${c.master.master.id}-0000`);
    assert.equal(subscribed.subscribed.heartbeat_interval_seconds, 15);
    assert.equal(subscribed.subscribed.master_info.id, c.master.master.id);
    assert.equal(subscribed.subscribed.master_info.ip, 16777343);
    assert.equal(sched.events[0]!.type, 'SUBSCRIBED');

    const offersEvent = await sched.next('OFFERS');
    const offers = offersEvent.offers.offers;
    assert.equal(offers.length, 1);
    const offer = offers[0];
    assert.equal(offer.agent_id.value, agentId);
    assert.equal(offer.framework_id.value, sched.frameworkId);
    assert.match(offer.id.value, new RegExp(`^${c.master.master.id}-O\\d+$`));
    assert.equal(offer.hostname, 'agent-host');
    assert.equal(offer.url.scheme, 'http');
    assert.equal(offer.url.path, '/slave(1)');
    assert.equal(offer.url.address.ip, '127.0.0.1');
    assert.equal(offer.allocation_info.role, '*');
    const cpus = offer.resources.find((r: any) => r.name === 'cpus');
    assert.equal(cpus.scalar.value, 4);
    assert.equal(cpus.role, '*');

    const accept = await sched.call({
      type: 'ACCEPT',
      accept: {
        offer_ids: [offer.id],
        operations: [{ type: 'LAUNCH', launch: { task_infos: [commandTask('t1', agentId, [scalar('cpus', 1), scalar('mem', 128)])] } }],
      },
    });
    assert.equal(accept.status, 202);
    assert.equal(accept.body, '');

    const run = await agent.next('RunTaskMessage');
    assert.equal(run.task.task_id.value, 't1');
    assert.equal(run.framework.id.value, sched.frameworkId);
    assert.equal(run.framework.name, 'test-framework');
    assert.equal(run.launch_executor, true);
    assert.equal(run.pid, '@0.0.0.0:0');
    assert.ok(run.task.resources.every((r: any) => r.allocation_info?.role === '*'));

    let state = await getJson(c.url, '/master/state');
    assert.equal(state.frameworks[0].tasks[0].state, 'TASK_STAGING');
    assert.equal(state.frameworks[0].used_resources.cpus, 1);

    const uuid = uuidBytes();
    agent.statusUpdate(sched.frameworkId!, 't1', 'TASK_RUNNING', uuid);
    const update = await sched.next('UPDATE');
    assert.equal(update.update.status.state, 'TASK_RUNNING');
    assert.ok(Buffer.from(update.update.status.uuid).equals(uuid));
    assert.equal(update.update.status.agent_id.value, agentId);

    const ack = await sched.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: agentId }, task_id: { value: 't1' }, uuid } });
    assert.equal(ack.status, 202);
    const fwdAck = await agent.next('StatusUpdateAcknowledgementMessage');
    assert.equal(fwdAck.task_id.value, 't1');
    assert.equal(fwdAck.framework_id.value, sched.frameworkId);
    assert.ok(Buffer.from(fwdAck.uuid).equals(uuid));

    // Terminal update: resources released at once, task completed only after the ack.
    const uuid2 = uuidBytes();
    agent.statusUpdate(sched.frameworkId!, 't1', 'TASK_FINISHED', uuid2);
    await sched.next('UPDATE', (e) => e.update.status.state === 'TASK_FINISHED');
    await until(() => c.master.master.framework(sched.frameworkId)!.tasks.get('t1')?.state === 'TASK_FINISHED', 'finished');
    state = await getJson(c.url, '/master/state');
    assert.equal(state.frameworks[0].tasks.length, 1);
    assert.equal(state.frameworks[0].used_resources.cpus, 0);
    await sched.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: agentId }, task_id: { value: 't1' }, uuid: uuid2 } });
    await agent.next('StatusUpdateAcknowledgementMessage');
    state = await getJson(c.url, '/master/state');
    assert.equal(state.frameworks[0].tasks.length, 0);
    assert.equal(state.frameworks[0].completed_tasks[0].state, 'TASK_FINISHED');
    const metrics = await getJson(c.url, '/metrics/snapshot');
    assert.equal(metrics['master/tasks_finished'], 1);
    assert.equal(metrics['master/valid_status_updates'], 2);
  });
}
