import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusTransport, createKafkaBus, createMemoryBus, type MessageBus } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';
import { PinoNestLogger } from './logger.js';

/** The bus a service uses: Kafka when brokers are configured, the in-memory bus otherwise. */
export function busFromConfig(
  serviceName: string,
  config: {
    KAFKA_BROKERS?: string[];
    KAFKA_SESSION_TIMEOUT_MS: number;
    SHUTDOWN_DEADLINE_MS: number;
  },
  logger: Logger,
): MessageBus {
  if (config.KAFKA_BROKERS && config.KAFKA_BROKERS.length > 0) {
    return createKafkaBus({
      serviceName,
      brokers: config.KAFKA_BROKERS,
      logger: logger.child({ component: 'bus' }),
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
    });
  }
  return createMemoryBus({
    serviceName,
    logger: logger.child({ component: 'bus' }),
    shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
  });
}

export interface ServiceOptions {
  name: string;
  /** The service's root Nest module. */
  module: unknown;
  logger: Logger;
  host: string;
  port: number;
  /** When given, the app's @OnMessage/@OnRequest handlers are served from this bus. */
  bus?: MessageBus;
}

/**
 * Builds the one Nest app a service runs: Fastify for HTTP (health, metrics, API), the bus
 * transport for its Kafka handlers, pino for framework logs, and shutdown hooks so SIGTERM
 * drains in-flight messages before the process exits.
 */
export async function startService(options: ServiceOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    options.module as never,
    new FastifyAdapter(),
    {
      logger: new PinoNestLogger(options.logger.child({ component: 'nest' })),
    },
  );
  app.enableShutdownHooks();
  if (options.bus) {
    app.connectMicroservice(
      { strategy: new BusTransport(options.bus, { groupPrefix: options.name }) },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
  }
  await app.listen(options.port, options.host);
  options.logger.info(
    { host: options.host, port: options.port, bus: options.bus ? 'on' : 'off' },
    `${options.name} started`,
  );
  return app;
}
