import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { createLogger } from '@toolbus/observability';
import { loadConfig } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import {
  createUpstreamTransport,
  CredentialOriginError,
  limitResponses,
  resolveStdioServer,
  stdioChildEnv,
  StdioServerNotAllowedError,
  stdioServersConfig,
  UpstreamResponseTooLargeError,
  type UpstreamTransportOptions,
} from './index.js';

const logger = createLogger({ name: 'mcp-upstream-test', level: 'silent' });

const servers = loadConfig(stdioServersConfig, {
  MCP_STDIO_SERVERS: JSON.stringify({
    files: { command: '/usr/local/bin/mcp-files', args: ['--root', '/data'] },
    everything: { command: '/usr/bin/node', args: ['/opt/mcp/everything.js'], cwd: '/opt/mcp' },
  }),
}).MCP_STDIO_SERVERS;

/** A fetch that records what it was asked and answers 202 (a notification accepted). */
function recordingFetch(): FetchLike & { calls: Array<{ url: string; headers: Headers }> } {
  const calls: Array<{ url: string; headers: Headers }> = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url: String(url), headers: new Headers(init?.headers) });
    return new Response(null, { status: 202 });
  };
  return Object.assign(fetch, { calls });
}

function options(over: Partial<UpstreamTransportOptions> = {}): UpstreamTransportOptions & {
  reads: string[];
} {
  const reads: string[] = [];
  return {
    secrets: {
      read: async (name: string, key: string) => {
        reads.push(`${name}/${key}`);
        return `${name}-${key}-${reads.length}`;
      },
    },
    logger,
    stdioServers: servers,
    fetch: recordingFetch(),
    credentialOrigins: { 'docs-mcp': ['https://docs.example'] },
    ...over,
    reads,
  };
}

describe('stdio servers as named entries', () => {
  it('reads MCP_STDIO_SERVERS, defaulting arguments, empty by default', () => {
    expect(servers['files']).toEqual({
      command: '/usr/local/bin/mcp-files',
      args: ['--root', '/data'],
    });
    expect(loadConfig(stdioServersConfig, {}).MCP_STDIO_SERVERS).toEqual({});
  });

  it('refuses a relative command, an unknown field and a bad entry name, naming each', () => {
    const problems = (value: unknown) => {
      try {
        loadConfig(stdioServersConfig, { MCP_STDIO_SERVERS: JSON.stringify(value) });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(problems({ files: { command: 'node' } })).toContain(
      'must be an absolute path (no PATH lookup decides what runs)',
    );
    expect(problems({ files: { command: '/bin/x', env: { A: '1' } } })).toMatch(/env/);
    expect(problems({ 'Bad Name': { command: '/bin/x' } })).toContain(
      'entry name "Bad Name" must be lower-case letters, digits and -, starting with a letter',
    );
  });

  it('runs the entry an upstream names, and refuses one not declared, naming it', () => {
    expect(resolveStdioServer('docs', { kind: 'stdio', entry: 'everything' }, servers)).toEqual({
      name: 'everything',
      entry: servers['everything'],
    });
    expect(() => resolveStdioServer('docs', { kind: 'stdio', entry: 'shell' }, servers)).toThrow(
      new StdioServerNotAllowedError(
        'upstream MCP server "docs" names the stdio entry "shell", which MCP_STDIO_SERVERS of this service does not declare',
      ),
    );
  });

  it('runs an older command line only when it is exactly a declared entry', () => {
    const legacy = {
      kind: 'stdio' as const,
      command: '/usr/local/bin/mcp-files',
      args: ['--root', '/data'],
    };
    expect(resolveStdioServer('files', legacy, servers).name).toBe('files');
    // The same program with other arguments is another command line: refused.
    for (const args of [['--root', '/'], ['--root', '/data', '--write'], []])
      expect(() => resolveStdioServer('files', { ...legacy, args }, servers)).toThrow(
        'upstream MCP server "files" gives a stdio command line ("/usr/local/bin/mcp-files" with',
      );
    expect(() =>
      resolveStdioServer('x', { kind: 'stdio', command: '/bin/sh', args: ['-c', 'id'] }, servers),
    ).toThrow(StdioServerNotAllowedError);
  });

  it('refuses a stdio upstream whose entry is not declared before starting anything', async () => {
    await expect(
      createUpstreamTransport('files', { kind: 'stdio', entry: 'shell' }, undefined, options()),
    ).rejects.toBeInstanceOf(StdioServerNotAllowedError);
  });

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
});

describe('Streamable HTTP upstreams', () => {
  it('reads the bearer token at each transport, sends it through the given fetch, reports it', async () => {
    const fetch = recordingFetch();
    const o = options({ fetch });
    const spec = { kind: 'streamable_http' as const, url: 'https://docs.example/mcp' };
    const first = await createUpstreamTransport('docs', spec, 'docs-mcp', o);
    const second = await createUpstreamTransport('docs', spec, 'docs-mcp', o);
    expect(first.sentSecrets).toEqual(['docs-mcp-token-1']);
    expect(second.sentSecrets).toEqual(['docs-mcp-token-2']);
    await first.transport.send({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
    expect(fetch.calls.map((c) => [c.url, c.headers.get('authorization')])).toEqual([
      ['https://docs.example/mcp', 'Bearer docs-mcp-token-1'],
    ]);
    const none = await createUpstreamTransport('docs', spec, undefined, o);
    expect(none.sentSecrets).toEqual([]);
  });

  it('refuses, without reading it, a credential CREDENTIAL_ORIGINS does not let go to the URL', async () => {
    const o = options();
    const foreign = { kind: 'streamable_http' as const, url: 'https://attacker.example/mcp' };
    await expect(createUpstreamTransport('docs', foreign, 'docs-mcp', o)).rejects.toThrow(
      new CredentialOriginError(
        'upstream MCP server "docs": the credential "docs-mcp" may be sent only to https://docs.example, not to https://attacker.example; the credential was not sent',
      ),
    );
    await expect(
      createUpstreamTransport(
        'docs',
        { ...foreign, url: 'https://docs.example/mcp' },
        'crm-token',
        o,
      ),
    ).rejects.toThrow('the credential "crm-token" may be sent to no origin');
    expect(o.reads).toEqual([]);
  });
});

describe('limitResponses', () => {
  const answering =
    (body: string, headers: Record<string, string> = {}): FetchLike =>
    async () =>
      new Response(body, { status: 200, headers });

  it('passes a body within the limit as it is', async () => {
    const fetch = limitResponses(answering('x'.repeat(100)), 'docs', 100);
    expect(await (await fetch('https://docs.example/mcp')).text()).toBe('x'.repeat(100));
  });

  it('fails a body that grows past the limit, and one that declares more at once', async () => {
    const streamed = limitResponses(answering('x'.repeat(101)), 'docs', 100);
    const response = await streamed('https://docs.example/mcp');
    await expect(response.text()).rejects.toThrow(new UpstreamResponseTooLargeError('docs', 100));
    const declared = limitResponses(
      answering('x'.repeat(10), { 'content-length': '5000' }),
      'docs',
      100,
    );
    await expect(declared('https://docs.example/mcp')).rejects.toThrow(
      'upstream MCP server "docs" sent a response larger than 100 bytes',
    );
  });
});
