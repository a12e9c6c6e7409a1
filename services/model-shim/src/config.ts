import { commonConfig, env, loadConfig, type ConfigOf } from '@toolbus/service-kit';
import { PriceTable } from './accounting/prices.js';

/** Published list prices (USD per million tokens) for hosted models; self-hosted ones cost 0. */
const DEFAULT_PRICES = JSON.stringify({
  'anthropic:claude-opus-4-1': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'anthropic:claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'anthropic:claude-haiku-4-5': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  'vllm:*': { input: 0, output: 0 },
  'offline:*': { input: 0, output: 0 },
});

export const modelShimConfig = {
  ...commonConfig,
  MODEL_ROUTES: {
    schema: env.string(),
    default: 'default=offline:planner',
    description:
      'Ordered providers per model alias (and per tenant): `default=anthropic:claude-sonnet-4-5,vllm:Qwen/Qwen2.5-7B-Instruct;acme/default=vllm:...`',
  },
  ANTHROPIC_API_KEY: {
    schema: env.optional(env.string()),
    secret: true,
    description: 'Anthropic API key; unset disables the anthropic provider',
  },
  ANTHROPIC_BASE_URL: {
    schema: env.optional(env.url()),
    description: 'Anthropic API base URL (a proxy, or a fake in tests)',
  },
  OPENAI_BASE_URL: {
    schema: env.optional(env.url()),
    description:
      'Base URL of an OpenAI-compatible server, with /v1 (vLLM: http://vllm.toolbus-model:8000/v1); unset disables the provider',
  },
  OPENAI_API_KEY: {
    schema: env.optional(env.string()),
    secret: true,
    description:
      'Key for the OpenAI-compatible server (vLLM accepts any unless started with --api-key)',
  },
  OPENAI_PROVIDER_NAME: {
    schema: env.string(),
    default: 'vllm',
    description: 'Route name of the OpenAI-compatible provider (vllm, ollama, openai...)',
  },
  OPENAI_TOKENIZE: {
    schema: env.bool(),
    default: 'true',
    description:
      "Ask the server's /tokenize endpoint (vLLM) for exact input counts; falls back to the local estimate when absent",
  },
  MODEL_PRICES: {
    schema: env.json(PriceTable),
    default: DEFAULT_PRICES,
    description: 'USD per million tokens by `provider:model` (or `provider:*`)',
  },
  MODEL_RETRY_ATTEMPTS: {
    schema: env.int(1, 10),
    default: '3',
    description: 'Attempts per provider before failing over',
  },
  MODEL_RETRY_BASE_MS: {
    schema: env.int(1, 60_000),
    default: '250',
    description: 'First backoff delay; doubles per attempt, with jitter',
  },
  MODEL_RETRY_MAX_MS: {
    schema: env.int(1, 120_000),
    default: '8000',
    description: 'Longest backoff delay (retry-after may ask for more, up to the deadline)',
  },
  MODEL_ATTEMPT_TIMEOUT_MS: {
    schema: env.int(100, 600_000),
    default: '120000',
    description: 'Longest single provider attempt',
  },
  MODEL_DEFAULT_DEADLINE_MS: {
    schema: env.int(100, 600_000),
    default: '120000',
    description: 'Deadline of a request that carries none',
  },
  MODEL_STREAM_ABOVE_TOKENS: {
    schema: env.int(1, 1_000_000),
    default: '4096',
    description:
      'Stream generations with max_tokens above this, so long answers keep the connection alive',
  },
  BREAKER_FAILURES: {
    schema: env.int(1, 1000),
    default: '5',
    description: 'Consecutive failures that open a provider breaker',
  },
  BREAKER_HALF_OPEN_MS: {
    schema: env.int(100, 3_600_000),
    default: '30000',
    description: 'How long a breaker stays open before one trial call',
  },
  MODEL_CONCURRENCY: {
    schema: env.int(1, 1024),
    default: '32',
    description: 'Model requests handled at once by one instance',
  },
};

export type ModelShimConfig = ConfigOf<typeof modelShimConfig>;

export function loadModelShimConfig(environment: NodeJS.ProcessEnv = process.env): ModelShimConfig {
  return loadConfig(modelShimConfig, environment);
}
