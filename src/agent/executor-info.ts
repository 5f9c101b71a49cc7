// The ExecutorInfo the agent synthesises for a command task (CMP-09), the way Mesos's agent names
// and sizes its command executor, and the environment every executor gets (EXE-30).
import { formatDuration } from '../common/units.js';
import { idValue, type Msg } from './types.js';

/** The command executor's own share, on top of its task (DEFAULT_EXECUTOR_CPUS / _MEM). */
export const COMMAND_EXECUTOR_CPUS = 0.1;
export const COMMAND_EXECUTOR_MEM_MB = 32;

/** Mesos abbreviates long commands in the executor name: 12 characters and "..." past 15. */
function abbreviate(text: string): string {
  return text.length > 15 ? `${text.slice(0, 12)}...` : text;
}

export function commandExecutorName(task: Msg): string {
  const taskId = idValue(task.task_id);
  const command = task.command ?? {};
  let what: string;
  if (command.shell !== false) {
    what = command.value === undefined ? '(Command: NO COMMAND)' : `(Command: sh -c '${abbreviate(String(command.value))}')`;
  } else if (command.value === undefined) {
    what = '(Command: NO EXECUTABLE)';
  } else {
    // Mesos writes "<value>, <arguments joined by ', '>", so no arguments leave a trailing ", ".
    const args = `${String(command.value)}, ${((command.arguments as string[] | undefined) ?? []).join(', ')}`;
    what = `(Command: [${abbreviate(args)}])`;
  }
  return `Command Executor (Task: ${taskId}) ${what}`;
}

/** The overhead resources, allocated to the same role as the task's resources. */
function overheadResources(task: Msg): Msg[] {
  const first = (task.resources as Msg[] | undefined)?.[0];
  const extra: Msg = {};
  if (first?.allocation_info) extra.allocation_info = first.allocation_info;
  if (first?.role !== undefined && first?.allocation_info === undefined) extra.role = first.role;
  return [
    { name: 'cpus', type: 'SCALAR', scalar: { value: COMMAND_EXECUTOR_CPUS }, ...extra },
    { name: 'mem', type: 'SCALAR', scalar: { value: COMMAND_EXECUTOR_MEM_MB }, ...extra },
  ];
}

export function commandExecutorInfo(task: Msg, frameworkId: Msg, launcherDir: string): Msg {
  const info: Msg = {
    executor_id: { value: idValue(task.task_id) },
    framework_id: frameworkId,
    name: commandExecutorName(task),
    source: idValue(task.task_id),
    command: {
      shell: false,
      value: `${launcherDir.replace(/\/+$/, '')}/mesos-executor`,
      arguments: ['mesos-executor', `--launcher_dir=${launcherDir}`],
    },
    resources: overheadResources(task),
  };
  // The task's CommandInfo lends its URIs, environment and user to the executor's.
  for (const k of ['uris', 'environment', 'user']) if (task.command?.[k] !== undefined) info.command[k] = task.command[k];
  if (task.container !== undefined) info.container = task.container;
  if (task.labels !== undefined) info.labels = task.labels;
  return info;
}

export interface ExecutorEnvironmentInput {
  frameworkId: string;
  executorInfo: Msg;
  directory: string;
  agentId: string;
  agentPid: string;
  agentEndpoint: string;
  checkpoint: boolean;
  httpCommandExecutor: boolean;
  shutdownGracePeriodMs: number;
  recoveryTimeoutMs: number;
  subscriptionBackoffMaxMs: number;
  /** --executor_environment_variables, replacing the inherited agent environment when given. */
  baseEnv: Record<string, string>;
}

/** EXE-30: the environment of an executor process. */
export function executorEnvironment(input: ExecutorEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = { ...input.baseEnv };
  env.MESOS_FRAMEWORK_ID = input.frameworkId;
  env.MESOS_EXECUTOR_ID = idValue(input.executorInfo.executor_id);
  env.MESOS_DIRECTORY = input.directory;
  env.MESOS_SANDBOX = input.directory;
  env.MESOS_SLAVE_ID = input.agentId;
  env.MESOS_SLAVE_PID = input.agentPid;
  env.MESOS_AGENT_ENDPOINT = input.agentEndpoint;
  env.MESOS_CHECKPOINT = input.checkpoint ? '1' : '0';
  env.MESOS_HTTP_COMMAND_EXECUTOR = input.httpCommandExecutor ? '1' : '0';
  env.MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD = formatDuration(input.shutdownGracePeriodMs);
  if (input.checkpoint) {
    env.MESOS_RECOVERY_TIMEOUT = formatDuration(input.recoveryTimeoutMs);
    env.MESOS_SUBSCRIPTION_BACKOFF_MAX = formatDuration(input.subscriptionBackoffMaxMs);
  }
  env.LIBPROCESS_PORT = '0';
  const vars = (input.executorInfo.command?.environment?.variables as Msg[] | undefined) ?? [];
  for (const v of vars) {
    if (typeof v.name !== 'string') continue;
    // Secrets are not resolved here; only plain values (type VALUE or unset) are passed on.
    if (v.type !== undefined && v.type !== 'VALUE' && v.type !== 'UNKNOWN') continue;
    env[v.name] = typeof v.value === 'string' ? v.value : '';
  }
  return env;
}

/** Shutdown grace of an executor: its own, else the flag. DurationInfo is in nanoseconds. */
export function shutdownGracePeriodMs(executorInfo: Msg, flagMs: number): number {
  const ns = executorInfo.shutdown_grace_period?.nanoseconds;
  return typeof ns === 'number' && ns >= 0 ? ns / 1e6 : flagMs;
}
