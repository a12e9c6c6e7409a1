import type { HttpBinding, ToolDefinition } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import { BusinessError } from '@toolbus/tool-sdk';
import { NO_CREDENTIALS, type AppliedCredentials } from './request-mapping.js';
import { secretForms } from './response-text.js';

/** Where credentials come from: `SecretStore` of `@toolbus/security` in production. */
export interface SecretReader {
  /** The value of `key` in the mounted secret `secret`; rejects when it is not mounted. */
  read(secret: string, key: string): Promise<string>;
}

/**
 * The credentials the binding's auth scheme needs, read from the mounted secret it names,
 * with every form of their values to redact. Refuses, naming the secret and key but never a
 * value, when the binding names no secret or a key is missing or empty.
 */
export async function readCredentials(
  secrets: SecretReader,
  definition: ToolDefinition,
  binding: HttpBinding,
  log: Logger,
): Promise<AppliedCredentials> {
  const auth = binding.auth;
  if (!auth) return NO_CREDENTIALS;
  const secret = binding.credentialsSecret;
  if (!secret)
    throw new BusinessError(
      'credentials_unavailable',
      `${definition.name} needs ${auth.kind} credentials but its binding names no credentials secret; it must be fixed in the registry`,
    );
  const read = (key: string) => readKey(secrets, definition.name, secret, key, log);
  switch (auth.kind) {
    case 'bearer': {
      const token = await read('token');
      return {
        headers: { authorization: `Bearer ${token}` },
        query: {},
        secrets: secretForms(token),
      };
    }
    case 'basic': {
      const username = await read('username');
      const password = await read('password');
      const pair = Buffer.from(`${username}:${password}`).toString('base64');
      return {
        headers: { authorization: `Basic ${pair}` },
        query: {},
        secrets: [...secretForms(password), ...secretForms(username), pair],
      };
    }
    case 'api_key': {
      const key = await read('api_key');
      return {
        headers: auth.in === 'header' ? { [auth.name]: key } : {},
        query: auth.in === 'query' ? { [auth.name]: key } : {},
        secrets: secretForms(key),
      };
    }
  }
}

async function readKey(
  secrets: SecretReader,
  tool: string,
  secret: string,
  key: string,
  log: Logger,
): Promise<string> {
  let value: string;
  try {
    value = await secrets.read(secret, key);
  } catch (error) {
    // The store's message says where it looked; it never holds a value.
    log.error({ err: error, secretName: secret, key }, 'credentials could not be read');
    throw new BusinessError(
      'credentials_unavailable',
      `the credentials of ${tool} are not available: secret "${secret}" has no readable key "${key}"; an operator must mount it`,
    );
  }
  if (value === '')
    throw new BusinessError(
      'credentials_unavailable',
      `the credentials of ${tool} are not available: key "${key}" of secret "${secret}" is empty`,
    );
  return value;
}
