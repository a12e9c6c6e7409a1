import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, loadConfig, type ConfigSpec } from '@toolbus/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStdioSecrets, stdioSecretsInEnvironment, stdioServersConfig } from './index.js';

const spec = {
  ...stdioServersConfig,
  API_TOKEN: { schema: env.optional(env.string()), secret: true, description: 'a token' },
  DATABASE_URL: {
    schema: env.string(),
    secret: true,
    default: 'pglite://memory',
    description: 'db',
  },
  CACHE_URL: { schema: env.optional(env.string()), description: 'not flagged' },
  LOG_LEVEL: { schema: env.string(), default: 'info', description: 'not a secret' },
} satisfies ConfigSpec;

const STDIO = JSON.stringify({ files: { command: '/usr/local/bin/mcp-files' } });

describe('secrets of a process that starts stdio MCP servers', () => {
  let dir: string;
  let tokenFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stdio-secrets-'));
    tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'tok-from-file\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names each secret given in the environment, and a URL with a password, not the rest', () => {
    const config = loadConfig(spec, {
      MCP_STDIO_SERVERS: STDIO,
      API_TOKEN: 'tok-in-env',
      DATABASE_URL: 'postgres://registry@db/registry',
      CACHE_URL: 'redis://:hunter2@cache:6379',
      LOG_LEVEL: 'debug',
    });
    expect(stdioSecretsInEnvironment(spec, config)).toEqual([
      'API_TOKEN',
      'DATABASE_URL',
      'CACHE_URL',
    ]);
    expect(() => checkStdioSecrets(spec, config)).toThrow(
      'API_TOKEN: is a secret given in the environment, which the stdio MCP servers of MCP_STDIO_SERVERS could read from /proc/<pid>/environ; give it as API_TOKEN_FILE (a mounted file) instead',
    );
  });

  it('accepts secrets given as files, defaults and unset secrets', () => {
    const config = loadConfig(spec, { MCP_STDIO_SERVERS: STDIO, API_TOKEN_FILE: tokenFile });
    expect(config.API_TOKEN).toBe('tok-from-file');
    expect(stdioSecretsInEnvironment(spec, config)).toEqual([]);
    expect(() => checkStdioSecrets(spec, config)).not.toThrow();
    expect(stdioSecretsInEnvironment(spec, loadConfig(spec, { MCP_STDIO_SERVERS: STDIO }))).toEqual(
      [],
    );
  });

  it('asks nothing of a process that starts no stdio server', () => {
    const config = loadConfig(spec, { API_TOKEN: 'tok-in-env' });
    expect(stdioSecretsInEnvironment(spec, config)).toEqual([]);
  });
});
