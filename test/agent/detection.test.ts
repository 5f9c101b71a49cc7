// Following the leading master from an agent's --master value (FT-01): which values need a
// detector, the pid of a detected MasterInfo, and a file:// master reaching the agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { followLeader, leaderPid, masterHostHint, needsDetection } from '../../src/agent/detection/index.js';
import { createMasterInfo } from '../../src/master/election/index.js';

test('zk:// and file:// masters need a detector; host:port does not', () => {
  assert.equal(needsDetection('zk://127.0.0.1:2181/mesos'), true);
  assert.equal(needsDetection(' file:///etc/mesos/zk'), true);
  assert.equal(needsDetection('127.0.0.1:5050'), false);
  assert.equal(needsDetection('master@10.0.0.1:5050'), false);
});

test('the pid of a detected leader: its pid, else its address, else the legacy ip', () => {
  const info = createMasterInfo({ id: 'a', ip: '10.1.2.3', port: 5050, hostname: 'm1' });
  assert.equal(leaderPid(info), info.pid);
  assert.equal(leaderPid({ id: 'b', ip: 0, port: 5051, address: { ip: '10.0.0.9', port: 5051 } }), 'master@10.0.0.9:5051');
  // 127.0.0.1 in network byte order read as a little-endian integer.
  assert.equal(leaderPid({ id: 'c', ip: 16777343, port: 5052 }), 'master@127.0.0.1:5052');
  assert.equal(leaderPid({ id: 'd', ip: 16777343 }), undefined);
});

test('the host hint is the first ZooKeeper server, or the master in a file', () => {
  assert.equal(masterHostHint('zk://10.0.0.5:2181,10.0.0.6:2181/mesos'), '10.0.0.5');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-detect-'));
  try {
    const file = path.join(dir, 'master');
    fs.writeFileSync(file, 'master@127.0.0.1:5050\n');
    assert.equal(masterHostHint(`file://${file}`), '127.0.0.1');
    fs.writeFileSync(file, 'zk://192.168.1.7:2181/mesos\n');
    assert.equal(masterHostHint(`file://${file}`), '192.168.1.7');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file:// master reaches the agent once, as a pid', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-detect-'));
  const file = path.join(dir, 'master');
  fs.writeFileSync(file, '127.0.0.1:5050\n');
  const told: Array<string | undefined> = [];
  const follower = followLeader(`file://${file}`, { newMasterDetected: (pid) => told.push(pid) });
  try {
    await new Promise((r) => setImmediate(r));
    await follower.detector.detect(undefined);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(told, ['master@127.0.0.1:5050']);
  } finally {
    follower.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a value no detector understands is refused', () => {
  assert.throws(() => followLeader('not a master', { newMasterDetected: () => undefined }), /Failed to parse/);
});

test('an agent with a file:// master registers with it, re-registers with each newly detected leader, and waits without one', async () => {
  const { startAgent } = await import('../../src/agent/main.js');
  const { FakeMaster } = await import('./fake-master.js');
  const a = await FakeMaster.start();
  const b = await FakeMaster.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-detect-'));
  const file = path.join(dir, 'master');
  fs.writeFileSync(file, `127.0.0.1:${a.port}\n`);
  const handle = await startAgent([`--master=file://${file}`, `--work_dir=${path.join(dir, 'work')}`, '--port=0', '--ip=127.0.0.1', '--registration_backoff_factor=10ms', '--resources=cpus:1;mem:128;disk:128'], { env: {} });
  try {
    await a.waitFor('registration with A', () => handle.agent.registered);
    assert.equal(handle.agent.agentId, 'M1-S0');
    assert.equal(handle.agent.master, a.pid);

    // A failover: B leads now. The agent keeps its id and re-registers there.
    handle.agent.newMasterDetected(b.pid);
    assert.equal(handle.agent.registered, false);
    const rereg = await b.waitFor('re-registration with B', () => b.messages('ReregisterSlaveMessage')[0]);
    assert.equal(rereg.msg.slave.id.value, 'M1-S0');
    await b.waitFor('re-registered', () => handle.agent.registered);
    assert.equal(handle.agent.master, b.pid);
    assert.equal(b.messages('RegisterSlaveMessage').length, 0);

    // No leader: nothing is sent anywhere until one is detected.
    b.autoRegisterId = undefined;
    handle.agent.newMasterDetected(undefined);
    const sentA = a.received.length;
    const sentB = b.received.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(a.received.length, sentA);
    assert.equal(b.received.length, sentB);
    assert.equal(handle.agent.registered, false);
    handle.agent.newMasterDetected(a.pid);
    await a.waitFor('re-registration with A', () => a.messages('ReregisterSlaveMessage')[0]);
    await a.waitFor('re-registered with A', () => handle.agent.registered);
  } finally {
    await handle.stop();
    await a.stop();
    await b.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
