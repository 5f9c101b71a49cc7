// Validation of TaskInfo.health_check (HealthCheck) and TaskInfo.check (CheckInfo), with
// Mesos's messages: the master rejects a task with "Task uses invalid health check: <msg>" /
// "Task uses invalid check: <msg>" (the caller adds that prefix).
import type { Msg } from '../../protocol/codec.js';

const NON_NEGATIVE_HEALTH = ['delay_seconds', 'grace_period_seconds', 'interval_seconds', 'timeout_seconds'];
const NON_NEGATIVE_CHECK = ['delay_seconds', 'interval_seconds', 'timeout_seconds'];

function commandType(command: Msg): string {
  return command.shell === false ? "'executable path'" : "'shell command'";
}

function negative(msg: Msg, fields: string[]): string | undefined {
  for (const f of fields) {
    if (msg[f] !== undefined && Number(msg[f]) < 0) return `Expecting '${f}' to be non-negative`;
  }
  return undefined;
}

/** Returns an error message, or undefined when the HealthCheck is valid. */
export function validateHealthCheck(check: Msg): string | undefined {
  if (check.type === undefined) return "HealthCheck must specify 'type'";
  switch (check.type) {
    case 'COMMAND': {
      if (!check.command) return "Expecting 'command' to be set for COMMAND health check";
      if (typeof check.command.value !== 'string') return `Command health check must contain ${commandType(check.command)}`;
      break;
    }
    case 'HTTP': {
      const http = check.http;
      if (!http) return "Expecting 'http' to be set for HTTP health check";
      if (http.scheme !== undefined && http.scheme !== 'http' && http.scheme !== 'https') {
        return `Unsupported HTTP health check scheme: '${http.scheme}'`;
      }
      if (http.path !== undefined && !String(http.path).startsWith('/')) {
        return `The path '${http.path}' of HTTP health check must start with '/'`;
      }
      break;
    }
    case 'TCP':
      if (!check.tcp) return "Expecting 'tcp' to be set for TCP health check";
      break;
    default:
      return `'${check.type}' is not a valid health check type`;
  }
  return negative(check, NON_NEGATIVE_HEALTH);
}

/** Returns an error message, or undefined when the CheckInfo is valid. */
export function validateCheckInfo(check: Msg): string | undefined {
  if (check.type === undefined) return "CheckInfo must specify 'type'";
  switch (check.type) {
    case 'COMMAND': {
      if (!check.command) return "Expecting 'command' to be set for COMMAND check";
      const command = check.command.command ?? {};
      if (typeof command.value !== 'string') return `Command check must contain ${commandType(command)}`;
      break;
    }
    case 'HTTP':
      if (!check.http) return "Expecting 'http' to be set for HTTP check";
      if (check.http.path !== undefined && !String(check.http.path).startsWith('/')) {
        return `The path '${check.http.path}' of HTTP check must start with '/'`;
      }
      break;
    case 'TCP':
      if (!check.tcp) return "Expecting 'tcp' to be set for TCP check";
      break;
    default:
      return `'${check.type}' is not a valid check type`;
  }
  return negative(check, NON_NEGATIVE_CHECK);
}
