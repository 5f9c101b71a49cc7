// Conformance of the drop-in programs (CMP-13, CMP-14): bin/mesos-local prints the master URL and
// stops cleanly; bin/mesos-execute prints updates in Mesos's words and exits 0 only on
// TASK_FINISHED; bad flags give a clear message and a non-zero exit, never a stack trace.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getJson, until } from './helpers.js';

const BUILD_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const REPO = resolve(BUILD_DIR, BUILD_DIR.includes('/.build/') ? '../..' : '..');
const env = { ...process.env, MESETA_BUILD_DIR: BUILD_DIR };
const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

interface Run { code: number | null; out: string; err: string }
function run(bin: string, args: string[]): Promise<Run> {
  return new Promise((res) => {
    const p = spawn(join(REPO, 'bin', bin), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => res({ code, out, err }));
  });
}

let local: ChildProcess;
let localOut = '';
let masterUrl = '';
let mport = 0;
let localExit: Promise<number | null>;
before(async () => {
  local = spawn(join(REPO, 'bin', 'mesos-local'), ['--num_slaves=2', '--ip=127.0.0.1', '--port=0', `--work_dir=${tmp('conf-local-')}`], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  localExit = new Promise((r) => local.once('exit', (code) => r(code)));
  local.stdout!.on('data', (d) => (localOut += d));
  local.stderr!.resume();
  masterUrl = await until(() => /Master started at (http:\/\/127\.0\.0\.1:(\d+))/.exec(localOut)?.[1], 'master URL on stdout', 20000);
  mport = Number(new URL(masterUrl).port);
  await until(async () => (await getJson(mport, '/master/slaves')).slaves.length === 2, 'two agents', 20000);
});
after(async () => {
  if (local.exitCode === null) local.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('mesos-execute: Mesos output format, exit 0 only for TASK_FINISHED', async () => {
  const common = [`--master=127.0.0.1:${mport}`, '--resources=cpus:0.1;mem:32'];
  const ok = await run('mesos-execute', [...common, '--name=demo', '--command=echo hello']);
  assert.equal(ok.code, 0, ok.err);
  const lines = ok.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^Subscribed with ID \S+-\d{4}$/);
  assert.match(lines[1]!, /^Submitted task 'demo' to agent '\S+-S\d+'$/);
  assert.deepEqual(lines.slice(2), [
    "Received status update TASK_STARTING for task 'demo'",
    '  source: SOURCE_EXECUTOR',
    "Received status update TASK_RUNNING for task 'demo'",
    '  source: SOURCE_EXECUTOR',
    "Received status update TASK_FINISHED for task 'demo'",
    "  message: 'Command exited with status 0'",
    '  source: SOURCE_EXECUTOR',
  ]);

  const failed = await run('mesos-execute', [...common, '--name=bad', '--command=exit 3']);
  assert.equal(failed.code, 1);
  assert.match(failed.out, /Received status update TASK_FAILED for task 'bad'\n {2}message: 'Command exited with status 3'\n {2}source: SOURCE_EXECUTOR\n$/);

  const killed = await run('mesos-execute', [...common, '--name=k', '--command=sleep 30', '--kill_after=100ms']);
  assert.equal(killed.code, 1);
  assert.match(killed.out, /\nAsked to kill task 'k' on agent '\S+-S\d+'\n/);
  assert.match(killed.out, /Received status update TASK_KILLED for task 'k'\n/);
});

test('bad flags: a clear message and a non-zero exit, no stack trace', async () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['mesos-agent', [`--master=127.0.0.1:${mport}`, `--work_dir=${tmp('conf-bad-')}`, '--port=0', '--resources=cpus:abc'], /Bad value for resource 'cpus'/],
    ['mesos-agent', [`--master=127.0.0.1:${mport}`, `--work_dir=${tmp('conf-bad-')}`, '--port=0', '--resources=cpus(:2'], /Bad value for resources/],
    ['mesos-agent', [`--master=127.0.0.1:${mport}`, `--work_dir=${tmp('conf-bad-')}`, '--port=0', '--resources=[{"name":'], /Invalid resources JSON/],
    ['mesos-master', ['--port=0', '--no_such_flag=1'], /unknown flag 'no_such_flag'/],
    ['mesos-execute', ['--name=x', '--command=true'], /'--master' is required/],
    ['mesos-execute', [`--master=127.0.0.1:${mport}`, '--name=x', '--command=true', '--resources=cpus:abc'], /Bad value for resource 'cpus'/],
  ];
  for (const [bin, args, why] of cases) {
    const r = await run(bin, args);
    assert.notEqual(r.code, 0, `${bin} ${args.join(' ')}`);
    assert.match(r.err, why, `${bin} ${args.join(' ')}: ${r.err}`);
    assert.doesNotMatch(r.err, /\n\s+at .+:\d+:\d+\)?\n/, `no stack trace from ${bin}`);
  }
});

test('mesos-local stops on SIGTERM with exit code 0', async () => {
  local.kill('SIGTERM');
  const code = await localExit;
  assert.equal(code, 0);
  await assert.rejects(getJson(mport, '/health'));
});
