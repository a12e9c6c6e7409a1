/** No reply came before the deadline. Retryable: the responder may just be slow or down. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  readonly retryable = true;
  constructor(
    readonly topic: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to a request on ${topic} within ${timeoutMs} ms`);
  }
}

/** The responder could not handle the request and parked it on the DLQ; the reason says why. */
export class RequestFailedError extends Error {
  override readonly name = 'RequestFailedError';
  constructor(
    readonly topic: string,
    readonly reason: string,
    readonly retryable: boolean,
  ) {
    super(`request on ${topic} failed: ${reason}`);
  }
}

/**
 * The partition this instance was to receive the reply on moved to another instance in a
 * rebalance; the reply cannot reach this waiter. Retryable at once.
 */
export class ReplyRouteLostError extends Error {
  override readonly name = 'ReplyRouteLostError';
  readonly retryable = true;
  /** `partition` undefined: this instance was left with no partition of the topic at all. */
  constructor(topic: string, partition: number | undefined) {
    super(
      partition === undefined
        ? `this instance holds no partition of ${topic} since a rebalance (more instances than partitions?); retry the request`
        : `reply partition ${topic}[${partition}] was reassigned while waiting; retry the request`,
    );
  }
}

export class BusClosedError extends Error {
  override readonly name = 'BusClosedError';
  readonly retryable = true;
  constructor() {
    super('the message bus is closed');
  }
}

/**
 * Thrown by a handler for a failure that retrying cannot fix (bad data, a business rule):
 * the message goes to the DLQ at once instead of after every retry.
 */
export class NonRetryableError extends Error {
  override readonly name: string = 'NonRetryableError';
}

/** A message that cannot even be decoded: not JSON, bad envelope, wrong type or schema. */
export class PoisonMessageError extends NonRetryableError {
  override readonly name = 'PoisonMessageError';
}

/**
 * A request whose reply address a responder refuses: its `ce_replyto` is not one of the reply
 * topics, or its `ce_replypartition` is no partition of it. It is parked on the DLQ unanswered,
 * since the address it names is the one thing that cannot be trusted.
 */
export class ReplyAddressError extends NonRetryableError {
  override readonly name = 'ReplyAddressError';
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof NonRetryableError) return false;
  if (error && typeof error === 'object' && 'retryable' in error && error.retryable === false)
    return false;
  return true;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}
