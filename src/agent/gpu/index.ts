// NVIDIA GPU support (ALC-20 gpus, AGT-03 gpu/nvidia): discovery, flags, allocation, devices.
export { discoverGpus, parseNvidiaSmi, NVIDIA_SMI_ARGS, type Gpu, type DiscoverOptions } from './nvidia-smi.js';
export { agentGpus, parseNvidiaGpuDevices, type GpuFlags } from './resources.js';
export { GpuAllocator } from './allocator.js';
export { gpuDeviceRules, gpuEnvironment, deviceNumber, NVIDIA_MAJOR, NVIDIA_CONTROL_DEVICES } from './devices.js';
