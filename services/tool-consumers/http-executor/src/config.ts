import { egressConfig } from '@toolbus/egress';
import { env, loadConfig, type ConfigOf, type ConfigSpec } from '@toolbus/service-kit';
import { credentialOriginsConfig, secretsConfig } from '@toolbus/security';
import { catalogConsumerConfig, toolConsumerConfig } from '@toolbus/tool-sdk';

/** The HTTP executor's own variables; runToolConsumer validates them with the SDK's. */
export const httpExecutorOwnConfig = {
  ...secretsConfig,
  ...credentialOriginsConfig,
  ...egressConfig,
  HTTP_RETRY_ATTEMPTS: {
    schema: env.int(1, 10),
    default: '3',
    description:
      'Attempts of an idempotent call (GET, HEAD, PUT, DELETE, OPTIONS), the first included, on a connection error, timeout, 408, 429, 502, 503 or 504; POST and PATCH are sent once',
  },
  HTTP_RETRY_BASE_MS: {
    schema: env.int(1, 60_000),
    default: '100',
    description:
      'Scale of the backoff between attempts: exponential with jitter from this, within the call deadline; a Retry-After that fits the deadline replaces it',
  },
  HTTP_MAX_RESPONSE_BYTES: {
    schema: env.int(1, 100 * 1024 * 1024),
    default: '1048576',
    description:
      'Largest upstream response body accepted (after decompression); a larger one is refused',
  },
} satisfies ConfigSpec;

/**
 * Every variable of the HTTP executor: the SDK's, those of every catalog-driven consumer
 * (`REGISTRY_URL` required: the tools come from the registry's catalog), and its own.
 */
export const httpExecutorConfig = {
  ...toolConsumerConfig,
  ...catalogConsumerConfig,
  ...httpExecutorOwnConfig,
} satisfies ConfigSpec;

export type HttpExecutorConfig = ConfigOf<typeof httpExecutorConfig>;

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadHttpExecutorConfig(
  source: NodeJS.ProcessEnv = process.env,
): HttpExecutorConfig {
  return loadConfig(httpExecutorConfig, source);
}
