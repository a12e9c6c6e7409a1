import { ConfigError } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import { loadMcpBridgeConfig } from './config.js';

describe('MCP bridge configuration', () => {
  it('requires REGISTRY_URL, naming it', () => {
    let error: unknown;
    try {
      loadMcpBridgeConfig({});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['REGISTRY_URL']);
    expect((error as ConfigError).message).toContain(
      'REGISTRY_URL: is required: Registry base URL',
    );
  });

  it('has safe defaults for everything else, and reads the stdio entries as JSON', () => {
    const config = loadMcpBridgeConfig({ REGISTRY_URL: 'http://registry:8080' });
    expect(config).toMatchObject({
      REGISTRY_URL: 'http://registry:8080',
      SECRETS_DIR: '/var/run/secrets/toolbus',
      MCP_CONNECT_TIMEOUT_MS: 5000,
      REGISTRY_SNAPSHOT_TIMEOUT_MS: 10_000,
      DATABASE_URL: 'pglite://memory',
      MCP_MAX_RESPONSE_BYTES: 1_048_576,
      MCP_STDIO_SERVERS: {},
      CREDENTIAL_ORIGINS: {},
      EGRESS_ALLOW: [],
    });
    expect(
      loadMcpBridgeConfig({
        REGISTRY_URL: 'http://registry:8080',
        MCP_STDIO_SERVERS: '{"files":{"command":"/usr/local/bin/mcp-files","args":["--ro"]}}',
      }).MCP_STDIO_SERVERS,
    ).toEqual({ files: { command: '/usr/local/bin/mcp-files', args: ['--ro'] } });
  });

  it('refuses a bad timeout, naming it with every other bad variable', () => {
    expect(() =>
      loadMcpBridgeConfig({ REGISTRY_URL: 'not a url', MCP_CONNECT_TIMEOUT_MS: '5s' }),
    ).toThrow(
      /REGISTRY_URL: invalid value "not a url": must be a URL\n {2}MCP_CONNECT_TIMEOUT_MS: invalid value "5s": must be a whole number/,
    );
  });
});
