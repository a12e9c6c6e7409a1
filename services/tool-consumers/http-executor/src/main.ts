import './tracing.js';
import { SecretStore } from '@toolbus/security';
import { runMain } from '@toolbus/service-kit';
import { runCatalogToolConsumer } from '@toolbus/tool-sdk';
import { HttpToolProvider } from './catalog/http-tool-provider.js';
import { httpExecutorOwnConfig } from './config.js';
import { HttpToolExecutor } from './executor/http-tool-executor.js';

runMain('http-executor', () =>
  runCatalogToolConsumer({
    service: 'http-executor',
    config: httpExecutorOwnConfig,
    tools: ({ view, config, logger }) => {
      const executor = new HttpToolExecutor({
        secrets: new SecretStore(config.SECRETS_DIR),
        retryAttempts: config.HTTP_RETRY_ATTEMPTS,
        retryBaseMs: config.HTTP_RETRY_BASE_MS,
        maxResponseBytes: config.HTTP_MAX_RESPONSE_BYTES,
        logger,
      });
      const provider = new HttpToolProvider(view, executor, logger);
      return { provider, close: () => provider.close() };
    },
  }),
);
