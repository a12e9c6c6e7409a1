import { Module, type DynamicModule } from '@nestjs/common';
import { AuditCipher, AuthGuard, TokenVerifier, type AuditKeysConfig } from '@toolbus/security';
import type { ServiceContext } from '@toolbus/service-kit';
import { AuditController } from './audit.controller.js';
import { AuditLedger } from './audit-ledger.js';
import { checkLedgerConfig, type LedgerConfig } from './ledger.config.js';
import { ledgerConsumer } from './ledger.consumer.js';
import { PgLedgerStore } from './ledger-store.js';

@Module({})
class LedgerModule {}

/**
 * The audit ledger as a module of the orchestrator: the consumer of `toolbus.audit` and the
 * read API, on the service's database. Off (`AUDIT_LEDGER_ENABLED=false`) it is an empty
 * module. On, a missing key id or token configuration stops the service naming the variable,
 * and so does a current key that is not mounted: better than a ledger that cannot write.
 */
export async function ledgerModule(context: ServiceContext<LedgerConfig>): Promise<DynamicModule> {
  const { config, db, logger } = context;
  if (!config.AUDIT_LEDGER_ENABLED) return { module: LedgerModule };
  checkLedgerConfig(config);
  if (!db)
    throw new Error('the audit ledger needs the service database (its definition declares none)');
  // The object loadConfig returned: AUDIT_KEY_ID_FILE, when used, is followed as it changes.
  const cipher = AuditCipher.fromConfig(config as AuditKeysConfig);
  await cipher.current();
  const ledger = new AuditLedger(
    new PgLedgerStore(db),
    cipher,
    { keepArguments: config.AUDIT_LEDGER_ARGUMENTS, pageLimit: config.AUDIT_LEDGER_PAGE_LIMIT },
    logger.child({ component: 'audit-ledger' }),
  );
  return {
    module: LedgerModule,
    controllers: [
      ledgerConsumer({
        concurrency: config.AUDIT_LEDGER_CONCURRENCY,
        retryMs: config.AUDIT_LEDGER_RETRY_MS,
        retryMaxMs: config.AUDIT_LEDGER_RETRY_MAX_MS,
      }),
      AuditController,
    ],
    providers: [
      { provide: AuditLedger, useValue: ledger },
      { provide: TokenVerifier, useValue: new TokenVerifier(config) },
      AuthGuard,
    ],
  };
}
