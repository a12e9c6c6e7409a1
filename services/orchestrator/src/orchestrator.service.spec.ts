import { describe, expect, it } from 'vitest';
import { loadOrchestratorConfig } from './config.js';
import { invocationBodyLimit } from './orchestrator.service.js';

describe('the size limit of tool call arguments', () => {
  const required = {
    REGISTRY_URL: 'http://registry:8080',
    CALL_GRANT_SIGNING_KEY_FILE: '/var/run/secrets/grant-key.pem',
  };

  it('defaults to 64 KiB, and the HTTP body may carry the envelope beside it', () => {
    const config = loadOrchestratorConfig(required);
    expect(config.MAX_TOOL_ARGUMENTS_BYTES).toBe(65_536);
    expect(invocationBodyLimit(config)).toBe(131_072);
    const raised = loadOrchestratorConfig({ ...required, MAX_TOOL_ARGUMENTS_BYTES: '200000' });
    expect(invocationBodyLimit(raised)).toBe(200_000 + 65_536);
  });

  it('refuses a limit a Kafka message could not carry, naming the variable', () => {
    expect(() =>
      loadOrchestratorConfig({ ...required, MAX_TOOL_ARGUMENTS_BYTES: String(2 * 1024 * 1024) }),
    ).toThrow(/MAX_TOOL_ARGUMENTS_BYTES/);
  });
});
