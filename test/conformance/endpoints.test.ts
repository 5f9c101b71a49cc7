// Conformance of the legacy HTTP endpoints (spec 5.1-5.3) of a real master and agent: paths and
// aliases, status codes, Content-Type, ?jsonp=, top-level keys and their JSON types.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { type Cluster, getJson, json, request, startCluster, subscribe, until } from './helpers.js';

let c: Cluster;
before(async () => {
  c = await startCluster();
  await until(async () => (await getJson(c.mport, '/master/slaves')).slaves.length === 1, 'agent registration');
});
after(async () => c.stop());

function types(obj: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v]));
}
function assertTypes(obj: Record<string, unknown>, expected: Record<string, string>, what: string): void {
  const actual = types(obj);
  for (const [k, t] of Object.entries(expected)) assert.equal(actual[k], t, `${what}.${k}`);
}

test('master: /master/state is /state, .json names are gone, JSON and jsonp framing', async () => {
  const [a, b] = await Promise.all([request(c.mport, '/master/state'), request(c.mport, '/state')]);
  assert.equal(a.status, 200);
  assert.equal(a.headers['content-type'], 'application/json');
  assert.ok(a.headers['content-length'] !== undefined);
  assert.deepEqual(JSON.parse(a.text), JSON.parse(b.text));
  for (const gone of ['/master/state.json', '/state.json', '/master/tasks.json']) {
    assert.equal((await request(c.mport, gone)).status, 404, gone);
  }
  const p = await request(c.mport, '/master/state?jsonp=cb');
  assert.equal(p.status, 200);
  assert.equal(p.headers['content-type'], 'text/javascript');
  assert.match(p.text, /^cb\(\{.*\}\);$/s);
  assert.deepEqual(JSON.parse(p.text.slice(3, -2)).id, JSON.parse(a.text).id);

  for (const [port, path] of [[c.mport, '/master/slaves'], [c.mport, '/metrics/snapshot'], [c.aport, '/state'], [c.aport, '/monitor/statistics']] as const) {
    const j = await request(port, `${path}?jsonp=f`);
    assert.equal(j.headers['content-type'], 'text/javascript', path);
    assert.match(j.text, /^f\(.*\);$/s, path);
  }

  const st = JSON.parse(a.text);
  assertTypes(st, {
    version: 'string', build_date: 'string', build_time: 'number', build_user: 'string', start_time: 'number',
    elected_time: 'number', id: 'string', pid: 'string', hostname: 'string', capabilities: 'array',
    activated_slaves: 'number', deactivated_slaves: 'number', unreachable_slaves: 'number', leader: 'string',
    leader_info: 'object', flags: 'object', slaves: 'array', recovered_slaves: 'array', frameworks: 'array',
    completed_frameworks: 'array', orphan_tasks: 'array', unregistered_frameworks: 'array',
  }, 'state');
  assert.equal(st.pid, `master@127.0.0.1:${c.mport}`);
  assert.equal(st.leader, st.pid);
  assert.equal(st.hostname, 'master.test');
  assert.equal(st.activated_slaves, 1);
  assert.equal(st.flags.port, '0', 'flag values are strings');
  const slave = st.slaves[0];
  assertTypes(slave, {
    id: 'string', hostname: 'string', port: 'number', attributes: 'object', pid: 'string', registered_time: 'number',
    resources: 'object', used_resources: 'object', offered_resources: 'object', reserved_resources: 'object',
    unreserved_resources: 'object', active: 'boolean', deactivated: 'boolean', version: 'string', capabilities: 'array',
  }, 'slave');
  assert.equal(slave.pid, `slave(1)@127.0.0.1:${c.aport}`);
  assert.deepEqual(slave.attributes, { rack: 'r1' });
  assert.deepEqual(slave.resources, { cpus: 2, gpus: 0, mem: 1024, disk: 2048, ports: '[31000-31100]' });
});

