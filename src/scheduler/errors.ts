// Errors the scheduler client reports: HTTP refusals carry the status code and the master's body.

export class SchedulerHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly callType?: string,
  ) {
    super(`${callType ? `${callType} call` : 'Request'} failed with HTTP ${status}${body ? `: ${body.trim()}` : ''}`);
    this.name = 'SchedulerHttpError';
  }
}

/** The master answered the subscription with an ERROR event (fatal for this subscription). */
export class SubscriptionError extends Error {
  constructor(message: string) {
    super(`Subscription refused: ${message}`);
    this.name = 'SubscriptionError';
  }
}
