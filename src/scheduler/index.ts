// The scheduler client library (v1 HTTP API): see client.ts.
export { SchedulerClient, type SchedulerClientOptions, type CallResult } from './client.js';
export { SchedulerHttpError, SubscriptionError } from './errors.js';
export { parseMaster, type Endpoint } from './address.js';
export type { ContentType, Msg } from './wire.js';
