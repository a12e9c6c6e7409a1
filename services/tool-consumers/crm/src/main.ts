import './tracing.js';
import { ConfigError } from '@toolbus/service-kit';
import { runToolConsumer } from '@toolbus/tool-sdk';
import { crmConfig, loadCrmConfig } from './config.js';
import { crmMigrations } from './migrations/index.js';
import { crmTools } from './tools/index.js';

async function main(): Promise<void> {
  // The tools need CRM_MAX_CREDIT_LIMIT before runToolConsumer exists to validate it, so the
  // whole configuration is checked here first (every bad variable named at once).
  const config = loadCrmConfig();
  await runToolConsumer({
    service: 'crm',
    tools: crmTools(config),
    migrations: crmMigrations,
    config: crmConfig,
  });
}

main().catch((error: unknown) => {
  // A configuration error is the operator's to fix: say exactly what, without a stack.
  if (error instanceof ConfigError) process.stderr.write(`crm: ${error.message}\n`);
  else
    process.stderr.write(
      `crm failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  process.exit(1);
});
