// Crash consistency (FT-02): kill -9 a process admitting 1,000 agents through the
// registrar at random moments, 20 times over the same work dir; after every
// kill the registry must load and hold every agent that was acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalDiskStore, RegistryModel } from '../../src/master/registry/index.js';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-writer.js');
const RUNS = 20;
const AGENTS = 1000;

interface Run {
  admitted: string[];
  finished: boolean;
  signal: NodeJS.Signals | null;
}

/**
 * Runs the writer and SIGKILLs it once `kill.lines` admissions were printed, or `kill.ms` after
 * spawning it (which may land in start-up or recovery), or not at all if it finishes first.
 */
function runWriter(dir: string, tag: string, kill: { lines?: number; ms?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, tag, String(AGENTS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let stderr = '';
    const admitted: string[] = [];
    let finished = false;
    let killed = false;
    const timer = kill.ms === undefined ? undefined : setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, kill.ms);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!; // a partial line was not fully printed: not acknowledged
      for (const line of lines) {
        if (line.startsWith('admitted ')) admitted.push(line.slice('admitted '.length));
        if (line === 'done') finished = true;
      }
      if (!killed && kill.lines !== undefined && admitted.length >= kill.lines) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`writer exited ${code}: ${stderr}`));
      else resolve({ admitted, finished, signal });
    });
  });
}

test(`kill -9 during ${AGENTS} admissions, ${RUNS} times: the registry always loads and keeps every acknowledged agent`, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-crash-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const acknowledged = new Set<string>();
  let lastVersion = 0;
  let killedMidway = 0;
  for (let run = 0; run < RUNS; run++) {
    // Mostly random points in the burst; every fourth run at a random time from spawn, which
    // can hit start-up and recovery (the recovery store of the new master info) too.
    const kill = run % 4 === 0 ? { ms: Math.floor(Math.random() * 400) } : { lines: Math.floor(Math.random() * AGENTS) };
    const result = await runWriter(dir, `run${run}`, kill);
    if (!result.finished) killedMidway++;
    for (const id of result.admitted) acknowledged.add(id);

    const doc = await new LocalDiskStore(dir, { warn: (m) => assert.fail(`unexpected damage: ${m}`) }).fetch();
    if (!doc) {
      assert.equal(acknowledged.size, 0, 'nothing stored although agents were acknowledged');
      continue;
    }
    assert.ok(doc.version >= lastVersion, `version went back from ${lastVersion} to ${doc.version}`);
    lastVersion = doc.version;
    const model = RegistryModel.decode(doc.data);
    const missing = [...acknowledged].filter((id) => !model.admitted.has(id));
    assert.deepEqual(missing, [], `run ${run}: acknowledged agents lost`);
    // Nothing but the writer's agents.
    for (const id of model.admitted.keys()) assert.match(id, /^run\d+-S\d+$/);
  }
  assert.ok(killedMidway >= RUNS / 2, `only ${killedMidway} runs were killed before finishing`);
  assert.ok(acknowledged.size > 0);
});
