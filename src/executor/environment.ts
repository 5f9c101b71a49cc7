// The task's environment under the command executor, with mesos-executor's precedence:
// the executor's own environment (from the agent), then CommandInfo.environment, then
// MESOS_ALLOCATION_ROLE.
import type { Msg } from '../protocol/codec.js';

export function taskEnvironment(task: Msg, executorEnv: Record<string, string>, sandbox: string): Record<string, string> {
  const env: Record<string, string> = { ...executorEnv };
  env.MESOS_SANDBOX ??= sandbox;
  env.MESOS_TASK_ID ??= String(task.task_id?.value ?? '');
  const variables = (task.command?.environment?.variables ?? []) as Msg[];
  for (const v of variables) {
    // Unresolved secrets are skipped, as in Mesos.
    if (typeof v.name !== 'string' || v.name.length === 0 || v.type === 'SECRET') continue;
    env[v.name] = typeof v.value === 'string' ? v.value : '';
  }
  const role = allocationRole(task);
  if (role !== undefined) env.MESOS_ALLOCATION_ROLE = role;
  return env;
}

/** Tasks cannot mix roles, so the first resource's allocation role is the task's. */
export function allocationRole(task: Msg): string | undefined {
  const first = (task.resources as Msg[] | undefined)?.[0];
  const role = first?.allocation_info?.role;
  return typeof role === 'string' ? role : undefined;
}
