import type { SASLOptions } from 'kafkajs';
import { TransportBus, type BusOptions } from './core/bus.js';
import { KafkaTransport, type KafkaTransportOptions } from './kafka/kafka-transport.js';
import { MemoryBroker, MemoryTransport } from './memory/memory-transport.js';
import { createLogger } from '@toolbus/observability';

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
  const logger = options.logger ?? createLogger({ name: options.serviceName }).child({ component: 'bus' });
  const transportOptions: KafkaTransportOptions = { ...options, clientId: options.serviceName, logger };
  return new TransportBus(new KafkaTransport(transportOptions), { ...options, logger });
}

/** An in-process MessageBus; buses given the same broker see each other's messages. */
export function createMemoryBus(options: BusOptions & { broker?: MemoryBroker }): TransportBus {
  return new TransportBus(new MemoryTransport(options.broker), options);
}
