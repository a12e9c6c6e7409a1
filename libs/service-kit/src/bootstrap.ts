import { createKafkaBus, createMemoryBus, type MessageBus } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';
import { ConfigError } from './config.js';
import { kafkaSecurityFromConfig, type KafkaSecurityConfig } from './kafka-config.js';

/** The bus a service uses: Kafka when brokers are configured, the in-memory bus otherwise. */
export function busFromConfig(
  serviceName: string,
  config: {
    KAFKA_BROKERS?: string[];
    KAFKA_NAMESPACE?: string;
    KAFKA_SESSION_TIMEOUT_MS: number;
    SHUTDOWN_DEADLINE_MS: number;
  } & KafkaSecurityConfig,
  logger: Logger,
): MessageBus {
  if (config.KAFKA_BROKERS && config.KAFKA_BROKERS.length > 0) {
    return createKafkaBus({
      serviceName,
      brokers: config.KAFKA_BROKERS,
      ...kafkaSecurityFromConfig(config, logger),
      logger: logger.child({ component: 'bus' }),
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      ...(config.KAFKA_NAMESPACE ? { namespace: config.KAFKA_NAMESPACE } : {}),
      shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
    });
  }
  return createMemoryBus({
    serviceName,
    logger: logger.child({ component: 'bus' }),
    shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
  });
}

/**
 * Runs a service's `main`: a configuration error is the operator's to fix, so it is printed as
 * its message naming each bad variable, without a stack; anything else with its stack. Either
 * way the process exits 1.
 */
export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${name}: ${error.message}\n`);
    else
      process.stderr.write(
        `${name} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    process.exit(1);
  });
}
