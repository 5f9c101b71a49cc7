import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import {
  createContainerizer,
  DEFAULT_PATH,
  describeStatus,
  type Containerizer,
  type LaunchSpec,
} from '../../src/agent/containerizer/index.js';
import { lookupUser } from '../../src/agent/containerizer/users.js';
import { eventually, groupMembers, isAlive, readIf, tempDir } from './helpers.js';

const root = tempDir('meseta-containerizer-');
const clock = new ManualClock();
const runtimeDir = path.join(root, 'runtime');
const containerizer: Containerizer = createContainerizer({ clock, workDir: root, runtimeDir });
let n = 0;

function spec(command: LaunchSpec['command'], env: Record<string, string> = {}): LaunchSpec {
  const id = `c${++n}`;
  const sandbox = path.join(root, 'sandboxes', id);
  fs.mkdirSync(sandbox, { recursive: true });
  return { containerId: id, sandbox, command, env };
}

const runDir = (id: string) => path.join(runtimeDir, 'containers', id);

afterEach(async () => {
  await Promise.all(containerizer.containers().map((id) => containerizer.destroy(id)));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('posix containerizer', () => {
  it('runs a shell command with stdout/stderr in sandbox files and reports its exit code', async () => {
    const s = spec({ value: 'echo out; echo err >&2; pwd; exit 3' });
    const { pid } = await containerizer.launch(s);
    assert.ok(pid > 0);
    const t = await containerizer.wait(s.containerId);
    assert.deepEqual(t, { status: 3 << 8, exitCode: 3, signal: null });
    assert.equal(describeStatus(t.status), 'exited with status 3');
    assert.equal(fs.readFileSync(path.join(s.sandbox, 'stdout'), 'utf8'), `out\n${s.sandbox}\n`);
    assert.equal(fs.readFileSync(path.join(s.sandbox, 'stderr'), 'utf8'), 'err\n');
    // The supervisor recorded the status durably, next to the pids.
    assert.equal(readIf(path.join(runDir(s.containerId), 'status')), '3\n');
    assert.equal(readIf(path.join(runDir(s.containerId), 'pid')), `${pid}\n`);
    const forked = Number(readIf(path.join(runDir(s.containerId), 'forked.pid')));
    assert.ok(forked > 0 && forked !== pid);
    assert.deepEqual(containerizer.containers(), []);
    await containerizer.destroy(s.containerId);
    assert.equal(fs.existsSync(runDir(s.containerId)), false, 'destroy removes the runtime dir');
    // wait() still answers after destroy.
    assert.deepEqual(await containerizer.wait(s.containerId), t);
  });

  it('execs value with arguments, arguments[0] being argv[0]', async () => {
    const s = spec({ shell: false, value: '/bin/cat', arguments: ['kitty', '/proc/self/cmdline'] });
    await containerizer.launch(s);
    assert.equal((await containerizer.wait(s.containerId)).exitCode, 0);
    assert.equal(fs.readFileSync(path.join(s.sandbox, 'stdout'), 'utf8'), 'kitty\0/proc/self/cmdline\0');

    const plain = spec({ shell: false, value: 'pwd' });
    await containerizer.launch(plain);
    assert.equal((await containerizer.wait(plain.containerId)).exitCode, 0);
    assert.equal(fs.readFileSync(path.join(plain.sandbox, 'stdout'), 'utf8'), `${plain.sandbox}\n`);

    const same = spec({ shell: false, value: '/bin/echo', arguments: ['/bin/echo', 'a b', 'c'] });
    await containerizer.launch(same);
    await containerizer.wait(same.containerId);
    assert.equal(fs.readFileSync(path.join(same.sandbox, 'stdout'), 'utf8'), 'a b c\n');
  });

  it('reports a missing executable as exit status 127 with the error on stderr', async () => {
    const s = spec({ shell: false, value: '/nonexistent/program', arguments: ['program'] });
    await containerizer.launch(s);
    const t = await containerizer.wait(s.containerId);
    assert.equal(t.exitCode, 127);
    assert.match(fs.readFileSync(path.join(s.sandbox, 'stderr'), 'utf8'), /nonexistent\/program/);
  });

  it('gives the task exactly the given environment plus PATH, with CommandInfo.environment on top', async () => {
    process.env.MESETA_AGENT_ONLY = 'leak';
    try {
      const s = spec(
        { value: 'env', environment: { variables: [{ name: 'B', value: 'from-command' }, { name: 'S', type: 'SECRET' }] } },
        { A: 'a', B: 'b' },
      );
      await containerizer.launch(s);
      await containerizer.wait(s.containerId);
      const lines = fs.readFileSync(path.join(s.sandbox, 'stdout'), 'utf8').trim().split('\n');
      const env = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      assert.equal(env.A, 'a');
      assert.equal(env.B, 'from-command');
      assert.equal(env.PATH, DEFAULT_PATH);
      assert.equal(env.MESETA_AGENT_ONLY, undefined);
      assert.equal(env.S, undefined);
      assert.equal(env.HOME, undefined);
    } finally {
      delete process.env.MESETA_AGENT_ONLY;
    }
  });

  it('reports a task killed by a signal as that signal', async () => {
    const s = spec({ value: 'kill -USR1 $$; sleep 5' });
    await containerizer.launch(s);
    const t = await containerizer.wait(s.containerId);
    assert.deepEqual(t, { status: 10, exitCode: null, signal: 'SIGUSR1' });
    assert.equal(describeStatus(t.status), 'terminated with signal User defined signal 1');
  });

  it('SIGTERM to the container reaches the task (default disposition) and the supervisor records it', async () => {
    const s = spec({ value: 'exec sleep 1000' });
    await containerizer.launch(s);
    const task = await eventually(() => {
      const pid = Number(readIf(path.join(runDir(s.containerId), 'forked.pid')));
      return pid > 0 && readIf(`/proc/${pid}/cmdline`)?.startsWith('sleep\0') ? pid : undefined;
    }, 'the task to exec');
    // Nothing ignored or caught in the task: the supervisor's traps are not inherited.
    const dispositions = readIf(`/proc/${task}/status`)!.split('\n').filter((l) => /^Sig(Ign|Cgt):/.test(l));
    assert.deepEqual(dispositions, ['SigIgn:\t0000000000000000', 'SigCgt:\t0000000000000000']);
    containerizer.kill(s.containerId, 'SIGTERM');
    const t = await containerizer.wait(s.containerId);
    assert.equal(t.signal, 'SIGTERM');
    assert.equal(readIf(path.join(runDir(s.containerId), 'status')), '143\n');
  });

  it('SIGTERM right after launch is never lost in the supervisor\'s trap window', async () => {
    // The signal may land after the supervisor set its trap and before it forked the task;
    // the containerizer then sends it again once forked.pid appears.
    const specs = Array.from({ length: 12 }, () => spec({ value: 'exec sleep 1000' }));
    for (const s of specs) {
      await containerizer.launch(s);
      containerizer.kill(s.containerId, 'SIGTERM');
    }
    const guard = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a SIGTERM was lost')), 10_000).unref());
    for (const s of specs) {
      const t = await Promise.race([containerizer.wait(s.containerId), guard]);
      assert.equal(t.signal, 'SIGTERM');
    }
  });

  it('a task that handles SIGTERM exits with its own code while the supervisor waits for it', async () => {
    const s = spec({ value: "trap 'echo bye; exit 7' TERM; touch ready; sleep 1000 & wait" });
    await containerizer.launch(s);
    await eventually(() => fs.existsSync(path.join(s.sandbox, 'ready')), 'task start');
    containerizer.kill(s.containerId, 'SIGTERM');
    const t = await containerizer.wait(s.containerId);
    assert.deepEqual(t, { status: 7 << 8, exitCode: 7, signal: null });
    assert.equal(fs.readFileSync(path.join(s.sandbox, 'stdout'), 'utf8'), 'bye\n');
  });

  it('destroy: SIGTERM, then SIGKILL after the grace period on the clock; kills the whole group', async () => {
    const s = spec({ value: "trap '' TERM; sleep 1000 & echo $! > bg.pid; touch ready; wait" });
    const { pid } = await containerizer.launch(s);
    await eventually(() => fs.existsSync(path.join(s.sandbox, 'ready')), 'task start');
    const bg = Number(readIf(path.join(s.sandbox, 'bg.pid')));
    assert.ok(isAlive(bg));
    assert.deepEqual(containerizer.containers(), [s.containerId]);

    const timersBefore = clock.pending();
    const destroyed = containerizer.destroy(s.containerId, 5000);
    assert.equal(clock.pending(), timersBefore + 1, 'the SIGKILL escalation waits on the clock');
    clock.advance(5000);
    await destroyed;
    const t = await containerizer.wait(s.containerId);
    assert.equal(t.signal, 'SIGKILL');
    await eventually(() => groupMembers(pid).length === 0 && !isAlive(bg), 'the group to be gone');
    assert.deepEqual(containerizer.containers(), []);
  });

  it('destroy without a grace period kills at once; a shorter second destroy brings SIGKILL forward', async () => {
    const s = spec({ value: "trap '' TERM; touch ready; while :; do sleep 1; done" });
    await containerizer.launch(s);
    await eventually(() => fs.existsSync(path.join(s.sandbox, 'ready')), 'task start');
    const first = containerizer.destroy(s.containerId, 60_000);
    const second = containerizer.destroy(s.containerId, 10);
    clock.advance(10);
    await Promise.all([first, second]);
    assert.equal((await containerizer.wait(s.containerId)).signal, 'SIGKILL');

    const k = spec({ value: 'touch ready; exec sleep 1000' });
    await containerizer.launch(k);
    await containerizer.destroy(k.containerId);
    assert.equal((await containerizer.wait(k.containerId)).signal, 'SIGKILL');
  });

  it('kills background leftovers when the task exits on its own', async () => {
    const s = spec({ value: '(trap "" TERM; exec sleep 1000) & echo $! > bg.pid; exit 0' });
    const { pid } = await containerizer.launch(s);
    assert.equal((await containerizer.wait(s.containerId)).exitCode, 0);
    const bg = Number(readIf(path.join(s.sandbox, 'bg.pid')));
    await eventually(() => !isAlive(bg) && groupMembers(pid).length === 0, 'leftovers to be killed');
    await containerizer.destroy(s.containerId);
  });

  it('runs the task as the given user when the agent is root', { skip: process.getuid?.() !== 0 }, async () => {
    fs.chmodSync(root, 0o755); // the task's user must be able to reach its sandbox and run dir
    const s = spec({ value: 'id -u > uid; echo $$' });
    fs.chmodSync(s.sandbox, 0o777);
    await containerizer.launch({ ...s, user: 'nobody' });
    assert.equal((await containerizer.wait(s.containerId)).exitCode, 0);
    assert.equal(readIf(path.join(s.sandbox, 'uid'))!.trim(), String(lookupUser('nobody')!.uid));
    assert.equal(readIf(path.join(runDir(s.containerId), 'status')), '0\n', 'the supervisor could record the status');
    await containerizer.destroy(s.containerId);
    await assert.rejects(
      containerizer.launch({ ...spec({ value: 'true' }), user: 'no-such-user-here' }),
      /Failed to get user information for 'no-such-user-here'/,
    );
  });

  it('rejects bad launches with a clear message', async () => {
    const s = spec({ value: 'true' });
    await assert.rejects(
      containerizer.launch({ ...s, sandbox: path.join(root, 'missing') }),
      /Sandbox directory '.*missing' does not exist/,
    );
    await assert.rejects(containerizer.launch({ ...s, command: { shell: true } }), /Shell command is not specified/);
    await assert.rejects(containerizer.launch({ ...s, command: { shell: false } }), /Executable is not specified/);
    const long = spec({ value: 'exec sleep 1000' });
    await containerizer.launch(long);
    await assert.rejects(containerizer.launch(long), /already exists/);
    await assert.rejects(containerizer.wait('nope'), /Unknown container 'nope'/);
    await containerizer.destroy('nope');
    assert.throws(() => createContainerizer({ clock, workDir: root, launcher: 'windows' }), /launcher/);
  });
});
