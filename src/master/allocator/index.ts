// Allocator selection (--allocator): the built-in policies by name, or a JS module by path.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Allocator } from './allocator.js';
import { HierarchicalAllocator } from './hierarchical.js';

export type { Allocator, AllocatorOptions, AllocatorHooks, OfferCallback, InverseOfferCallback, Msg } from './allocator.js';
export { HierarchicalAllocator, DEFAULT_REFUSE_SECONDS } from './hierarchical.js';
export { compileOfferConstraints, OfferConstraintsError } from './constraints.js';

/** Names of the built-in allocators. */
export const BUILTIN_ALLOCATORS = ['hierarchical', 'HierarchicalDRF', 'mesos::internal::master::allocator::HierarchicalDRF', 'strict-priority'];

export class AllocatorLoadError extends Error {}

/** True when `name` selects a built-in allocator (no module loading needed). */
export function isBuiltinAllocator(name: string): boolean {
  return BUILTIN_ALLOCATORS.includes(name);
}

/** Synchronous factory for the built-in allocators; throws AllocatorLoadError for anything else. */
export function createBuiltinAllocator(name = 'hierarchical'): Allocator {
  if (name === 'strict-priority') return new HierarchicalAllocator({ policy: 'strict-priority' });
  if (BUILTIN_ALLOCATORS.includes(name)) return new HierarchicalAllocator();
  throw new AllocatorLoadError(`Unknown allocator '${name}'`);
}

/**
 * `--allocator`: a built-in name, or a path to a JS module whose default export (or `createAllocator`
 * export) is a factory returning an Allocator (or a Promise of one).
 */
export async function loadAllocator(nameOrPath: string): Promise<Allocator> {
  if (isBuiltinAllocator(nameOrPath)) return createBuiltinAllocator(nameOrPath);
  if (!/[\\/]|\.[cm]?js$/.test(nameOrPath)) throw new AllocatorLoadError(`Unknown allocator '${nameOrPath}'`);
  const url = pathToFileURL(isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath)).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new AllocatorLoadError(`Failed to load allocator module '${nameOrPath}': ${(err as Error).message}`);
  }
  const factory = (typeof mod.default === 'function' ? mod.default : mod.createAllocator) as unknown;
  if (typeof factory !== 'function') {
    throw new AllocatorLoadError(`Allocator module '${nameOrPath}' exports neither a default factory nor createAllocator`);
  }
  const allocator = (await (factory as () => unknown)()) as Allocator;
  for (const m of ['initialize', 'addFramework', 'addAgent', 'recoverResources', 'allocate'] as const) {
    if (typeof (allocator as unknown as Record<string, unknown>)?.[m] !== 'function') {
      throw new AllocatorLoadError(`Allocator from '${nameOrPath}' lacks method ${m}()`);
    }
  }
  return allocator;
}

/** Built-in names return an Allocator synchronously; a module path returns a Promise. */
export function createAllocator(name: string): Allocator | Promise<Allocator> {
  return isBuiltinAllocator(name) ? createBuiltinAllocator(name) : loadAllocator(name);
}
