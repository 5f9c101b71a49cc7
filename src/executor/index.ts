// The built-in executors. Only the command executor lives here so far; it runs inside the agent.
export { CommandExecutor, DEFAULT_KILL_GRACE_MS, DEFAULT_SHUTDOWN_GRACE_MS, durationMs, type CommandExecutorOptions } from './command-executor.js';
export { taskEnvironment, allocationRole } from './environment.js';
