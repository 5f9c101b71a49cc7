// The master's registry: choose a store from the flags, recover, mutate through the Registrar.
import type { Clock } from '../../common/clock.js';
import { LocalDiskStore } from './disk-store.js';
import { Registrar, type PrunedAgents } from './registrar.js';
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

/** The slice of `Flags` (src/common/flags.ts) the registry reads; durations are in ms. */
export interface RegistryFlags {
  str(name: string): string | undefined;
  num(name: string): number | undefined;
}

/**
 * The registrar configured from the master's flags: the store from `--registry`/`--work_dir`,
 * timeouts from `--registry_fetch_timeout`/`--registry_store_timeout`, and periodic GC from
 * `--registry_gc_interval`, `--registry_max_agent_age`, `--registry_max_agent_count`.
 */
export function registrarFromFlags(
  flags: RegistryFlags,
  clock: Clock,
  extra: { onPruned?: (pruned: PrunedAgents) => void; log?: (message: string) => void; store?: RegistryStore } = {},
): Registrar {
  return new Registrar({
    store: extra.store ?? createRegistryStore({ registry: flags.str('registry'), work_dir: flags.str('work_dir') }),
    clock,
    fetchTimeoutMs: flags.num('registry_fetch_timeout') ?? 60_000,
    storeTimeoutMs: flags.num('registry_store_timeout') ?? 20_000,
    gc: {
      intervalMs: flags.num('registry_gc_interval') ?? 15 * 60_000,
      maxAgentAgeMs: flags.num('registry_max_agent_age') ?? 14 * 86_400_000,
      maxAgentCount: flags.num('registry_max_agent_count') ?? 102_400,
      onPruned: extra.onPruned,
    },
    log: extra.log,
  });
}
