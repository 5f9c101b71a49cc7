// cgroup v1 library (AGT-03, AGT-08): hierarchy detection, per-container cgroups under
// --cgroups_root, limits, statistics, OOM watching and kill-all. See docs/containers.md.
export { Cgroups, CgroupsError, type CgroupsOptions } from './cgroups.js';
export { MemoryCgroupsFs, RealCgroupsFs, parseMountLines, KNOWN_CONTROLLERS, type CgroupsFs } from './fs.js';
export * from './limits.js';
export { cpuStats, cpuacctStats, memoryStats, processStats, countThreads, parseKeyValues, type Stats } from './stats.js';
export { destroyCgroups, type DestroyOptions } from './destroy.js';
export { watchOom, oomKills, type OomWatch } from './oom.js';
