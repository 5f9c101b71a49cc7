// Agent recovery (FT-05) for task groups: the nested containers of an executor container that a
// restarted agent re-adopted running are re-adopted with it, so the default executor, once it
// re-subscribed, can still wait for and kill its tasks. Nested containers whose executor is not
// running any more are left to the orphan sweep.
import fs from 'node:fs';
import type { Msg } from '../../protocol/codec.js';
import type { NestedContainers } from './containers.js';

/** Mesos's string form `a.b.c` back into a ContainerID with parents. */
export function containerIdOfKey(key: string): Msg {
  let id: Msg | undefined;
  for (const value of key.split('.')) id = id ? { value, parent: id } : { value };
  return id!;
}

/**
 * Adopts (through `adopt`) the nested containers under `containersDir` of the executor container
 * `rootId`, which was just re-adopted running, parents before children (one that ended while no
 * agent watched is adopted too, so WAIT_CONTAINER reports how it ended). Called while recovery
 * adopts the executor's container, before the executor can re-subscribe and ask for them.
 * Returns the ids adopted; they are added to `adopted`.
 */
export function adoptNestedOf(containersDir: string, rootId: string, adopted: Set<string>, adopt: (id: string) => void): string[] {
  let ids: string[];
  try {
    ids = fs.readdirSync(containersDir).filter((id) => id.startsWith(`${rootId}.`));
  } catch {
    return [];
  }
  const depth = (id: string) => id.split('.').length;
  const done: string[] = [];
  for (const id of ids.sort((a, b) => depth(a) - depth(b))) {
    if (!adopted.has(id.slice(0, id.lastIndexOf('.')))) continue;
    adopt(id);
    adopted.add(id);
    done.push(id);
  }
  return done;
}

/** Once recovery rebuilt the executors: `nested` tracks them (destroyed with their parent, WAIT/KILL_CONTAINER). */
export function trackNested(nested: NestedContainers, ids: readonly string[]): void {
  for (const id of ids) void nested.waitNested(containerIdOfKey(id));
}
