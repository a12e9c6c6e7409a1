import { createLogger } from '@toolbus/observability';
import { describe, expect, it } from 'vitest';
import { createUpstreamTransport, StdioCommandNotAllowedError, stdioChildEnv } from './index.js';

const logger = createLogger({ name: 'mcp-upstream-test', level: 'silent' });

describe('upstream MCP transports', () => {
  it('gives a stdio child PATH and HOME only, never the parent’s secrets', () => {
    const env = stdioChildEnv({
      PATH: '/bin',
      HOME: '/home/x',
      DATABASE_URL: 'postgres://u:pw@db',
      USER: 'x',
    });
    const defined = Object.entries(env).filter(([, v]) => v !== undefined);
    expect(Object.fromEntries(defined)).toEqual({ PATH: '/bin', HOME: '/home/x' });
  });

  it('refuses a stdio command outside the allow-list, naming it', async () => {
    await expect(
      createUpstreamTransport(
        'files',
        { kind: 'stdio', command: '/bin/sh', args: ['-c', 'id'] },
        undefined,
        {
          secrets: { read: async () => 'x' },
          logger,
          stdioCommands: ['/usr/local/bin/mcp-files'],
        },
      ),
    ).rejects.toBeInstanceOf(StdioCommandNotAllowedError);
  });

  it('reads the bearer token from the referenced secret at each call and reports it as sent', async () => {
    let reads = 0;
    const options = {
      secrets: { read: async (name: string, key: string) => `${name}/${key}/${++reads}` },
      logger,
      stdioCommands: [],
    };
    const first = await createUpstreamTransport(
      'docs',
      { kind: 'streamable_http', url: 'http://127.0.0.1:1/mcp' },
      'docs-mcp',
      options,
    );
    const second = await createUpstreamTransport(
      'docs',
      { kind: 'streamable_http', url: 'http://127.0.0.1:1/mcp' },
      'docs-mcp',
      options,
    );
    expect(first.sentSecrets).toEqual(['docs-mcp/token/1']);
    expect(second.sentSecrets).toEqual(['docs-mcp/token/2']);
    const none = await createUpstreamTransport(
      'docs',
      { kind: 'streamable_http', url: 'http://127.0.0.1:1/mcp' },
      undefined,
      options,
    );
    expect(none.sentSecrets).toEqual([]);
  });
});
