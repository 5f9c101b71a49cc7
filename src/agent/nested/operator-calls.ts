// The agent operator API's container calls (OPA-17, OPA-21..24) over NestedContainers:
// LAUNCH_CONTAINER / WAIT_CONTAINER / KILL_CONTAINER / REMOVE_CONTAINER and their deprecated
// *_NESTED_CONTAINER aliases. Answers are a Response message or a bare HTTP status.
import type { Msg } from '../../protocol/codec.js';
import { signalName, type Termination } from '../containerizer/index.js';
import { NestedContainerError, type NestedContainers, validateContainerId, containerKey } from './containers.js';

/** A status-only answer; `message` becomes a text/plain body. */
export interface ContainerCallResult {
  status: number;
  message?: string;
}

const FIELDS: Record<string, { field: string; response?: string }> = {
  LAUNCH_CONTAINER: { field: 'launch_container' },
  WAIT_CONTAINER: { field: 'wait_container', response: 'WAIT_CONTAINER' },
  KILL_CONTAINER: { field: 'kill_container' },
  REMOVE_CONTAINER: { field: 'remove_container' },
  LAUNCH_NESTED_CONTAINER: { field: 'launch_nested_container' },
  WAIT_NESTED_CONTAINER: { field: 'wait_nested_container', response: 'WAIT_NESTED_CONTAINER' },
  KILL_NESTED_CONTAINER: { field: 'kill_nested_container' },
  REMOVE_NESTED_CONTAINER: { field: 'remove_nested_container' },
};

function invalid(message: string): ContainerCallResult {
  return { status: 400, message: `Failed to validate agent::Call: ${message}` };
}

/** Response.WaitContainer for a termination (exit_status is the raw wait(2) status). */
export function waitResponse(t: Termination): Msg {
  const out: Msg = { exit_status: t.status };
  if (t.limitation) {
    out.state = 'TASK_FAILED';
    out.reason = t.limitation.reason;
    out.limitation = { resources: t.limitation.resources };
    out.message = t.limitation.message;
  }
  return out;
}

export async function containerCall(nested: NestedContainers, call: Msg): Promise<Msg | ContainerCallResult> {
  const spec = FIELDS[String(call.type)]!;
  const body = call[spec.field] as Msg | undefined;
  if (!body) return invalid(`Expecting '${spec.field}' to be present`);
  const bad = validateContainerId(body.container_id);
  if (bad) return invalid(bad);
  const id = body.container_id as Msg;
  const key = containerKey(id);
  try {
    switch (spec.field) {
      case 'launch_container':
      case 'launch_nested_container': {
        if (!id.parent) return { status: 501, message: 'Standalone containers (LAUNCH_CONTAINER without a parent) are not supported by this agent' };
        const r = await nested.launchNested(id, body.command, body.container);
        return { status: r === 'exists' ? 202 : 200 };
      }
      case 'wait_container':
      case 'wait_nested_container': {
        const done = nested.waitNested(id);
        if (!done) return { status: 404, message: `Container ${key} cannot be found` };
        const t = await done;
        return { type: spec.response, [spec.field]: waitResponse(t) };
      }
      case 'kill_container':
      case 'kill_nested_container': {
        const n = body.signal === undefined ? 9 : Number(body.signal);
        const signal = Number.isInteger(n) && n > 0 ? signalName(n) : undefined;
        if (!signal) return invalid(`Invalid signal ${String(body.signal)}`);
        if (!nested.killNested(id, signal)) return { status: 404, message: `Container ${key} cannot be found` };
        return { status: 200 };
      }
      default:
        await nested.removeNested(id);
        return { status: 200 };
    }
  } catch (e) {
    if (e instanceof NestedContainerError) return { status: e.status, message: e.message };
    throw e;
  }
}
