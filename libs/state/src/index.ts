export {
  StateUnavailableError,
  type ListAppended,
  type ListOptions,
  type RateDecision,
  type RateDecisions,
  type RateLimitOptions,
  type RateWindow,
  type SetOptions,
  type StateStore,
} from './state-store.js';
export {
  createMemoryStore,
  MemoryStateBackend,
  type MemoryStoreOptions,
} from './memory/memory-store.js';
export { createRedisStore, type RedisStoreOptions, type StateLogger } from './redis/redis-store.js';
