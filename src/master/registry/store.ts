// The seam between the registrar and durable storage. A store holds one opaque
// document (the encoded Registry) plus a version that grows by one on every
// successful store; writers must name the version they read, so two masters
// can never silently overwrite each other (compare-and-swap, like Mesos's
// `mesos::state` variables).

/** A stored document and the version it was stored at (versions start at 1). */
export interface StoredDocument {
  version: number;
  data: Buffer;
}

export interface RegistryStore {
  /** The newest durable document, or undefined when nothing was ever stored (version 0). */
  fetch(): Promise<StoredDocument | undefined>;
  /**
   * Replaces the document if the current version is `expectedVersion` (0 for an empty store)
   * and resolves with the new version once it is durable. Rejects with StaleVersionError when
   * someone else stored in between.
   */
  store(data: Buffer, expectedVersion: number): Promise<number>;
  close?(): Promise<void>;
}

/** The store moved on since the caller's fetch: its view is stale. */
export class StaleVersionError extends Error {
  constructor(message = 'version mismatch') {
    super(message);
    this.name = 'StaleVersionError';
  }
}

/** `--registry=in_memory`: keeps the document in this process only (tests, mesos-local). */
export class InMemoryStore implements RegistryStore {
  private version = 0;
  private data: Buffer | undefined;
  /** Number of successful stores, for tests and benchmarks. */
  stores = 0;

  async fetch(): Promise<StoredDocument | undefined> {
    return this.data ? { version: this.version, data: Buffer.from(this.data) } : undefined;
  }

  async store(data: Buffer, expectedVersion: number): Promise<number> {
    if (expectedVersion !== this.version) {
      throw new StaleVersionError(`version mismatch: expected ${expectedVersion}, store is at ${this.version}`);
    }
    this.data = Buffer.from(data);
    this.version += 1;
    this.stores += 1;
    return this.version;
  }
}
