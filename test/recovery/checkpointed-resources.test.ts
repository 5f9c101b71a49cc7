// Checkpointed resources (FT-05): the reservations and persistent volumes the master tells an agent
// about are written to meta/resources, volume directories follow them, and a restarted agent
// registers with them again, so they are still offered after an agent restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { userInfo } from 'node:os';
import { startAgent } from '../../src/agent/main.js';
import { RESOURCE, ResourcesCheckpoint } from '../../src/agent/checkpoint/resources.js';
import { frameRecord, parseRecords, writeFileAtomic } from '../../src/agent/checkpoint/io.js';
import { Resources } from '../../src/resources/index.js';
import { Cluster } from '../cluster/harness.js';

type Msg = Record<string, any>;
const FRAMEWORK = { user: userInfo().username, name: 'reserver', roles: ['r'], capabilities: [{ type: 'MULTI_ROLE' }] };
const AGENT_RESOURCES = 'cpus:4;mem:2048;disk:4096';

const alloc = { allocation_info: { role: 'r' } };
const dyn = (name: string, value: number, extra: Msg = {}) => ({ name, type: 'SCALAR', scalar: { value }, role: 'r', reservation: {}, ...alloc, ...extra });
const volume = (id: string, value: number) => dyn('disk', value, { disk: { persistence: { id }, volume: { container_path: 'data', mode: 'RW' } } });

const hasVolume = (offer: Msg, id: string) => (offer.resources as Msg[]).some((r) => r.disk?.persistence?.id === id);
const readInfo = (workDir: string) => parseRecords(RESOURCE, fs.readFileSync(path.join(workDir, 'meta/resources/resources.info'))).records;

test('reservations and a persistent volume survive an agent restart: checkpointed, re-registered, offered again', async (t) => {
  const cluster = await Cluster.start({ frameworkInfo: FRAMEWORK, resources: AGENT_RESOURCES });
  t.after(() => cluster.stop());
  const first = cluster.agents[0]!;
  const workDir = first.agent.config.workDir;
  let offer = (await cluster.awaitEvent((e) => e.type === 'OFFERS')).offers.offers[0];
  const agentId = offer.agent_id.value as string;

  const accepted = await cluster.scheduler.accept(
    [offer.id],
    [
      { type: 'RESERVE', reserve: { resources: [dyn('cpus', 1), dyn('disk', 100)] } },
      { type: 'CREATE', create: { volumes: [volume('v1', 100)] } },
    ],
    { refuse_seconds: 0 },
  );
  assert.equal(accepted.status, 202);
  const volumeDir = path.join(workDir, 'volumes/roles/r/v1');
  for (let i = 0; !fs.existsSync(volumeDir); i++) {
    assert.ok(i < 200, 'the volume directory was never created');
    await cluster.step();
  }
  const info = Resources.fromProto(readInfo(workDir));
  assert.equal(info.reserved('r').scalar('cpus'), 1, 'resources.info holds the reservation');
  assert.equal(info.persistentVolumes().scalar('disk'), 100, 'resources.info holds the volume');
  assert.equal(fs.existsSync(path.join(workDir, 'meta/resources/resources.target')), false, 'the target was committed');
  fs.writeFileSync(path.join(volumeDir, 'kept'), 'data');

  await first.crash();
  const second = await startAgent(
    ['--master=127.0.0.1:' + cluster.master.port, '--ip=127.0.0.1', `--port=${first.port}`, `--work_dir=${workDir}`, `--resources=${AGENT_RESOURCES}`],
    { env: {}, clock: cluster.clock },
  );
  cluster.agents[0] = second;
  assert.equal(second.agent.agentId, agentId, 'the agent keeps its id');
  assert.equal(Resources.fromProto(second.agent.checkpointedResources).persistentVolumes().scalar('disk'), 100, 'the agent recovered its volume');

  // After the re-registration the reserved cpus and the volume are offered again.
  offer = (
    await cluster.awaitEvent((e) => e.type === 'OFFERS' && e.offers.offers.some((o: Msg) => hasVolume(o, 'v1')), { timeoutMs: 20_000, stepMs: 1000 })
  ).offers.offers.find((o: Msg) => hasVolume(o, 'v1'));
  const offered = Resources.fromProto(offer.resources);
  assert.equal(offered.reserved('r').scalar('cpus'), 1);
  assert.equal(offered.persistentVolumes().scalar('disk'), 100);
  const state = await cluster.getJson(`${cluster.masterUrl}/master/state`);
  assert.equal(state.slaves[0].reserved_resources.r.cpus, 1);
  assert.equal(fs.readFileSync(path.join(volumeDir, 'kept'), 'utf8'), 'data', 'the volume keeps its data');
  // The agent's own /state reports its total with the reservation (as Mesos's agent does).
  const agentState = await cluster.getJson(`${second.url}/state`);
  assert.equal(agentState.reserved_resources.r.cpus, 1);
  assert.equal(agentState.reserved_resources.r.disk, 100);
  assert.equal(agentState.unreserved_resources.cpus, 3);
  assert.equal(agentState.resources.disk, 4096);

  // DESTROY removes the volume's directory; UNRESERVE empties the checkpoint.
  await cluster.scheduler.accept(
    [offer.id],
    [
      { type: 'DESTROY', destroy: { volumes: [volume('v1', 100)] } },
      { type: 'UNRESERVE', unreserve: { resources: [dyn('cpus', 1), dyn('disk', 100)] } },
    ],
    { refuse_seconds: 0 },
  );
  // Bounded by wall time, not by a step count: a loaded machine needs more steps for the same work.
  const deadline = Date.now() + 20_000;
  while (readInfo(workDir).length > 0) {
    assert.ok(Date.now() < deadline, 'the checkpoint never emptied');
    await cluster.step();
  }
  assert.equal(fs.existsSync(volumeDir), false, 'DESTROY removed the volume directory');
  assert.deepEqual(second.agent.checkpointedResources, []);
});

