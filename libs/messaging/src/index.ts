export { TransportBus, type BusOptions } from './core/bus.js';
export { REQUEST_FAILED_TYPE } from './core/request-reply.js';
export { DLQ_HEADERS } from './core/subscription.js';
export {
  BusClosedError,
  isRetryable,
  NonRetryableError,
  PoisonMessageError,
  ReplyAddressError,
  ReplyRouteLostError,
  RequestFailedError,
  RequestTimeoutError,
} from './core/errors.js';
export {
  forKind,
  type IncomingMessage,
  type MessageBus,
  type MessageHandler,
  type OutgoingMessage,
  type Reply,
  type RequestHandler,
  type RequestOptions,
  type RespondOptions,
  type RetryPolicy,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionStats,
} from './core/types.js';
export { createKafkaBus, type KafkaBusOptions } from './kafka/kafka-bus.js';
export {
  KAFKA_SASL_MECHANISMS,
  type KafkaSaslMechanism,
  type KafkaSaslOptions,
  type KafkaTlsOptions,
} from './kafka/kafka-security.js';
export { createMemoryBus } from './memory/memory-bus.js';
export { defaultMemoryBroker, MemoryBroker } from './memory/memory-transport.js';
export {
  BusContext,
  BusTransport,
  OnMessage,
  OnRequest,
  type BusHandlerOptions,
} from './nest/bus-transport.js';
export {
  InjectBus,
  MESSAGE_BUS,
  MessagingModule,
  type MessagingModuleOptions,
} from './nest/messaging.module.js';
