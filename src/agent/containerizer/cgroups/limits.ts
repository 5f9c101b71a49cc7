// How Mesos turns a container's resources into cgroup limits (cgroups v1).

export const CPU_SHARES_PER_CPU = 1024;
/** Revocable cpus are weighted low so they yield to normal cpus (Mesos: 10 per cpu). */
export const CPU_SHARES_PER_CPU_REVOCABLE = 10;
export const MIN_CPU_SHARES = 2;
export const CPU_CFS_PERIOD_US = 100_000;
export const MIN_CPU_CFS_QUOTA_US = 1_000;
/** Containers never get less memory than this (Mesos's MIN_MEMORY). */
export const MIN_MEMORY_BYTES = 32 * 1024 * 1024;
/** Kernel ticks per second for cpuacct.stat (USER_HZ is 100 on every Linux ABI we run on). */
export const USER_HZ = 100;

export function cpuShares(cpus: number, revocable = false): number {
  const per = revocable ? CPU_SHARES_PER_CPU_REVOCABLE : CPU_SHARES_PER_CPU;
  return Math.max(Math.floor(per * cpus), MIN_CPU_SHARES);
}

/** cpu.cfs_quota_us for a cpus limit over the standard 100 ms period. */
export function cfsQuotaUs(cpus: number, periodUs = CPU_CFS_PERIOD_US): number {
  return Math.max(Math.floor(periodUs * cpus), MIN_CPU_CFS_QUOTA_US);
}

export function memoryLimitBytes(mem: number): number {
  return Math.max(Math.floor(mem), MIN_MEMORY_BYTES);
}
