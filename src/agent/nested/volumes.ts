// SANDBOX_PATH volumes of a nested container (how tasks of a group share files): a volume
// `{container_path, source: {type: SANDBOX_PATH, sandbox_path: {type: PARENT|SELF, path}}}`
// makes <sandbox>/<container_path> show <parent or own sandbox>/<path>. Without a mount
// namespace this is a symlink, as Mesos's volume/sandbox_path isolator does on hosts without
// the filesystem/linux isolator. Other volume types need isolators this agent lacks.
import fs from 'node:fs';
import path from 'node:path';
import type { Msg } from '../../protocol/codec.js';

/** A relative path that stays inside its base directory, or undefined. */
function inside(base: string, rel: unknown): string | undefined {
  if (typeof rel !== 'string' || rel.length === 0 || path.isAbsolute(rel)) return undefined;
  const full = path.resolve(base, rel);
  return full.startsWith(base + path.sep) ? full : undefined;
}

/** Validates the volumes; returns an error message fit for a 400, or undefined. */
export function validateSandboxVolumes(container: Msg | undefined): string | undefined {
  for (const v of (container?.volumes as Msg[] | undefined) ?? []) {
    if (v.source?.type !== 'SANDBOX_PATH') return `Volume '${v.container_path}': only SANDBOX_PATH volumes are supported for nested containers`;
    const kind = v.source.sandbox_path?.type;
    if (kind !== 'PARENT' && kind !== 'SELF') return `Volume '${v.container_path}': unknown sandbox path type '${kind}'`;
    if (inside('/sandbox', v.container_path) === undefined) return `Volume '${v.container_path}': the container path must be relative and stay inside the sandbox`;
    if (inside('/sandbox', v.source.sandbox_path.path) === undefined) return `Volume '${v.container_path}': the sandbox path must be relative and stay inside the sandbox`;
  }
  return undefined;
}

/** Creates the source directories and the links (call after validateSandboxVolumes). */
export async function mountSandboxVolumes(container: Msg | undefined, sandbox: string, parentSandbox: string): Promise<void> {
  for (const v of (container?.volumes as Msg[] | undefined) ?? []) {
    const base = v.source.sandbox_path.type === 'PARENT' ? parentSandbox : sandbox;
    const source = inside(base, v.source.sandbox_path.path)!;
    const target = inside(sandbox, v.container_path)!;
    await fs.promises.mkdir(source, { recursive: true });
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await fs.promises.rm(target, { force: true });
    await fs.promises.symlink(source, target);
  }
}
