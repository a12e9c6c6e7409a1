import {
  DelegateBackoff,
  ExponentialBackoff,
  handleWhen,
  retry,
  type IBackoff,
  type IBackoffFactory,
} from 'cockatiel';
import { CallAborted, TransientFailure } from './upstream-errors.js';

/** Another attempt needs at least this much time before the deadline to be worth starting. */
const MIN_ATTEMPT_MS = 20;
const MAX_BACKOFF_MS = 10_000;

/**
 * Decorrelated jitter (cockatiel's default generator): exponential growth from `baseMs`,
 * spread out so that callers retrying together do not hit the upstream together.
 */
export function retryBackoff(baseMs: number): IBackoffFactory<unknown> {
  return new ExponentialBackoff({ initialDelay: baseMs, maxDelay: MAX_BACKOFF_MS });
}

export interface RetryLoopOptions {
  /** Attempts at most, the first included; 1 for a method that is not idempotent. */
  maxAttempts: number;
  /** Epoch milliseconds: no attempt starts that could not finish before it. */
  deadline: number;
  /** The call's signal: once it fires, nothing more is tried and the wait ends at once. */
  signal: AbortSignal;
  backoff: IBackoffFactory<unknown>;
  /** Told of each retry before its wait: which attempt failed, how, and the wait chosen. */
  onRetry(failure: TransientFailure, attempt: number, delayMs: number): void;
}

/**
 * Runs attempts until one succeeds, one fails for good (anything but a
 * {@link TransientFailure}), none are left, or the next would not fit before the deadline;
 * then rejects with the last failure (marked when its wait would have passed the deadline).
 */
export class RetryLoop {
  /** Attempts started so far. */
  attempts = 0;

  constructor(private readonly options: RetryLoopOptions) {}

  async run<T>(attempt: () => Promise<T>): Promise<T> {
    const { signal } = this.options;
    let backoff: IBackoff<unknown> | undefined;
    let nextDelayMs = 0;
    // The filter decides, after each failure, whether another attempt fits before the deadline;
    // the backoff then waits exactly the delay it chose (Retry-After when the upstream sent one).
    const policy = retry(
      handleWhen((error) => {
        if (
          !(error instanceof TransientFailure) ||
          this.attempts >= this.options.maxAttempts ||
          signal.aborted
        )
          return false;
        backoff = backoff ? backoff.next(undefined) : this.options.backoff.next(undefined);
        const delayMs = error.details.retryAfterMs ?? Math.round(backoff.duration);
        if (Date.now() + delayMs + MIN_ATTEMPT_MS >= this.options.deadline) {
          error.waitBeyondDeadlineMs = delayMs;
          return false;
        }
        nextDelayMs = delayMs;
        this.options.onRetry(error, this.attempts, delayMs);
        return true;
      }),
      {
        maxAttempts: this.options.maxAttempts - 1,
        backoff: new DelegateBackoff(() => nextDelayMs),
      },
    );
    return untilAborted(
      policy.execute(() => {
        this.attempts += 1;
        return attempt();
      }, signal),
      signal,
    );
  }
}

/** Rejects with CallAborted as soon as `signal` fires, whatever `work` is waiting for. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CallAborted());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
