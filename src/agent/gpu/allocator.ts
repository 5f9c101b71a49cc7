// Whole-GPU allocation to containers. One owner of the free list; the gpu/nvidia isolator
// allocates on prepare and releases on cleanup.
import type { Gpu } from './nvidia-smi.js';

export class GpuAllocator {
  private readonly free: Gpu[];
  private readonly byContainer = new Map<string, Gpu[]>();

  constructor(gpus: Gpu[]) {
    this.free = [...gpus].sort((a, b) => a.index - b.index);
  }

  get total(): number {
    return this.free.length + [...this.byContainer.values()].reduce((n, g) => n + g.length, 0);
  }

  available(): Gpu[] {
    return [...this.free];
  }

  allocated(containerId: string): Gpu[] {
    return [...(this.byContainer.get(containerId) ?? [])];
  }

  /** Takes `count` GPUs (lowest indexes first) for a container. */
  allocate(containerId: string, count: number): Gpu[] {
    if (!Number.isInteger(count) || count < 0) throw new Error(`The 'gpus' resource must be an unsigned integer`);
    if (this.byContainer.has(containerId)) throw new Error(`GPUs are already allocated to container ${containerId}`);
    if (count > this.free.length) {
      throw new Error(`Requested ${count} gpus but only ${this.free.length} are available`);
    }
    const taken = this.free.splice(0, count);
    this.byContainer.set(containerId, taken);
    return [...taken];
  }

  release(containerId: string): void {
    const taken = this.byContainer.get(containerId);
    if (!taken) return;
    this.byContainer.delete(containerId);
    this.free.push(...taken);
    this.free.sort((a, b) => a.index - b.index);
  }
}
