// Legacy endpoints (spec 5.1, 5.3): shapes of /state, /state-summary, /frameworks, /slaves, /tasks,
// /redirect, /health, /version, /flags and /metrics/snapshot; /master/x is the same as /x.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAMEWORK, FakeAgent, Scheduler, commandTask, getJson, request, scalar, startTestMaster, until } from './helpers.js';

test('legacy endpoints report frameworks, agents, tasks and offers with Mesos shapes', async (t) => {
  const c = await startTestMaster(['--cluster=test-cluster']);
  const agent = await FakeAgent.start(c.master.pid);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await agent.stop();
    await c.master.stop();
  });
  const agentId = await agent.register('cpus:4;mem:1024;disk:2048;ports:[31000-32000];cpus(ops):1');
  await s.subscribe({ ...FRAMEWORK, capabilities: [{ type: 'MULTI_ROLE' }], roles: ['*', 'ops'], labels: { labels: [{ key: 'k', value: 'v' }] } });
  await s.next('SUBSCRIBED');
  const offers = [];
  while (offers.length < 2) offers.push(...(await s.next('OFFERS')).offers.offers);
  const star = offers.find((o: any) => o.allocation_info.role === '*');
  await s.call({
    type: 'ACCEPT',
    accept: {
      offer_ids: [star.id],
      operations: [{ type: 'LAUNCH', launch: { task_infos: [{ ...commandTask('t1', agentId, [scalar('cpus', 1), scalar('mem', 64)]), labels: { labels: [{ key: 'a', value: 'b' }] } }] } }],
      filters: { refuse_seconds: 1000 },
    },
  });
  await agent.next('RunTaskMessage');

  const state = await getJson(c.url, '/master/state');
  const same = await getJson(c.url, '/state');
  assert.equal(same.id, state.id);
  assert.equal(state.version, '1.11.0');
  assert.equal(state.id, c.master.master.id);
  assert.equal(state.pid, c.master.pid);
  assert.equal(state.leader, c.master.pid);
  assert.equal(state.leader_info.id, state.id);
  assert.equal(state.cluster, 'test-cluster');
  assert.deepEqual(state.capabilities, ['AGENT_UPDATE', 'AGENT_DRAINING', 'QUOTA_V2']);
  assert.equal(state.activated_slaves, 1);
  assert.equal(state.flags.cluster, 'test-cluster');
  assert.equal(typeof state.start_time, 'number');
  assert.deepEqual(state.orphan_tasks, []);

  const slave = state.slaves[0];
  assert.equal(slave.id, agentId);
  assert.equal(slave.pid, agent.pid);
  assert.equal(slave.hostname, 'agent-host');
  assert.deepEqual(slave.resources, { cpus: 5, gpus: 0, mem: 1024, disk: 2048, ports: '[31000-32000]' });
  assert.equal(slave.used_resources.cpus, 1);
  assert.equal(slave.reserved_resources.ops.cpus, 1);
  assert.equal(slave.unreserved_resources.cpus, 4);
  assert.equal(slave.offered_resources.cpus, 1);
  assert.equal(slave.active, true);
  assert.deepEqual(slave.capabilities, ['MULTI_ROLE', 'HIERARCHICAL_ROLE', 'RESERVATION_REFINEMENT']);

  const fw = state.frameworks[0];
  assert.equal(fw.id, s.frameworkId);
  assert.equal(fw.name, 'test-framework');
  assert.equal(fw.pid, undefined);
  assert.deepEqual(fw.roles, ['*', 'ops']);
  assert.equal(fw.role, undefined);
  assert.deepEqual(fw.capabilities, ['MULTI_ROLE']);
  assert.equal(fw.active, true);
  assert.equal(fw.connected, true);
  assert.equal(fw.checkpoint, false);
  assert.equal(fw.failover_timeout, 0);
  assert.deepEqual(fw.labels, [{ key: 'k', value: 'v' }]);
  assert.equal(fw.offers.length, 1);
  assert.equal(fw.offers[0].allocation_info.role, 'ops');
  assert.equal(fw.offers[0].slave_id, agentId);
  const task = fw.tasks[0];
  assert.equal(task.id, 't1');
  assert.equal(task.slave_id, agentId);
  assert.equal(task.framework_id, s.frameworkId);
  assert.equal(task.executor_id, '');
  assert.equal(task.state, 'TASK_STAGING');
  assert.equal(task.role, '*');
  assert.deepEqual(task.resources, { cpus: 1, gpus: 0, mem: 64, disk: 0 });
  assert.deepEqual(task.labels, [{ key: 'a', value: 'b' }]);
  assert.deepEqual(task.statuses, []);

  const summary = await getJson(c.url, '/master/state-summary');
  assert.equal(summary.cluster, 'test-cluster');
  assert.equal(summary.slaves[0].TASK_STAGING, 1);
  assert.equal(summary.slaves[0].TASK_RUNNING, 0);
  assert.deepEqual(summary.slaves[0].framework_ids, [s.frameworkId]);
  assert.equal(summary.frameworks[0].TASK_STAGING, 1);
  assert.deepEqual(summary.frameworks[0].slave_ids, [agentId]);

  const frameworks = await getJson(c.url, `/master/frameworks?framework_id=${s.frameworkId}`);
  assert.equal(frameworks.frameworks.length, 1);
  assert.deepEqual(frameworks.completed_frameworks, []);
  assert.deepEqual(frameworks.unregistered_frameworks, []);
  assert.equal((await getJson(c.url, '/master/frameworks?framework_id=nope')).frameworks.length, 0);
  // /state-summary's framework carries the same leading fields as the full framework view.
  for (const k of ['id', 'name', 'pid', 'used_resources', 'offered_resources', 'capabilities', 'hostname', 'webui_url', 'active', 'connected', 'recovered']) {
    assert.deepEqual(summary.frameworks[0][k], frameworks.frameworks[0][k], k);
  }

  const slaves = await getJson(c.url, '/master/slaves');
  assert.equal(slaves.slaves[0].id, agentId);
  assert.ok(Array.isArray(slaves.slaves[0].unreserved_resources_full));
  assert.ok(Array.isArray(slaves.slaves[0].reserved_resources_full.ops));
  assert.deepEqual(slaves.recovered_slaves, []);

  const tasks = await getJson(c.url, '/master/tasks');
  assert.equal(tasks.tasks.length, 1);
  assert.equal((await getJson(c.url, '/master/tasks?offset=1')).tasks.length, 0);
  assert.equal((await getJson(c.url, '/master/tasks?limit=0')).tasks.length, 0);
  assert.equal((await getJson(c.url, '/master/tasks?task_id=nope')).tasks.length, 0);
  assert.equal((await request(c.url, '/master/tasks?limit=x')).status, 400);
  assert.equal((await request(c.url, '/master/tasks?order=up')).status, 400);

  const metrics = await getJson(c.url, '/metrics/snapshot');
  assert.equal(metrics['master/elected'], 1);
  assert.equal(metrics['master/slaves_active'], 1);
  assert.equal(metrics['master/frameworks_active'], 1);
  assert.equal(metrics['master/frameworks_connected'], 1);
  assert.equal(metrics['master/tasks_staging'], 1);
  assert.equal(metrics['master/cpus_total'], 5);
  assert.equal(metrics['master/cpus_used'], 1);
  assert.equal(metrics['master/cpus_percent'], 0.2);
  assert.equal(metrics['master/outstanding_offers'], 1);
  assert.equal(metrics['master/messages_register_slave'], 1);
  assert.equal(typeof metrics['master/uptime_secs'], 'number');
  assert.ok(metrics['allocator/mesos/allocation_runs'] >= 1);
  const prefix = `master/frameworks/test-framework/${s.frameworkId}/`;
  assert.equal(metrics[`${prefix}subscribed`], 1);
  assert.equal(metrics[`${prefix}calls/subscribe`], 1);
  assert.equal(metrics[`${prefix}calls/accept`], 1);
  assert.equal(metrics[`${prefix}offers/sent`], 2);
  assert.equal(metrics[`${prefix}offers/accepted`], 1);
  assert.equal(metrics[`${prefix}events/offers`] >= 1, true);
  assert.equal(metrics[`${prefix}tasks/active/task_staging`], 1);
  assert.equal(metrics[`${prefix}tasks/terminal/task_finished`], 0);
  assert.equal(metrics[`${prefix}roles/ops/suppressed`], 0);
});

