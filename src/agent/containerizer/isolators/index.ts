// Isolators (AGT-03) and the linux launcher's cgroup part. See docs/containers.md for wiring.
export { never, scalar, named, revocableCpus, MB, type ContainerConfig, type Isolator, type LaunchInfo, type Limitation } from './isolator.js';
export { Isolation, type PreparedLaunch } from './isolation.js';
export { createIsolation, createIsolators, parseIsolation, DEFAULT_ISOLATION, SUPPORTED_ISOLATORS, REQUIRED_CONTROLLERS, type IsolationOptions } from './create.js';
export { LinuxLauncher, joinCgroupsPrefix, JOIN_SCRIPT, JOIN_FAILED_STATUS, type LinuxLauncherOptions } from './launcher.js';
export { PosixCpuIsolator, PosixMemIsolator, FilesystemPosixIsolator } from './posix.js';
export { CgroupsIsolator, type CgroupsIsolatorOptions } from './cgroups-base.js';
export { CgroupsCpuIsolator, type CgroupsCpuOptions } from './cgroups-cpu.js';
export { CgroupsMemIsolator, type CgroupsMemOptions } from './cgroups-mem.js';
export { CgroupsPidsIsolator, type CgroupsPidsOptions } from './cgroups-pids.js';
export { CgroupsDevicesIsolator, DEFAULT_DEVICE_WHITELIST } from './cgroups-devices.js';
export { DiskDuIsolator, duBytes, type DiskDuOptions } from './disk-du.js';
export { NamespacesPidIsolator, UNSHARE_PID_PREFIX } from './namespaces-pid.js';
export { GpuNvidiaIsolator, type GpuNvidiaOptions } from './gpu-nvidia.js';
export { containerProcesses } from './procfs.js';
