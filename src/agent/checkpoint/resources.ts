// The agent's checkpointed resources (dynamic reservations and persistent volumes), as the master
// sends them in CheckpointResourcesMessage. Mesos's two steps: the new set is written to
// resources.target, volume directories are created/removed to match it, and only then does the
// target replace resources.info. A crash in between leaves the target, which recovery finishes.
import fs from 'node:fs';
import { Resources, reservationRole, type Msg } from '../../resources/index.js';
import { frameRecord, parseRecords, syncDir, writeFileAtomic } from './io.js';
import * as P from './paths.js';

export const RESOURCE = 'mesos.v1.Resource';

/** The persistent volumes on the agent's default disk (a PATH/MOUNT disk holds its own volumes). */
function volumeDirs(workDir: string, resources: readonly Msg[]): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const r of resources) {
    const id = r.disk?.persistence?.id;
    if (typeof id !== 'string' || id === '' || r.disk?.source) continue;
    dirs.set(`${reservationRole(r)}/${id}`, P.persistentVolumePath(workDir, reservationRole(r), id));
  }
  return dirs;
}

function readResourcesFile(file: string): Msg[] | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const { records, tornBytes } = parseRecords(RESOURCE, data);
  // Written atomically: a torn file is corruption, not a crash mid-append.
  if (tornBytes !== 0) throw new Error(`Malformed checkpoint '${file}'`);
  return records;
}

/** Creates the volumes of `next` that are missing and removes those `previous` had and `next` has not. */
function syncVolumes(workDir: string, previous: readonly Msg[], next: readonly Msg[]): void {
  const before = volumeDirs(workDir, previous);
  const after = volumeDirs(workDir, next);
  for (const [key, dir] of after) {
    if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true });
    before.delete(key);
  }
  // DESTROY: the volume's data goes with it.
  for (const dir of before.values()) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The agent's total: its static resources with each checkpointed resource in place of the
 * unreserved, volume-less resource it was made from (what the master computes on registration).
 * `strict`: a checkpointed resource the static ones cannot hold is an error, not skipped.
 */
export function applyCheckpointedResources(total: Resources, checkpointed: readonly Msg[], strict = false): Resources {
  let out = total;
  // Either reservation format in, the stack out.
  for (const r of Resources.fromProto(checkpointed).toProto({ refinement: true })) {
    const source: Msg = { ...r, reservations: ((r.reservations ?? []) as Msg[]).filter((x) => x.type !== 'DYNAMIC') };
    if (source.disk) {
      const { persistence: _p, volume: _v, ...disk } = source.disk as Msg;
      if (Object.keys(disk).length === 0) delete source.disk;
      else source.disk = disk;
    }
    delete source.shared;
    const from = Resources.fromProto([source]);
    if (out.contains(from)) out = out.minus(from).plus(Resources.fromProto([r]));
    else if (strict) throw new Error(`Checkpointed resource ${Resources.fromProto([r]).toString()} is not part of the agent's resources ${total.toString()}`);
  }
  return out;
}

export class ResourcesCheckpoint {
  private current: Msg[] = [];

  constructor(readonly workDir: string) {}

  /** The checkpointed resources (v1 Resource messages, reservation stack format). */
  get resources(): Msg[] {
    return this.current.map((r) => ({ ...r }));
  }

  /**
   * Loads what a previous agent checkpointed; an unfinished update (resources.target) is
   * completed first. Throws on a corrupt file.
   */
  recover(): Msg[] {
    const info = readResourcesFile(P.resourcesInfoPath(this.workDir)) ?? [];
    const target = readResourcesFile(P.resourcesTargetPath(this.workDir));
    this.current = info;
    if (target) this.commit(info, target);
    return this.resources;
  }

  /** Checkpoints a new set from the master (CheckpointResourcesMessage). */
  update(resources: readonly Msg[]): void {
    writeFileAtomic(P.resourcesTargetPath(this.workDir), Buffer.concat(resources.map((r) => frameRecord(RESOURCE, r))));
    this.commit(this.current, [...resources]);
  }

  private commit(previous: readonly Msg[], next: Msg[]): void {
    syncVolumes(this.workDir, previous, next);
    fs.renameSync(P.resourcesTargetPath(this.workDir), P.resourcesInfoPath(this.workDir));
    syncDir(P.resourcesDir(this.workDir));
    this.current = next;
  }
}
