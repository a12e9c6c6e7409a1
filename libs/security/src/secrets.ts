import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretName } from '@toolbus/contracts';
import { env, type ConfigOf } from '@toolbus/service-kit';

const KEY = /^[A-Za-z0-9._-]{1,253}$/;

/** Config of every service that reads secrets by reference: where a {@link SecretStore} looks. */
export const secretsConfig = {
  SECRETS_DIR: {
    schema: env.string(),
    default: '/var/run/secrets/toolbus',
    description:
      'Where secrets are mounted, a folder per secret and a file per key (`<dir>/<secret>/<key>`, as Kubernetes mounts a Secret); definitions and upstreams name a secret, never hold its value',
  },
};

export type SecretsConfig = ConfigOf<typeof secretsConfig>;

/** A referenced secret or key that is not mounted; says which one, never a value. */
export class SecretNotFoundError extends Error {
  override readonly name = 'SecretNotFoundError';
}

/**
 * Reads secrets by reference from mounted files: `<dir>/<secret>/<key>`, the layout of a
 * Kubernetes Secret volume (or an External Secrets / Vault agent render). Definitions and
 * messages hold only the secret's name. Values are re-read when the file changes, so a rotated
 * Secret takes effect without a restart.
 */
export class SecretStore {
  private readonly cache = new Map<string, { mtimeMs: number; value: string }>();

  constructor(readonly dir: string) {}

  /** The value of `key` in secret `secret`, without a trailing newline. */
  async read(secret: string, key: string): Promise<string> {
    if (!SecretName.safeParse(secret).success)
      throw new SecretNotFoundError(`"${secret}" is not a valid secret name`);
    if (!KEY.test(key) || key === '.' || key === '..')
      throw new SecretNotFoundError(`"${key}" is not a valid secret key`);
    const path = join(this.dir, secret, key);
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      throw new SecretNotFoundError(
        `secret "${secret}" has no key "${key}" mounted under ${this.dir}`,
      );
    }
    const cached = this.cache.get(path);
    if (cached && cached.mtimeMs === mtimeMs) return cached.value;
    const value = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    this.cache.set(path, { mtimeMs, value });
    return value;
  }
}
