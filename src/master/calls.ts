// Scheduler calls (SCH-10..SCH-27) independent of how they arrived (v1 HTTP or a driver's
// libprocess message): validation and dispatch to the Master.
import type { Msg } from './allocator/allocator.js';
import type { Master } from './master.js';
import type { Framework } from './records.js';

/** Sub-message each call type must carry (SCH-01 validation). */
const PAYLOAD: Record<string, string> = {
  SUBSCRIBE: 'subscribe',
  ACCEPT: 'accept',
  DECLINE: 'decline',
  ACCEPT_INVERSE_OFFERS: 'accept_inverse_offers',
  DECLINE_INVERSE_OFFERS: 'decline_inverse_offers',
  KILL: 'kill',
  SHUTDOWN: 'shutdown',
  ACKNOWLEDGE: 'acknowledge',
  ACKNOWLEDGE_OPERATION_STATUS: 'acknowledge_operation_status',
  RECONCILE: 'reconcile',
  RECONCILE_OPERATIONS: 'reconcile_operations',
  MESSAGE: 'message',
  REQUEST: 'request',
  UPDATE_FRAMEWORK: 'update_framework',
};

/** Mesos's `validation::scheduler::call::validate`. */
export function validateCall(call: Msg): string | undefined {
  const type: string | undefined = call.type;
  if (type === undefined) return "Expecting 'type' to be present";
  if (type === 'UNKNOWN') return undefined;
  const payload = PAYLOAD[type];
  if (payload && call[payload] === undefined) return `Expecting '${payload}' to be present`;
  if (type === 'SUBSCRIBE') {
    const infoId = call.subscribe.framework_info?.id?.value;
    if (infoId !== call.framework_id?.value) return "'framework_id' differs from 'subscribe.framework_info.id'";
    return undefined;
  }
  if (call.framework_id === undefined) return "Expecting 'framework_id' to be present";
  if (type === 'ACKNOWLEDGE') {
    const uuid = call.acknowledge.uuid;
    if (!Buffer.isBuffer(uuid) || uuid.length !== 16) return 'Not a valid UUID';
  }
  if (type === 'ACKNOWLEDGE_OPERATION_STATUS') {
    const uuid = call.acknowledge_operation_status.uuid;
    if (!Buffer.isBuffer(uuid) || uuid.length !== 16) return 'Not a valid UUID';
    if (call.acknowledge_operation_status.agent_id === undefined) return "Expecting 'agent_id' to be present";
  }
  if (type === 'UPDATE_FRAMEWORK') {
    if (call.update_framework.framework_info?.id?.value !== call.framework_id.value) {
      return "'framework_id' differs from 'update_framework.framework_info.id'";
    }
  }
  return undefined;
}

export interface CallResult {
  status: 200 | 202 | 400 | 501;
  body?: string;
}

/** Applies a validated non-SUBSCRIBE call of a subscribed framework. */
export function applyCall(master: Master, fw: Framework, call: Msg): CallResult {
  fw.count('calls');
  fw.count(`calls/${String(call.type).toLowerCase()}`);
  switch (call.type as string) {
    case 'TEARDOWN':
      master.teardown(fw);
      break;
    case 'ACCEPT':
      master.accept(fw, call.accept);
      break;
    case 'DECLINE':
      master.decline(fw, call.decline);
      break;
    case 'ACCEPT_INVERSE_OFFERS':
      master.respondToInverseOffers(fw, ((call.accept_inverse_offers.inverse_offer_ids ?? []) as Msg[]).map((o) => String(o.value)), true, call.accept_inverse_offers.filters);
      break;
    case 'DECLINE_INVERSE_OFFERS':
      master.respondToInverseOffers(fw, ((call.decline_inverse_offers.inverse_offer_ids ?? []) as Msg[]).map((o) => String(o.value)), false, call.decline_inverse_offers.filters);
      break;
    case 'ACKNOWLEDGE_OPERATION_STATUS':
    case 'RECONCILE_OPERATIONS':
      // No operation feedback is produced (offer operations other than launches are not applied).
      break;
    case 'REVIVE':
      master.revive(fw, call.revive);
      break;
    case 'SUPPRESS':
      master.suppress(fw, call.suppress);
      break;
    case 'KILL':
      master.kill(fw, call.kill);
      break;
    case 'SHUTDOWN':
      master.shutdownExecutor(fw, call.shutdown);
      break;
    case 'ACKNOWLEDGE':
      master.acknowledge(fw, call.acknowledge);
      break;
    case 'RECONCILE':
      master.reconcile(fw, call.reconcile);
      break;
    case 'MESSAGE':
      master.message(fw, call.message);
      break;
    case 'REQUEST':
      master.request(fw, call.request);
      break;
    case 'UPDATE_FRAMEWORK': {
      const err = master.updateFramework(fw, call.update_framework);
      return err ? { status: 400, body: err } : { status: 200 };
    }
    default:
      return { status: 501, body: `Received an unexpected '${call.type}' call` };
  }
  return { status: 202 };
}
