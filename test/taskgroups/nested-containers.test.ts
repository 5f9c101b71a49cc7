// NestedContainers over a real posix containerizer: nested ids and sandboxes, the cascade when a
// parent is destroyed, and taking back a nested container the containerizer runs but the
// bookkeeping does not know (as after an agent restart that re-adopted it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../src/common/clock.js';
import { PosixContainerizer } from '../../src/agent/containerizer/index.js';
import { containerKey, NestedContainers, validateContainerId } from '../../src/agent/nested/containers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('container ids: string form and validation', () => {
  assert.equal(containerKey({ value: 'c', parent: { value: 'b', parent: { value: 'a' } } }), 'a.b.c');
  assert.equal(validateContainerId({ value: 'c', parent: { value: 'p' } }), undefined);
  assert.match(validateContainerId({ value: 'x.y', parent: { value: 'p' } })!, /contains a '\.'/);
  assert.match(validateContainerId({ value: 'c', parent: { value: '' } })!, /must not be empty/);
  assert.match(validateContainerId(undefined)!, /container_id/);
});

test('nested containers: cascade on parent destroy; adoption of an unknown running nested container', async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'meseta-nested-unit-'));
  dirs.push(workDir);
  const inner = new PosixContainerizer({ clock: new SystemClock(), workDir });
  const nested = new NestedContainers(inner);
  const sandbox = join(workDir, 'parent');
  mkdirSync(sandbox);
  nested.setRootLookup((id) => (id === 'P' ? { sandbox, frameworkId: 'fw', executorId: 'ex', executorName: 'ex' } : undefined));
  await nested.launch({ containerId: 'P', sandbox, command: { value: 'exec sleep 30' }, env: {} });
  try {
    assert.equal(await nested.launchNested({ value: 'c1', parent: { value: 'P' } }, { value: 'exec sleep 30' }, undefined), 'launched');
    assert.ok(existsSync(join(sandbox, 'containers', 'c1')));
    assert.deepEqual(nested.nested().map((n) => n.key), ['P.c1']);

    // Started behind the bookkeeping's back, under the nested id form: WAIT/KILL still find it.
    mkdirSync(join(sandbox, 'containers', 'c9'), { recursive: true });
    await inner.launch({ containerId: 'P.c9', sandbox: join(sandbox, 'containers', 'c9'), command: { value: 'touch ready; exec sleep 30' }, env: {} });
    // Signal it only once the task runs (not while its supervisor is still starting it).
    for (let i = 0; !existsSync(join(sandbox, 'containers', 'c9', 'ready')); i++) {
      assert.ok(i < 500, 'the nested task never started');
      await new Promise((r) => setTimeout(r, 10));
    }
    const c9 = nested.waitNested({ value: 'c9', parent: { value: 'P' } });
    assert.ok(c9, 'an adopted nested container can be waited for');
    assert.equal(nested.killNested({ value: 'c9', parent: { value: 'P' } }, 'SIGTERM'), true);
    assert.equal((await c9).signal, 'SIGTERM');

    // Destroying the parent takes c1 with it.
    const c1 = nested.waitNested({ value: 'c1', parent: { value: 'P' } })!;
    await nested.destroy('P', 0);
    assert.equal((await c1).signal, 'SIGKILL');
    assert.deepEqual(inner.containers(), []);
    assert.equal(nested.waitNested({ value: 'c1', parent: { value: 'P' } }), undefined);
  } finally {
    await Promise.all(inner.containers().map((id) => inner.destroy(id, 0)));
  }
});
