import { env, loadConfig, type ConfigOf, type ConfigSpec } from '@toolbus/service-kit';
import { toolConsumerConfig } from '@toolbus/tool-sdk';

/** The CRM consumer's own variables; runToolConsumer validates them with the SDK's. */
export const crmOwnConfig = {
  CRM_MAX_CREDIT_LIMIT: {
    schema: env.int(0, 999_999_999_999),
    default: '10000000',
    description:
      'Highest credit limit update_credit_limit may set, in the account currency; a higher one is refused and needs a credit manager',
  },
} satisfies ConfigSpec;

/** Every variable of the CRM consumer: the SDK's (`toolConsumerConfig`) and its own. */
export const crmConfig = { ...toolConsumerConfig, ...crmOwnConfig };

export type CrmConfig = ConfigOf<typeof crmConfig>;

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadCrmConfig(source: NodeJS.ProcessEnv = process.env): CrmConfig {
  return loadConfig(crmConfig, source);
}
