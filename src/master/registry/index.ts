// The master's registry: choose a store from the flags, recover, mutate through the Registrar.
import { LocalDiskStore } from './disk-store.js';
import { InMemoryStore, type RegistryStore } from './store.js';

export { Registrar, RegistrarError, type RegistrarOptions, type RegistryGcOptions, type PrunedAgents, type RegistryState } from './registrar.js';
export { RegistryModel, REGISTRY_TYPE, timeInfo, timeInfoMs, SUPPORTED_MINIMUM_CAPABILITIES, type Registry } from './model.js';
export { InMemoryStore, StaleVersionError, type RegistryStore, type StoredDocument } from './store.js';
export { LocalDiskStore, CorruptRegistryError } from './disk-store.js';

/** Bad `--registry` / `--work_dir` combination; the message is fit for the operator. */
export class RegistryFlagsError extends Error {}

/**
 * The store named by `--registry`: `in_memory`, or `replicated_log`, which on a single master is
 * the durable store under `<work_dir>/registry/` (Mesos requires --work_dir for it too).
 */
export function createRegistryStore(flags: { registry?: string; work_dir?: string }): RegistryStore {
  const kind = flags.registry ?? 'replicated_log';
  if (kind === 'in_memory') return new InMemoryStore();
  if (kind === 'replicated_log') {
    if (!flags.work_dir) {
      throw new RegistryFlagsError("--work_dir needed for replicated log based registry");
    }
    return new LocalDiskStore(flags.work_dir);
  }
  throw new RegistryFlagsError(`'${kind}' is not a supported option for registry persistence`);
}
