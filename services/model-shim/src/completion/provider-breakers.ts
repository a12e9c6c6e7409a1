import {
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { ProviderError } from '../providers/model-provider.js';

/**
 * One circuit breaker per provider: after N consecutive failures calls skip straight to the
 * next provider until a trial call after `halfOpenAfterMs` succeeds. A provider that rejects a
 * request as invalid is healthy, so that kind does not count.
 */
export class ProviderBreakers {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();

  constructor(
    private readonly options: {
      failures: number;
      halfOpenAfterMs: number;
      onStateChange?: (provider: string, state: 'closed' | 'open' | 'half_open') => void;
    },
  ) {}

  get(provider: string): CircuitBreakerPolicy {
    let breaker = this.breakers.get(provider);
    if (!breaker) {
      breaker = circuitBreaker(
        handleWhen((e) => e instanceof ProviderError && e.kind !== 'invalid_request'),
        {
          halfOpenAfter: this.options.halfOpenAfterMs,
          breaker: new ConsecutiveBreaker(this.options.failures),
        },
      );
      const report = this.options.onStateChange;
      if (report) {
        breaker.onBreak(() => report(provider, 'open'));
        breaker.onHalfOpen(() => report(provider, 'half_open'));
        breaker.onReset(() => report(provider, 'closed'));
      }
      this.breakers.set(provider, breaker);
    }
    return breaker;
  }

  isOpen(provider: string): boolean {
    return this.breakers.get(provider)?.state === CircuitState.Open;
  }
}