test('master: /health, /version, /flags, /metrics/snapshot, /master/redirect', async () => {
  for (const path of ['/health', '/master/health']) {
    const r = await request(c.mport, path);
    assert.equal(r.status, 200, path);
    assert.equal(r.body.length, 0, path);
  }
  const v = await getJson(c.mport, '/version');
  assertTypes(v, { version: 'string', build_date: 'string', build_time: 'number', build_user: 'string' }, 'version');
  assert.match(v.version, /^\d+\.\d+\.\d+/);
  const f = await getJson(c.mport, '/flags');
  assert.deepEqual(Object.keys(f), ['flags']);
  assert.deepEqual(f, await getJson(c.mport, '/master/flags'));
  for (const value of Object.values(f.flags)) assert.equal(typeof value, 'string');

  const m = await getJson(c.mport, '/metrics/snapshot');
  for (const [k, value] of Object.entries(m)) assert.equal(typeof value, 'number', k);
  assert.equal(m['master/elected'], 1);
  assert.equal(m['master/slaves_active'], 1);
  assert.equal(m['master/slaves_connected'], 1);
  assert.equal(m['master/cpus_total'], 2);
  assert.ok(m['master/uptime_secs'] > 0);
  for (const k of ['master/tasks_running', 'master/tasks_finished', 'master/frameworks_active', 'master/outstanding_offers']) {
    assert.equal(typeof m[k], 'number', k);
  }

  for (const path of ['/master/redirect', '/redirect']) {
    const r = await request(c.mport, path);
    assert.equal(r.status, 307, path);
    assert.equal(r.headers.location, `//master.test:${c.mport}`, path);
  }
  assert.equal((await request(c.mport, '/master/redirect/more')).status, 404, 'no redirect loops');
});

