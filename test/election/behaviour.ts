// Election behaviour shared by the real ZooKeeper and the in-memory twin.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { encodeProto } from '../../src/protocol/codec.js';
import {
  ZooKeeperMasterContender,
  ZooKeeperMasterDetector,
  createMasterInfo,
  type ContenderEvent,
  type MasterInfo,
} from '../../src/master/election/index.js';
import type { ZkClient } from '../../src/zookeeper/index.js';
import type { ZkHarness } from '../zookeeper/behaviour.js';

let counter = 0;
const groupPath = () => `/meseta-${process.pid}-${++counter}/mesos`;

const info = (n: number): MasterInfo =>
  createMasterInfo({ id: `master-${n}`, ip: `127.0.0.${n}`, port: 5050 + n, hostname: `m${n}` });

function nextEvent(c: ZooKeeperMasterContender): Promise<ContenderEvent> {
  return new Promise((resolve) => {
    const off = c.onEvent((e) => {
      off();
      resolve(e);
    });
  });
}

/** Waits until the detector reports a leader with this id (or none when id is undefined). */
async function leaderBecomes(d: ZooKeeperMasterDetector, id: string | undefined): Promise<MasterInfo | undefined> {
  let current = await d.detect();
  while ((current?.id as string | undefined) !== id) current = await d.detect(current);
  return current;
}

export function defineElectionBehaviour(h: () => ZkHarness): void {
  it('elects the lowest sequence; the next contender takes over when the leader goes', async () => {
    const path = groupPath();
    const sessions: ZkClient[] = [];
    const open = async () => {
      const c = await h().client({ sessionTimeoutMs: 4000 });
      sessions.push(c);
      return c;
    };
    try {
      const contenders: ZooKeeperMasterContender[] = [];
      const elected: Array<Promise<ContenderEvent>> = [];
      for (let i = 1; i <= 3; i++) {
        const c = new ZooKeeperMasterContender({ client: await open(), path, info: info(i) });
        elected.push(nextEvent(c));
        await c.contend();
        contenders.push(c);
      }
      const detector = new ZooKeeperMasterDetector({ client: await open(), path });
      assert.deepEqual(await elected[0], { type: 'elected' });
      const first = await leaderBecomes(detector, 'master-1');
      assert.equal(first?.pid, 'master@127.0.0.1:5051');
      assert.equal(contenders[1]!.state, 'contending');
      assert.equal(contenders[2]!.state, 'contending');

      // The leader's master dies: its session closes, its member node goes, #2 leads.
      await sessions[0]!.close();
      assert.deepEqual(await elected[1], { type: 'elected' });
      assert.equal(contenders[0]!.state, 'lost');
      const second = await detector.detect(first);
      assert.equal(second?.id, 'master-2');

      // The new leader's session expires: it learns it lost, and #3 is elected.
      const lost = nextEvent(contenders[1]!);
      await h().expire(sessions[1]!);
      assert.deepEqual(await lost, { type: 'lost', reason: 'ZooKeeper session expired' });
      assert.equal(contenders[1]!.state, 'lost');
      assert.deepEqual(await elected[2], { type: 'elected' });
      assert.equal((await leaderBecomes(detector, 'master-3'))?.address?.ip, '127.0.0.3');

      // The last one withdraws: nobody leads.
      await contenders[2]!.withdraw();
      assert.equal(contenders[2]!.state, 'withdrawn');
      assert.equal(await leaderBecomes(detector, undefined), undefined);
      detector.close();
      await assert.rejects(detector.detect(), /closed/);
    } finally {
      for (const s of sessions) await s.close();
    }
  });

  it('a leader whose member node is deleted loses at once', async () => {
    const path = groupPath();
    const a = await h().client();
    const operator = await h().client();
    try {
      const c = new ZooKeeperMasterContender({ client: a, path, info: info(1) });
      const elected = nextEvent(c);
      await c.contend();
      assert.deepEqual(await elected, { type: 'elected' });
      const lost = nextEvent(c);
      await operator.delete(c.nodePath!);
      assert.deepEqual(await lost, { type: 'lost', reason: `Candidacy znode ${path}/json.info_0000000000 was deleted` });
      assert.equal(c.nodePath, undefined);
    } finally {
      await a.close();
      await operator.close();
    }
  });

  it('detects leaders written in the legacy binary and plain formats, and waits for a group to appear', async () => {
    const path = groupPath();
    const writer = await h().client();
    const reader = await h().client();
    try {
      const detector = new ZooKeeperMasterDetector({ client: reader, path });
      const firstLeader = detector.detect();
      await writer.mkdirp(path);
      await writer.create(`${path}/log_replicas`);
      await writer.create(`${path}/info_`, encodeProto('mesos.v1.MasterInfo', info(7)), 'ephemeral_sequential');
      await writer.create(`${path}/`, Buffer.from('master@10.1.2.3:5050'), 'ephemeral_sequential');
      const binary = await firstLeader;
      assert.equal(binary?.id, 'master-7');
      assert.equal(binary?.hostname, 'm7');
      assert.equal(binary?.port, 5057);
      await writer.delete(`${path}/info_0000000001`);
      const plain = await detector.detect(binary);
      assert.equal(plain?.pid, 'master@10.1.2.3:5050');
      assert.equal(plain?.port, 5050);
      assert.equal(plain?.address?.ip, '10.1.2.3');
      assert.equal(plain?.ip, 0x0302010a);
      detector.close();
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('rejects detection when the leader has an unknown label', async () => {
    const path = groupPath();
    const writer = await h().client();
    try {
      await writer.mkdirp(path);
      await writer.create(`${path}/weird_`, Buffer.from('?'), 'ephemeral_sequential');
      const detector = new ZooKeeperMasterDetector({ client: writer, path });
      await assert.rejects(detector.detect(), /unknown label 'weird'/);
      detector.close();
    } finally {
      await writer.close();
    }
  });
}
