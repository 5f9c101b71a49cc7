// Fixtures for the registry tests.
import type { Msg } from '../../src/protocol/codec.js';
import { InMemoryStore, type StoredDocument } from '../../src/master/registry/store.js';

export const MASTER_INFO: Msg = { id: 'master-1', ip: 16777343, port: 5050, hostname: 'localhost', pid: 'master@127.0.0.1:5050' };

export function agentInfo(id: string, hostname = `${id}.example.com`): Msg {
  return {
    hostname,
    port: 5051,
    id: { value: id },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 4 }, role: '*' },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] }, role: '*' },
    ],
    attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }],
  };
}

/** An in-memory store whose stores can be held open, to observe what happens meanwhile. */
export class GatedStore extends InMemoryStore {
  held = false;
  inFlight = 0;
  /** Payload sizes of every store call, in order. */
  readonly calls: Buffer[] = [];
  private waiting: Array<() => void> = [];
  failNext: Error | undefined;
  /** When set, store() never settles. */
  hang = false;

  override async store(data: Buffer, expectedVersion: number): Promise<number> {
    this.calls.push(data);
    this.inFlight++;
    try {
      if (this.hang) await new Promise(() => undefined);
      if (this.held) await new Promise<void>((r) => this.waiting.push(r));
      if (this.failNext) {
        const e = this.failNext;
        this.failNext = undefined;
        throw e;
      }
      return await super.store(data, expectedVersion);
    } finally {
      this.inFlight--;
    }
  }

  release(): void {
    this.held = false;
    const w = this.waiting;
    this.waiting = [];
    w.forEach((r) => r());
  }

  override async fetch(): Promise<StoredDocument | undefined> {
    return super.fetch();
  }
}

/** Lets queued microtasks and promise continuations run. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
