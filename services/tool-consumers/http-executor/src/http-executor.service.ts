import { egressAgent, egressFetch } from '@toolbus/egress';
import type { Logger } from '@toolbus/observability';
import { SecretStore } from '@toolbus/security';
import type { ConfigOf } from '@toolbus/service-kit';
import { catalogToolConsumer, type CatalogTools } from '@toolbus/tool-sdk';
import { HttpToolProvider, type CatalogView } from './catalog/http-tool-provider.js';
import { httpExecutorOwnConfig } from './config.js';
import { HttpToolExecutor } from './executor/http-tool-executor.js';

/**
 * The executor's tools over a catalog view, wired from its config: one pool of guarded
 * connections for every upstream (EGRESS_ALLOW), credentials only to their origins
 * (CREDENTIAL_ORIGINS). The service serves the registry's view; tests give another.
 */
export function httpExecutorTools(context: {
  view: CatalogView;
  config: ConfigOf<typeof httpExecutorOwnConfig>;
  logger: Logger;
}): CatalogTools {
  const { view, config, logger } = context;
  const agent = egressAgent({ allow: config.EGRESS_ALLOW });
  const executor = new HttpToolExecutor({
    secrets: new SecretStore(config.SECRETS_DIR),
    retryAttempts: config.HTTP_RETRY_ATTEMPTS,
    retryBaseMs: config.HTTP_RETRY_BASE_MS,
    maxResponseBytes: config.HTTP_MAX_RESPONSE_BYTES,
    fetch: egressFetch(agent),
    credentialOrigins: config.CREDENTIAL_ORIGINS,
    logger,
  });
  const provider = new HttpToolProvider(view, executor, logger);
  return {
    provider,
    close: async () => {
      provider.close();
      await agent.close();
    },
  };
}

/** The HTTP executor: runs the approved tools imported from OpenAPI documents. */
export const httpExecutorService = catalogToolConsumer({
  service: 'http-executor',
  config: httpExecutorOwnConfig,
  tools: httpExecutorTools,
});
