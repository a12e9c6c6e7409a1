import './tracing.js';
import { ConfigError } from '@toolbus/service-kit';
import { runToolConsumer } from '@toolbus/tool-sdk';
import { erpConfig } from './config.js';
import { erpMigrations } from './migrations/index.js';
import { erpTools } from './tools/index.js';

async function main(): Promise<void> {
  await runToolConsumer({
    service: 'erp',
    tools: erpTools,
    migrations: erpMigrations,
    config: erpConfig,
  });
}

main().catch((error: unknown) => {
  // A configuration error is the operator's to fix: say exactly what, without a stack.
  if (error instanceof ConfigError) process.stderr.write(`erp: ${error.message}\n`);
  else
    process.stderr.write(
      `erp failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  process.exit(1);
});
