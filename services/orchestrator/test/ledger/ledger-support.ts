import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditEvent, Messages, Topics } from '@toolbus/contracts';
import type { MessageBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { openDatabase, type DataSource } from '@toolbus/persistence';
import {
  commonConfig,
  defineService,
  startService,
  type RunningService,
} from '@toolbus/service-kit';
import { infraFromEnv, TEST_JWT_SECRET, uniqueName } from '@toolbus/testing';
import { orchestratorOwnConfig } from '../../src/config.js';
import { orchestratorMigrations } from '../../src/database/migrations/index.js';
import { ledgerConfig } from '../../src/ledger/ledger.config.js';
import { ledgerModule } from '../../src/ledger/ledger.module.js';

export const logger = createLogger({
  name: 'ledger-it',
  level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
});

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
/** The built CLI, as `npm install -g` would link it (test:integration builds it first). */
const CLI_MAIN = join(ROOT, 'apps', 'cli', 'dist', 'main.js');

/**
 * The orchestrator's ledger module in a service of its own: the orchestrator's database
 * variables and migrations, the ledger's config and module, nothing else of it (no registry to
 * stand up). The group is the service's name, so a second start with the same name is
 * another replica, or the same one restarted.
 */
const ledgerServiceConfig = {
  ...commonConfig,
  DATABASE_URL: orchestratorOwnConfig.DATABASE_URL,
  DATABASE_SCHEMA: orchestratorOwnConfig.DATABASE_SCHEMA,
  ...ledgerConfig,
};

export const ledgerService = (name: string) =>
  defineService<typeof ledgerServiceConfig>({
    name,
    config: ledgerServiceConfig,
    database: (config) => ({ schema: config.DATABASE_SCHEMA, migrations: orchestratorMigrations }),
    module: ledgerModule,
  });

/** A folder of audit keys, as a mounted Secret lays it out. */
export function auditKeys(...ids: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-keys-'));
  for (const id of ids) writeFileSync(join(dir, id), randomBytes(32).toString('base64'));
  return dir;
}

export interface LedgerOptions {
  name: string;
  schema: string;
  keysDir: string;
  databaseUrl?: string;
  env?: Record<string, string>;
}

export async function startLedger(options: LedgerOptions): Promise<RunningService<unknown>> {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  return (await startService(ledgerService(options.name), {
    env: {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      DATABASE_URL: options.databaseUrl ?? databaseUrl,
      DATABASE_SCHEMA: options.schema,
      PORT: '0',
      MANAGEMENT_PORT: '0',
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      SHUTDOWN_DEADLINE_MS: '3000',
      AUDIT_LEDGER_ENABLED: 'true',
      AUDIT_KEYS_DIR: options.keysDir,
      AUDIT_KEY_ID: 'k1',
      AUDIT_LEDGER_RETRY_MS: '50',
      AUDIT_LEDGER_RETRY_MAX_MS: '400',
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      AUTH_ALLOW_SHARED_KEY: 'true',
      ...options.env,
    },
    logger,
  }))!;
}

/** A direct connection to the ledger's schema, as its owner: what a DBA (or an intruder) has. */
export function ownerConnection(schema: string): Promise<DataSource> {
  return openDatabase({ url: infraFromEnv().databaseUrl, schema, migrations: [] });
}

/** A unique schema name for the ledger. */
export const ledgerSchema = () => uniqueName('ledger_it').replace(/-/g, '_');

/** A unique tenant id. */
export const tenantId = (prefix: string) =>
  uniqueName(prefix)
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 40);

/** An audit event as the orchestrator publishes one for a tool call. */
export function toolCallEvent(tenant: string, over: Partial<AuditEvent> = {}): AuditEvent {
  return AuditEvent.parse({
    id: crypto.randomUUID(),
    at: new Date().toISOString(),
    actor: {
      subject: 'alice',
      kind: 'user',
      tenant,
      scopes: ['crm:*'],
      displayName: 'Alice Liddell',
    },
    action: 'tool.call',
    resource: { kind: 'tool', id: 'get_credit_limit@1.0.0' },
    outcome: 'denied',
    tenant,
    region: 'eu',
    traceId: randomBytes(16).toString('hex'),
    reason: 'the quota of get_credit_limit for Acme Corp is spent',
    details: { decision: 'refused', step: 'quota', argumentsHash: 'ih-acme-corp', latencyMs: 2 },
    ...over,
  });
}

/** Publishes events on `toolbus.audit` as their producers do, keyed by tenant. */
export async function publish(bus: MessageBus, ...events: AuditEvent[]): Promise<void> {
  for (const value of events)
    await bus.publish(Topics.audit, {
      type: Messages.auditRecorded.type,
      key: value.tenant,
      value,
    });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `toolbus` CLI as a user would. */
export function toolbus(args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`toolbus ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
