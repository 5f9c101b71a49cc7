// gpu/nvidia: whole GPUs for containers with a `gpus` resource. Allocation comes from the
// agent's GpuAllocator; access is through the devices cgroup (needs cgroups/devices, which
// denies everything else); the task learns its GPUs from NVIDIA_VISIBLE_DEVICES and
// CUDA_VISIBLE_DEVICES.
import type { Msg } from '../../../protocol/codec.js';
import type { GpuAllocator } from '../../gpu/allocator.js';
import { gpuDeviceRules, gpuEnvironment } from '../../gpu/devices.js';
import type { CgroupsDevicesIsolator } from './cgroups-devices.js';
import { never, scalar, type ContainerConfig, type Isolator, type LaunchInfo, type Limitation } from './isolator.js';

export interface GpuNvidiaOptions {
  allocator: GpuAllocator;
  devices: CgroupsDevicesIsolator;
  /** Where the device nodes are (default /dev; tests point it at fake nodes). */
  devRoot?: string;
}

export class GpuNvidiaIsolator implements Isolator {
  readonly name = 'gpu/nvidia';
  constructor(private readonly opts: GpuNvidiaOptions) {}

  async prepare(config: ContainerConfig): Promise<LaunchInfo | undefined> {
    const count = scalar(config.resources, 'gpus') ?? 0;
    if (!Number.isInteger(count)) throw new Error(`The 'gpus' resource must be an unsigned integer`);
    const gpus = this.opts.allocator.allocate(config.containerId, count);
    for (const rule of gpuDeviceRules(gpus, this.opts.devRoot)) {
      // Control devices are only opened when there is a GPU to talk to.
      if (gpus.length > 0) this.opts.devices.allow(config.containerId, rule);
    }
    return { env: gpuEnvironment(gpus) };
  }
  async isolate(): Promise<void> {}
  watch(): Promise<Limitation> {
    return never();
  }
  async update(containerId: string, resources: Msg[]): Promise<void> {
    const now = this.opts.allocator.allocated(containerId).length;
    if ((scalar(resources, 'gpus') ?? 0) !== now) throw new Error('Changing the GPUs of a running container is not supported');
  }
  async usage(): Promise<Msg> {
    return {};
  }
  async cleanup(containerId: string): Promise<void> {
    this.opts.allocator.release(containerId);
  }
}
