import { kindOfStatus, ProviderError, retryAfterMs } from './model-provider.js';

interface SdkLikeError {
  name?: string;
  message?: string;
  status?: unknown;
  headers?: { get(name: string): string | null };
  error?: unknown;
}

/**
 * Maps an error thrown by the Anthropic or OpenAI SDK to a ProviderError. Both SDKs share one
 * error hierarchy design (APIError with status and headers, APIConnectionError,
 * APIConnectionTimeoutError, APIUserAbortError), so one mapping serves both.
 * Messages keep the provider's own explanation but never a key or a stack.
 */
export function fromSdkError(provider: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as SdkLikeError;
  // Some SDK errors leave `name` as "Error"; their class name still says what they are.
  const name =
    e.name && e.name !== 'Error'
      ? e.name
      : ((error as object | undefined)?.constructor?.name ?? '');
  if (typeof e.status === 'number') {
    const kind = kindOfStatus(e.status);
    const detail = providerMessage(e.error) ?? e.message ?? `HTTP ${e.status}`;
    return new ProviderError(
      provider,
      kind,
      `HTTP ${e.status} ${detail}`.slice(0, 500),
      e.status,
      retryAfterMs(e.headers),
    );
  }
  if (name === 'APIUserAbortError' || name === 'AbortError')
    return new ProviderError(provider, 'timeout', 'attempt deadline reached');
  if (name === 'APIConnectionTimeoutError')
    return new ProviderError(provider, 'timeout', 'request timed out');
  if (name === 'SyntaxError' || /JSON/.test(e.message ?? '')) {
    return new ProviderError(
      provider,
      'malformed',
      `unreadable answer: ${(e.message ?? '').slice(0, 200)}`,
    );
  }
  if (name === 'APIConnectionError')
    return new ProviderError(
      provider,
      'connection',
      `connection failed: ${(e.message ?? '').slice(0, 200)}`,
    );
  return new ProviderError(provider, 'connection', (e.message ?? String(error)).slice(0, 300));
}

function providerMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as {
    error?: { message?: unknown; type?: unknown };
    message?: unknown;
    type?: unknown;
  };
  const inner = b.error && typeof b.error === 'object' ? b.error : b;
  const type = typeof inner.type === 'string' ? `${inner.type}: ` : '';
  return typeof inner.message === 'string' ? `${type}${inner.message}` : undefined;
}
