import { TransportBus, type BusOptions } from '../core/bus.js';
import { MemoryTransport, type MemoryBroker } from './memory-transport.js';

/** An in-process MessageBus; buses given the same broker see each other's messages. */
export function createMemoryBus(options: BusOptions & { broker?: MemoryBroker }): TransportBus {
  return new TransportBus(new MemoryTransport(options.broker), options);
}
