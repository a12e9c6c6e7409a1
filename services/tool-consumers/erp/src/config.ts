import { loadConfig, type ConfigOf } from '@toolbus/service-kit';
import { toolConsumerConfig } from '@toolbus/tool-sdk';

/** Every variable of the ERP consumer: it has none beyond the SDK's. */
export const erpConfig = { ...toolConsumerConfig };

export type ErpConfig = ConfigOf<typeof erpConfig>;

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadErpConfig(source: NodeJS.ProcessEnv = process.env): ErpConfig {
  return loadConfig(erpConfig, source);
}
