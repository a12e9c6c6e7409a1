import { infraFromEnv, uniqueName } from '@toolbus/testing';
import { Redis } from 'ioredis';
import {
  createMemoryStore,
  createRedisStore,
  MemoryStateBackend,
  type StateStore,
} from '../src/index.js';

/** What the contract suite needs from an adapter: stores that share one backend, as replicas do. */
export interface StateHarness {
  readonly name: 'memory' | 'redis';
  /** A new store over the shared data, as another replica of the orchestrator would have. */
  store(options?: { keyPrefix?: string }): StateStore;
  /** A key prefix no other test run uses (the Redis is shared). */
  readonly prefix: string;
  close(): Promise<void>;
}

export function memoryHarness(): StateHarness {
  const backend = new MemoryStateBackend();
  const stores: StateStore[] = [];
  const prefix = `${uniqueName('state')}:`;
  return {
    name: 'memory',
    prefix,
    store(options = {}) {
      const store = createMemoryStore({ backend, keyPrefix: options.keyPrefix ?? prefix });
      stores.push(store);
      return store;
    },
    async close() {
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

export function redisHarness(): StateHarness {
  const { redisUrl } = infraFromEnv();
  const stores: StateStore[] = [];
  const prefixes = new Set<string>();
  const prefix = `${uniqueName('state')}:`;
  prefixes.add(prefix);
  return {
    name: 'redis',
    prefix,
    store(options = {}) {
      const keyPrefix = options.keyPrefix ?? prefix;
      prefixes.add(keyPrefix);
      // A generous timeout: the shared Redis serves a whole test run on two cores.
      const store = createRedisStore({ url: redisUrl, keyPrefix, commandTimeoutMs: 2_000 });
      stores.push(store);
      return store;
    },
    async close() {
      await Promise.all(stores.map((s) => s.close()));
      // Leave nothing behind in the shared Redis.
      const raw = new Redis(redisUrl, { lazyConnect: true });
      await raw.connect();
      for (const p of prefixes) {
        let cursor = '0';
        do {
          const [next, keys] = await raw.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 500);
          if (keys.length > 0) await raw.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
      await raw.quit();
    },
  };
}
