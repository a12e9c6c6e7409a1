import { createLogger } from '@toolbus/observability';
import { TransportBus, type BusOptions } from '../core/bus.js';
import { kafkaSecurity, type KafkaSaslOptions, type KafkaTlsOptions } from './kafka-security.js';
import { KafkaTransport } from './kafka-transport.js';

export interface KafkaBusOptions extends BusOptions {
  brokers: string[];
  /** TLS to the brokers: `true` trusts the system CAs; options name a CA bundle or a client certificate. */
  tls?: boolean | KafkaTlsOptions;
  /** SASL authentication (SCRAM-SHA-256, SCRAM-SHA-512, or PLAIN, which needs `tls`). */
  sasl?: KafkaSaslOptions;
  sessionTimeoutMs?: number;
  maxWaitTimeMs?: number;
  maxBytesPerPartition?: number;
  partitionsConsumedConcurrently?: number;
  /** Prefix of every topic and consumer group on the brokers (see KafkaTransportOptions). */
  namespace?: string;
  /** How often `toolbus_bus_consumer_lag` asks the broker for watermarks and commits; 0 never. Default 10 s. */
  consumerLagIntervalMs?: number;
}

/** A MessageBus over Apache Kafka. Throws at once when the TLS or SASL options are contradictory. */
export function createKafkaBus(options: KafkaBusOptions): TransportBus {
  const logger =
    options.logger ?? createLogger({ name: options.serviceName }).child({ component: 'bus' });
  const { tls, sasl, ...rest } = options;
  return new TransportBus(
    new KafkaTransport({
      ...rest,
      ...kafkaSecurity({ tls, sasl }),
      clientId: options.serviceName,
      logger,
    }),
    { ...options, logger },
  );
}
