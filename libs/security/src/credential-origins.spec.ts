import { loadConfig } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import { credentialOriginProblem, credentialOriginsConfig } from './index.js';

describe('credential origins', () => {
  const origins = loadConfig(credentialOriginsConfig, {
    CREDENTIAL_ORIGINS: '{"crm-api":["https://crm.internal","https://crm.internal:8443"]}',
  }).CREDENTIAL_ORIGINS;

  it('lets a credential go only to the origins listed for it', () => {
    expect(
      credentialOriginProblem(origins, 'crm-api', 'https://crm.internal/v1/x'),
    ).toBeUndefined();
    expect(
      credentialOriginProblem(origins, 'crm-api', 'https://crm.internal:8443/'),
    ).toBeUndefined();
    expect(credentialOriginProblem(origins, 'crm-api', 'https://evil.example/v1')).toBe(
      'the credential "crm-api" may be sent only to https://crm.internal, https://crm.internal:8443, not to https://evil.example',
    );
    // Same host, other scheme or port: another origin.
    expect(credentialOriginProblem(origins, 'crm-api', 'http://crm.internal/')).toBeDefined();
    expect(credentialOriginProblem(origins, 'erp-api', 'https://crm.internal/')).toMatch(
      /may be sent to no origin/,
    );
  });

  it('refuses a map entry that is not an origin, naming the variable', () => {
    expect(() =>
      loadConfig(credentialOriginsConfig, { CREDENTIAL_ORIGINS: '{"crm":["https://crm/v1"]}' }),
    ).toThrow(/CREDENTIAL_ORIGINS: invalid value .*must be an origin/);
  });
});