test('POST /master/teardown removes a framework', async (t) => {
  const c = await startTestMaster();
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await c.master.stop();
  });
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  let r = await request(c.url, '/master/teardown', { method: 'POST', headers: form, body: '' });
  assert.equal(r.status, 400);
  assert.equal(r.body, "Missing 'frameworkId' query parameter in the request body");
  r = await request(c.url, '/master/teardown', { method: 'POST', headers: form, body: 'frameworkId=nope' });
  assert.equal(r.status, 400);
  assert.equal(r.body, 'No framework found with specified ID');
  r = await request(c.url, '/master/teardown', { method: 'POST', headers: form, body: `frameworkId=${s.frameworkId}` });
  assert.equal(r.status, 200);
  await until(() => s.closed, 'stream closed');
  assert.equal(c.master.master.completedFrameworks[0]!.id, s.frameworkId);
  assert.equal((await request(c.url, '/master/teardown')).status, 405);
});

test('/master/roles and /master/weights', async (t) => {
  const c = await startTestMaster(['--weights=ops=2.5']);
  const s = new Scheduler(c.url);
  t.after(async () => {
    s.disconnect();
    await c.master.stop();
  });
  await s.subscribe(FRAMEWORK);
  await s.next('SUBSCRIBED');
  assert.deepEqual(await getJson(c.url, '/master/weights'), [{ role: 'ops', weight: 2.5 }]);
  let r = await request(c.url, '/master/weights', { method: 'PUT', body: JSON.stringify([{ role: 'dev', weight: 4 }]) });
  assert.equal(r.status, 200);
  r = await request(c.url, '/master/weights', { method: 'PUT', body: '[{"role": "dev", "weight": 0}]' });
  assert.equal(r.status, 400);
  r = await request(c.url, '/master/weights', { method: 'PUT', body: 'nope' });
  assert.equal(r.status, 400);
  const roles = (await getJson(c.url, '/master/roles')).roles;
  assert.deepEqual(roles.map((x: any) => x.name), ['*', 'dev', 'ops']);
  assert.deepEqual(roles[0].frameworks, [s.frameworkId]);
  assert.equal(roles[1].weight, 4);
  assert.equal(roles[0].allocated.cpus, 0);
});

