import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ToolDefinition, type HttpBinding } from '@toolbus/contracts';
import { egressAgent, egressFetch, type EgressFetch } from '@toolbus/egress';
import { createLogger, type Logger } from '@toolbus/observability';

/** The parts of a binding a test names; the rest defaults. */
export type BindingSpec = Pick<HttpBinding, 'method' | 'baseUrl' | 'path'> &
  Partial<Omit<HttpBinding, 'kind'>>;

/** A catalogued tool bound to an HTTP operation, as the registry's OpenAPI import makes one. */
export function httpTool(
  name: string,
  binding: BindingSpec,
  overrides: Partial<Omit<ToolDefinition, 'binding'>> = {},
): ToolDefinition {
  return ToolDefinition.parse({
    name,
    version: '1.0.0',
    title: name.replace(/_/g, ' '),
    description: `Test tool ${name}, bound to ${binding.method} ${binding.path}.`,
    inputSchema: { type: 'object' },
    annotations: {},
    owner: 'test-team',
    scopes: [],
    transport: { kind: 'kafka', topic: 'tool_requests.http-executor' },
    region: 'eu',
    status: 'approved',
    timeoutMs: 5_000,
    ...overrides,
    binding: { kind: 'http', ...binding },
  });
}

/** A secrets directory laid out as Kubernetes mounts Secrets: `<dir>/<secret>/<key>`. */
export interface SecretsDir {
  dir: string;
  put(secret: string, values: Record<string, string>): Promise<void>;
  remove(): Promise<void>;
}

export async function secretsDir(): Promise<SecretsDir> {
  const dir = await mkdtemp(join(tmpdir(), 'http-executor-secrets-'));
  return {
    dir,
    put: async (secret, values) => {
      await mkdir(join(dir, secret), { recursive: true });
      // A trailing newline, as `kubectl create secret --from-file` often leaves one.
      for (const [key, value] of Object.entries(values))
        await writeFile(join(dir, secret, key), `${value}\n`);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A logger whose every line is kept, to show what was (and was not) logged. */
export function capturingLogger(level = 'debug'): { logger: Logger; lines: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    logger: createLogger({ name: 'http-executor-test', level, destination: stream }),
    lines: () => text,
  };
}

/**
 * The guarded fetch with 127.0.0.1 allowed, as EGRESS_ALLOW=127.0.0.1/32 allows it: the test
 * servers listen on loopback, which the default refuses. Only 127.0.0.1, nothing else inside.
 */
export function loopbackFetch(): { fetch: EgressFetch; close(): Promise<void> } {
  const agent = egressAgent({ allow: ['127.0.0.1/32'] });
  return { fetch: egressFetch(agent), close: () => agent.close() };
}
