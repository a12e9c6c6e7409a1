import './tracing.js';
import { platformTopics, toolRequestsTopic } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { RegistryView } from '@toolbus/registry-client';
import { SecretStore } from '@toolbus/security';
import { busFromConfig, runMain } from '@toolbus/service-kit';
import { runToolConsumer, type RunningToolConsumer } from '@toolbus/tool-sdk';
import { loadMcpBridgeConfig, mcpBridgeOwnConfig } from './config.js';
import { createMcpBridge } from './mcp-bridge.js';

const SERVICE = 'mcp-bridge';

async function main(): Promise<void> {
  if (process.argv.includes('--migrate-only')) {
    // The chart's migration Job: the SDK applies the dedup table and exits; no registry needed.
    await runToolConsumer({ service: SERVICE, tools: [], config: mcpBridgeOwnConfig });
    return;
  }
  // Validated here as well as in runToolConsumer: the bus, the catalog and the secrets are
  // built before it, and a missing REGISTRY_URL must stop the process naming the variable.
  const config = loadMcpBridgeConfig();
  const logger = createLogger({ name: SERVICE, level: config.LOG_LEVEL });

  // One bus for the whole process, made exactly as runToolConsumer would make it. The catalog
  // view reads toolbus.registry.changes on it, and the consumer answers tool_requests on it;
  // the view is filled before the consumer subscribes, so no call arrives before the catalog.
  // The consumer does not own a bus it is given, so this function closes it on shutdown.
  const bus = busFromConfig(SERVICE, config, logger);
  await bus.ensureTopics(platformTopics([SERVICE]));
  const view = await RegistryView.start({
    registryUrl: config.REGISTRY_URL,
    token: config.REGISTRY_TOKEN,
    bus,
    service: SERVICE,
    logger,
    snapshotTimeoutMs: config.REGISTRY_SNAPSHOT_TIMEOUT_MS,
  });
  const bridge = createMcpBridge({
    view,
    secrets: new SecretStore(config.SECRETS_DIR),
    logger,
    connectTimeoutMs: config.MCP_CONNECT_TIMEOUT_MS,
    stdioCommands: config.MCP_STDIO_COMMANDS ?? [],
    topic: toolRequestsTopic(SERVICE),
  });

  let consumer: RunningToolConsumer;
  try {
    consumer = await runToolConsumer({
      service: SERVICE,
      tools: bridge.provider,
      config: mcpBridgeOwnConfig,
      bus,
      logger,
      handleSignals: false,
    });
  } catch (error) {
    await bridge.close();
    await view.close();
    await bus.close(config.SHUTDOWN_DEADLINE_MS);
    throw error;
  }

  // Signals are handled here rather than by the SDK: after the consumer has drained, the
  // upstream clients (stdio children), the view and the bus it does not own must close too.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${SERVICE} shutting down`);
    (async () => {
      await consumer.close();
      await bridge.close();
      await view.close();
      await bus.close(config.SHUTDOWN_DEADLINE_MS);
    })().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

runMain(SERVICE, main);
