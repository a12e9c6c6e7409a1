import { ConfigError, loadConfig } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import { checkLedgerConfig, ledgerConfig } from './ledger.config.js';

const load = (env: Record<string, string>) => loadConfig(ledgerConfig, env);
const problemsOf = (env: Record<string, string>) => {
  try {
    checkLedgerConfig(load(env));
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => p.variable);
  }
};

describe('ledgerConfig', () => {
  it('asks for nothing while the ledger is off', () => {
    expect(problemsOf({})).toEqual([]);
  });

  it('names what an enabled ledger lacks: the key id and a way to verify its readers', () => {
    expect(problemsOf({ AUDIT_LEDGER_ENABLED: 'true' })).toEqual(['AUDIT_KEY_ID', 'AUTH_JWKS_URL']);
  });

  it('accepts an enabled ledger with a key id and a JWKS', () => {
    expect(
      problemsOf({
        AUDIT_LEDGER_ENABLED: 'true',
        AUDIT_KEY_ID: '2026-03',
        AUTH_JWKS_URL: 'https://idp.example.com/jwks',
      }),
    ).toEqual([]);
  });

  it('refuses a key id that is not a file name, and backoffs the wrong way round', () => {
    expect(() => load({ AUDIT_KEY_ID: '../etc/passwd' })).toThrow(/AUDIT_KEY_ID.*file name/);
    expect(
      problemsOf({
        AUDIT_LEDGER_ENABLED: 'true',
        AUDIT_KEY_ID: 'k1',
        AUTH_JWKS_URL: 'https://idp.example.com/jwks',
        AUDIT_LEDGER_RETRY_MS: '5000',
        AUDIT_LEDGER_RETRY_MAX_MS: '100',
      }),
    ).toEqual(['AUDIT_LEDGER_RETRY_MAX_MS']);
  });
});
