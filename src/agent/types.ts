// Protobuf messages travel as plain objects shaped like the proto (see docs/architecture.md).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;

export const TERMINAL_STATES = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_LOST',
  'TASK_ERROR',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

export function isTerminalState(state: string | undefined): boolean {
  return state !== undefined && TERMINAL_STATES.has(state);
}

/** `{value}` wrappers (FrameworkID, TaskID, ...) to their string. */
export function idValue(id: Msg | undefined): string {
  return (id?.value as string | undefined) ?? '';
}
