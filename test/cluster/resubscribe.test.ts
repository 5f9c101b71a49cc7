import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { startMaster } from '../../src/master/main.js';
import { SchedulerClient } from '../../src/scheduler/client.js';

test('after a master restart the client re-subscribes (with backoff) under its framework id', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meseta-resub-'));
  const flags = (port: number) => ['--ip=127.0.0.1', `--port=${port}`, '--registry=in_memory', `--work_dir=${dir}`];
  let master = await startMaster(flags(0), { env: {} });
  const port = master.port;
  const client = new SchedulerClient({
    master: `127.0.0.1:${port}`,
    frameworkInfo: { user: userInfo().username, name: 'resub', failover_timeout: 60 },
    contentType: 'protobuf',
    backoffInitialMs: 50,
    backoffMaxMs: 200,
  });
  t.after(async () => {
    client.close();
    await master.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const first = await client.subscribe();
  const id = first.framework_id.value;
  const firstStream = client.streamId;
  const disconnected = new Promise((r) => client.once('disconnected', r));
  const resubscribed = new Promise<any>((r) => client.once('subscribed', r));
  await master.stop();
  await disconnected;
  master = await startMaster(flags(port), { env: {} });
  const again = await resubscribed;
  assert.equal(again.framework_id.value, id);
  assert.ok(client.streamId && client.streamId !== firstStream);
  // The new master knows the framework under the same id, and calls with the new stream id work.
  await client.reconcile();
  const state = await fetch(`http://127.0.0.1:${port}/master/state`).then((r) => r.json());
  assert.ok(state.frameworks.some((f: any) => f.id === id), JSON.stringify(state.frameworks));
});
