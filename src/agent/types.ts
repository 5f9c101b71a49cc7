// Protobuf messages travel as plain objects shaped like the proto (see docs/architecture.md).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
import type { Msg } from '../protocol/codec.js';
/** The one message-object type (docs/architecture.md, "Message objects"), re-exported for callers here. */
export type { Msg };

// One list of terminal task states for master and agent.
export { isTerminalState } from '../master/task-states.js';

/** `{value}` wrappers (FrameworkID, TaskID, ...) to their string. */
export function idValue(id: Msg | undefined): string {
  return (id?.value as string | undefined) ?? '';
}