test('master frameworks/slaves/tasks/state-summary and agent state/files for a finished command task', async () => {
  const s = await subscribe(c.mport, { user: 'conf', name: 'endpoints' });
  try {
    const offer = (await s.stream.next((e) => e.type === 'OFFERS', 'OFFERS')).offers.offers[0];
    const agentId = offer.agent_id.value;
    const r = await request(c.mport, '/api/v1/scheduler', json({
      type: 'ACCEPT', framework_id: { value: s.frameworkId },
      accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [{
        name: 'hello', task_id: { value: 'hello' }, agent_id: { value: agentId },
        resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 64 } }],
        command: { value: 'echo hello' },
      }] } }] },
    }, { 'Mesos-Stream-Id': s.streamId }));
    assert.equal(r.status, 202);
    // Without acknowledgements the agent holds the later updates, but its /state knows the end.
    await until(async () => {
      const st = await getJson(c.aport, '/state');
      const fw = st.frameworks.find((x: any) => x.id === s.frameworkId) ?? st.completed_frameworks.find((x: any) => x.id === s.frameworkId);
      const ex = fw && [...fw.executors, ...fw.completed_executors].find((e: any) => e.id === 'hello');
      return ex && [...ex.tasks, ...ex.completed_tasks].some((t: any) => t.state === 'TASK_FINISHED');
    }, 'hello finished on the agent');

    const fws = await getJson(c.mport, '/master/frameworks');
    assert.deepEqual(Object.keys(fws).sort(), ['completed_frameworks', 'frameworks', 'unregistered_frameworks']);
    const fw = fws.frameworks.find((x: any) => x.id === s.frameworkId);
    assertTypes(fw, {
      id: 'string', name: 'string', used_resources: 'object', offered_resources: 'object', capabilities: 'array',
      hostname: 'string', webui_url: 'string', active: 'boolean', connected: 'boolean', recovered: 'boolean', user: 'string',
      failover_timeout: 'number', checkpoint: 'boolean', registered_time: 'number', resources: 'object', role: 'string',
      tasks: 'array', unreachable_tasks: 'array', completed_tasks: 'array', offers: 'array', executors: 'array',
    }, 'framework');
    assert.deepEqual((await getJson(c.mport, `/master/frameworks?framework_id=${s.frameworkId}`)).frameworks.map((x: any) => x.id), [s.frameworkId]);

    const t = fw.tasks.find((x: any) => x.id === 'hello');
    assertTypes(t, {
      id: 'string', name: 'string', framework_id: 'string', executor_id: 'string', slave_id: 'string', state: 'string',
      resources: 'object', role: 'string', statuses: 'array',
    }, 'task');
    assert.equal(t.slave_id, agentId);
    assert.deepEqual(t.resources, { cpus: 0.5, gpus: 0, mem: 64, disk: 0 });
    for (const st of t.statuses) assertTypes(st, { state: 'string', timestamp: 'number' }, 'status');

    const tasks = await getJson(c.mport, `/master/tasks?framework_id=${s.frameworkId}&task_id=hello`);
    assert.deepEqual(tasks.tasks.map((x: any) => x.id), ['hello']);
    const slaves = await getJson(c.mport, `/master/slaves?slave_id=${agentId}`);
    assert.deepEqual(Object.keys(slaves).sort(), ['recovered_slaves', 'slaves']);
    for (const k of ['reserved_resources_full', 'unreserved_resources_full', 'used_resources_full', 'offered_resources_full']) {
      assert.ok(k in slaves.slaves[0], k);
    }
    const summary = await getJson(c.mport, '/master/state-summary');
    assertTypes(summary, { hostname: 'string', slaves: 'array', frameworks: 'array' }, 'summary');
    const sumSlave = summary.slaves[0];
    for (const k of ['TASK_STAGING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_LOST']) assert.equal(typeof sumSlave[k], 'number', k);
    assert.deepEqual(sumSlave.framework_ids, [s.frameworkId]);
    assert.deepEqual(summary.frameworks.find((x: any) => x.id === s.frameworkId).slave_ids, [agentId]);

    // Agent /state: same under /slave(1)/state; top-level keys and types.
    const ast = await getJson(c.aport, '/slave(1)/state');
    assertTypes(ast, {
      version: 'string', build_date: 'string', build_time: 'number', build_user: 'string', start_time: 'number', id: 'string',
      pid: 'string', hostname: 'string', capabilities: 'array', resources: 'object', reserved_resources: 'object',
      unreserved_resources: 'object', reserved_resources_full: 'object', unreserved_resources_full: 'array',
      reserved_resources_allocated: 'object', unreserved_resources_allocated: 'object', resource_providers: 'array',
      attributes: 'object', flags: 'object', frameworks: 'array', completed_frameworks: 'array',
    }, 'agent state');
    assert.equal(ast.id, agentId);
    assert.equal(ast.pid, `slave(1)@127.0.0.1:${c.aport}`);
    assert.equal((await request(c.aport, '/slave%281%29/state')).status, 200, 'percent-encoded delegate path');
    const afw = [...ast.frameworks, ...ast.completed_frameworks].find((x: any) => x.id === s.frameworkId);
    assertTypes(afw, { id: 'string', name: 'string', user: 'string', failover_timeout: 'number', checkpoint: 'boolean', hostname: 'string', executors: 'array', completed_executors: 'array' }, 'agent framework');
    const ex = [...afw.executors, ...afw.completed_executors].find((e: any) => e.id === 'hello');
    assert.equal(ex.name, "Command Executor (Task: hello) (Command: sh -c 'echo hello')");

    // Agent /flags and /health, also under /slave(1).
    assert.deepEqual(await getJson(c.aport, '/flags'), await getJson(c.aport, '/slave(1)/flags'));
    assert.equal((await request(c.aport, '/slave(1)/health')).status, 200);

    // /files: the sandbox under its real path and under the /frameworks/.../runs/latest alias.
    const latest = `/frameworks/${s.frameworkId}/executors/hello/runs/latest`;
    for (const dir of [ex.directory, latest]) {
      const listing = await getJson(c.aport, `/files/browse?path=${encodeURIComponent(dir)}`);
      const stdout = listing.find((e: any) => e.path === `${dir}/stdout`);
      assertTypes(stdout, { path: 'string', nlink: 'number', size: 'number', mtime: 'number', mode: 'string', uid: 'string', gid: 'string' }, 'file');
      assert.match(stdout.mode, /^-[rwx-]{9}$/);
      const read = await getJson(c.aport, `/files/read?path=${encodeURIComponent(`${dir}/stdout`)}&offset=0`);
      assert.equal(read.offset, 0);
      assert.match(read.data, /hello\n/);
      const size = await getJson(c.aport, `/files/read?path=${encodeURIComponent(`${dir}/stdout`)}`);
      assert.deepEqual(size, { data: '', offset: Buffer.byteLength(read.data) });
      const dl = await request(c.aport, `/files/download?path=${encodeURIComponent(`${dir}/stdout`)}`);
      assert.equal(dl.status, 200);
      assert.equal(dl.text, read.data);
    }
    assert.equal((await request(c.aport, '/files/browse?path=/no/such/dir')).status, 404);
    assert.equal((await request(c.aport, '/files/read')).status, 400, 'path is required');
  } finally {
    s.stream.close();
  }
});
