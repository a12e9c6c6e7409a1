import { egressAgent, egressFetch } from '@toolbus/egress';
import { SecretStore } from '@toolbus/security';
import { catalogToolConsumer } from '@toolbus/tool-sdk';
import { HttpToolProvider } from './catalog/http-tool-provider.js';
import { httpExecutorOwnConfig } from './config.js';
import { HttpToolExecutor } from './executor/http-tool-executor.js';

/** The HTTP executor: runs the approved tools imported from OpenAPI documents. */
export const httpExecutorService = catalogToolConsumer({
  service: 'http-executor',
  config: httpExecutorOwnConfig,
  tools: ({ view, config, logger }) => {
    // One pool of guarded connections for every upstream: internal addresses are refused.
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
  },
});
