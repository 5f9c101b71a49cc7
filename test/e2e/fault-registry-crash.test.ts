// Crash consistency of the master's registry (FT-02) on the real bin/mesos-master: 1,000
// emulated agents register at once, the master is kill -9'ed at a random moment of the burst,
// 20 times over the same --work_dir. Every restart must load the registry, and every agent that
// was ever told its id (SlaveRegisteredMessage) must still be admitted there.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmulatedAgents } from './emulated-agents.js';
import { Procs, httpGet } from './procs.js';

const RUNS = 20;
const AGENTS = 1000;
const procs = new Procs();
const agents = new EmulatedAgents();

after(async () => {
  await agents.stop();
  await procs.cleanup();
});

async function startMaster(workDir: string): Promise<{ url: string; pid: string; kill: () => Promise<void> }> {
  const proc = procs.spawn('mesos-master', ['--ip=127.0.0.1', '--port=0', `--work_dir=${workDir}`, '--registry=replicated_log', '--logging_level=WARNING']);
  const url = (await proc.waitForLine(/Master started at (http:\/\/\S+)/))[1]!;
  return {
    url,
    pid: `master@${url.replace(/^http:\/\//, '')}`,
    kill: async () => {
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
  };
}

/** Agent ids the running master's registry holds as admitted. */
async function admittedIds(url: string): Promise<Set<string>> {
  const res = await httpGet(`${url}/registrar(1)/registry`);
  assert.equal(res.status, 200, res.body);
  const registry = res.json();
  return new Set(((registry.slaves?.slaves ?? []) as Array<{ info: { id: { value: string } } }>).map((s) => s.info.id.value));
}

test('kill -9 of the master during 1,000 admissions, 20 times: the registry loads and keeps every acknowledged agent', async () => {
  const workDir = procs.tempDir('regcrash');
  await agents.start(AGENTS);
  let killedMidBurst = 0;
  for (let run = 0; run < RUNS; run++) {
    const master = await startMaster(workDir);
    const admitted = await admittedIds(master.url);
    for (const id of agents.acknowledged.keys()) assert.ok(admitted.has(id), `run ${run}: acknowledged agent ${id} lost from the registry`);
    const before = agents.acknowledged.size;
    // A random point of the burst: after 0..999 acknowledgements, plus a little jitter.
    const target = Math.floor(Math.random() * AGENTS);
    agents.registerAll(master.pid, String(run));
    await agents.waitForAcks(before + target);
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5)));
    await master.kill();
    if (agents.acknowledged.size - before < AGENTS) killedMidBurst++;
  }
  // The last word: one more restart sees every agent that ever got its id.
  const master = await startMaster(workDir);
  const admitted = await admittedIds(master.url);
  for (const id of agents.acknowledged.keys()) assert.ok(admitted.has(id), `acknowledged agent ${id} lost from the registry`);
  assert.ok(agents.acknowledged.size > 0);
  assert.ok(killedMidBurst > 0, 'no run was killed in the middle of a burst');
  await master.kill();
});
