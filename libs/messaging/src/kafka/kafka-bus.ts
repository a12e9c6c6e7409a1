import { createLogger } from '@toolbus/observability';
import type { SASLOptions } from 'kafkajs';
import { TransportBus, type BusOptions } from '../core/bus.js';
import { KafkaTransport } from './kafka-transport.js';

export interface KafkaBusOptions extends BusOptions {
  brokers: string[];
  ssl?: boolean;
  sasl?: SASLOptions;
  sessionTimeoutMs?: number;
  maxWaitTimeMs?: number;
  maxBytesPerPartition?: number;
  partitionsConsumedConcurrently?: number;
}

/** A MessageBus over Apache Kafka. */
export function createKafkaBus(options: KafkaBusOptions): TransportBus {
  const logger =
    options.logger ?? createLogger({ name: options.serviceName }).child({ component: 'bus' });
  return new TransportBus(
    new KafkaTransport({ ...options, clientId: options.serviceName, logger }),
    { ...options, logger },
  );
}