test('health, version, flags, redirect, jsonp and unknown paths', async (t) => {
  const c = await startTestMaster(['--allocation_interval=2secs']);
  t.after(() => c.master.stop());
  const health = await request(c.url, '/master/health');
  assert.equal(health.status, 200);
  assert.equal(health.body, '');
  const version = await getJson(c.url, '/version');
  assert.equal(version.version, '1.11.0');
  assert.equal(typeof version.build_time, 'number');
  const flags = await getJson(c.url, '/master/flags');
  assert.equal(flags.flags.allocation_interval, '2secs');
  assert.equal(flags.flags.agent_ping_timeout, '15secs');
  assert.equal(flags.flags.port, '0');
  const redirect = await request(c.url, '/master/redirect');
  assert.equal(redirect.status, 307);
  assert.equal(redirect.headers.location, `//${c.master.master.info.hostname}:${c.master.port}`);
  const jsonp = await request(c.url, '/master/state?jsonp=cb');
  assert.match(jsonp.body, /^cb\(\{/);
  assert.equal((await request(c.url, '/master/redirect/x')).status, 404);
  assert.equal((await request(c.url, '/master/state', { method: 'POST' })).status, 405);
});

test('startMaster rejects unknown flags and accepts every Mesos master flag name', async () => {
  const { startMaster, MASTER_FLAGS } = await import('../../src/master/main.js');
  await assert.rejects(startMaster(['--ip=127.0.0.1', '--port=0', '--no_such_flag=1'], { env: {} }), /unknown flag 'no_such_flag'/);
  for (const name of ['zk', 'quorum', 'registry', 'work_dir', 'offer_timeout', 'max_completed_frameworks', 'authenticate_http_readonly', 'webui_dir', 'weights', 'roles']) {
    assert.ok(MASTER_FLAGS.some((f) => f.name === name), name);
  }
  // The default registry (replicated_log) needs --work_dir, as in Mesos.
  await assert.rejects(startMaster(['--ip=127.0.0.1', '--port=0'], { env: {} }), /--work_dir needed for replicated log based registry/);
  const m = await startMaster(['--ip=127.0.0.1', '--port=0', '--registry=in_memory', '--zk_session_timeout=20secs', '--webui_dir=/x'], { env: { MESOS_CLUSTER: 'from-env' } });
  try {
    assert.ok(m.port > 0);
    assert.equal(m.url, `http://127.0.0.1:${m.port}`);
    assert.equal(m.pid, `master@127.0.0.1:${m.port}`);
    const flags = await getJson(m.url, '/flags');
    assert.equal(flags.flags.cluster, 'from-env');
  } finally {
    await m.stop();
  }
});
