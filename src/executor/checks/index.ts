// Health checks and generalized checks for the built-in executors (AGT-06).
export { HealthChecker, type HealthChange, type HealthCheckerOptions } from './health-checker.js';
export { Checker, initialCheckStatus, type CheckerOptions } from './checker.js';
export { validateHealthCheck, validateCheckInfo } from './validation.js';
export { runCommand, httpGet, tcpConnect, type ProbeResult, type CommandContext, type ProbeContext, type HttpTarget } from './probes.js';
export { ProbeLoop } from './schedule.js';