test('a resources.target left by a crash mid-update is completed on recovery', () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-ckres-'));
  try {
    const v1 = { name: 'disk', type: 'SCALAR', scalar: { value: 10 }, reservations: [{ type: 'DYNAMIC', role: 'a' }], disk: { persistence: { id: 'v1' }, volume: { container_path: 'x', mode: 'RW' } } };
    const v2 = { ...v1, disk: { persistence: { id: 'v2' }, volume: { container_path: 'y', mode: 'RW' } } };
    const first = new ResourcesCheckpoint(workDir);
    first.recover();
    first.update([v1]);
    assert.ok(fs.existsSync(path.join(workDir, 'volumes/roles/a/v1')));
    // The agent died after writing the target (v1 destroyed, v2 created) but before applying it.
    writeFileAtomic(path.join(workDir, 'meta/resources/resources.target'), frameRecord(RESOURCE, v2));

    const again = new ResourcesCheckpoint(workDir);
    const recovered = again.recover();
    assert.deepEqual(recovered.map((r) => r.disk.persistence.id), ['v2']);
    assert.equal(fs.existsSync(path.join(workDir, 'volumes/roles/a/v1')), false);
    assert.ok(fs.existsSync(path.join(workDir, 'volumes/roles/a/v2')));
    assert.equal(fs.existsSync(path.join(workDir, 'meta/resources/resources.target')), false);
    assert.deepEqual(readInfo(workDir).map((r) => r.disk.persistence.id), ['v2']);

    // A torn (corrupt) checkpoint is an error, never silently an empty set.
    fs.writeFileSync(path.join(workDir, 'meta/resources/resources.info'), Buffer.from([9, 0, 0, 0, 1]));
    assert.throws(() => new ResourcesCheckpoint(workDir).recover(), /Malformed checkpoint/);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
});

test('an agent restarted with --resources that cannot hold its checkpointed reservation does not start', async () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-ckres-'));
  try {
    const reserved = { name: 'cpus', type: 'SCALAR', scalar: { value: 8 }, reservations: [{ type: 'DYNAMIC', role: 'r' }] };
    const checkpoint = new ResourcesCheckpoint(workDir);
    checkpoint.recover();
    checkpoint.update([reserved]);
    await assert.rejects(
      startAgent(['--master=127.0.0.1:5050', '--ip=127.0.0.1', '--port=0', `--work_dir=${workDir}`, '--resources=cpus:4;mem:256;disk:256'], { env: {} }),
      /Incompatible agent resources: Checkpointed resource cpus\(r\)/,
    );
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
});
