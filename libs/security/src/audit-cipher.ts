import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { configSourceFile, env, type ConfigOf } from '@toolbus/service-kit';

/** Key ids are file names in the keys folder: no paths, no dot files (a Secret mount's `..data`). */
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Config of a service that encrypts audit rows: where the keys are and which one is current. */
export const auditKeysConfig = {
  AUDIT_KEYS_DIR: {
    schema: env.string(),
    default: '/var/run/secrets/toolbus/audit-keys',
    description:
      'Folder of the audit encryption keys (a mounted Secret): one file per key, named by its id, holding 32 random bytes as base64 or hex. Keep retired keys: rows written with them still decrypt',
  },
  AUDIT_KEY_ID: {
    schema: env.string().regex(KEY_ID, 'must be a file name: letters, digits, . _ - (at most 64)'),
    description:
      'Id of the key new audit rows are encrypted with (its file name in AUDIT_KEYS_DIR); rotate by adding a key and pointing this at it. From AUDIT_KEY_ID_FILE it is re-read when the file changes',
  },
};

export type AuditKeysConfig = ConfigOf<typeof auditKeysConfig>;

/** A key the ring cannot use: not mounted, or not 32 bytes. Names the key id, never a value. */
export class AuditKeyError extends Error {
  override readonly name = 'AuditKeyError';
  constructor(
    readonly keyId: string,
    message: string,
  ) {
    super(message);
  }
}

/** A field that does not decrypt: tampered ciphertext, another row's, or the wrong key. */
export class AuditDecryptError extends Error {
  override readonly name = 'AuditDecryptError';
}

/** Where a sealed value belongs; bound into it as additional authenticated data. */
export interface AuditFieldRef {
  /** The row's id (the audit event id): a ciphertext copied to another row does not open. */
  rowId: string;
  /** The column: a ciphertext moved to another column of the same row does not open. */
  field: string;
}

/** One key of the ring: seals and opens fields with AES-256-GCM. */
export class AuditKey {
  constructor(
    readonly id: string,
    private readonly key: Buffer,
  ) {}

  /** base64 of a random 96-bit IV, the ciphertext and the 128-bit tag. */
  seal(ref: AuditFieldRef, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(this.id, ref));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
  }

  open(ref: AuditFieldRef, sealed: string): string {
    const bytes = Buffer.from(sealed, 'base64');
    const failed = (why: string) =>
      new AuditDecryptError(
        `field "${ref.field}" of audit row ${ref.rowId} does not decrypt with key "${this.id}": ${why}`,
      );
    if (bytes.length < IV_BYTES + TAG_BYTES) throw failed('it is too short to be a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad(this.id, ref));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw failed('authentication failed (changed, or written for another row, field or key)');
    }
  }
}

function aad(keyId: string, ref: AuditFieldRef): Buffer {
  return Buffer.from(JSON.stringify(['toolbus.audit.v1', keyId, ref.rowId, ref.field]), 'utf8');
}

export interface AuditCipherOptions {
  /** The keys folder: `<dir>/<keyId>`, one key per file. */
  keysDir: string;
  /** The current key's id, or where to read it (re-read when the file changes). */
  currentKeyId: string | { file: string };
}

/**
 * The audit key ring: keys are read by reference from mounted files (`<dir>/<keyId>`, as a
 * Kubernetes Secret volume lays them out) and re-read when a file changes, like the
 * SecretStore. New rows are sealed with the current key and store its id; a row is opened
 * with the key its id names, so rotating means adding a key and switching the current id,
 * and old rows stay readable as long as their key stays mounted.
 */
export class AuditCipher {
  private readonly keys = new Map<string, { mtimeMs: number; key: AuditKey }>();
  private currentId?: { mtimeMs: number; id: string };

  constructor(private readonly options: AuditCipherOptions) {}

  /** The ring of a service's config; `AUDIT_KEY_ID_FILE` makes the current id follow its file. */
  static fromConfig(config: AuditKeysConfig): AuditCipher {
    const file = configSourceFile(config, 'AUDIT_KEY_ID');
    return new AuditCipher({
      keysDir: config.AUDIT_KEYS_DIR,
      currentKeyId: file ? { file } : config.AUDIT_KEY_ID,
    });
  }

  /** The key new rows are sealed with. */
  async current(): Promise<AuditKey> {
    return this.key(await this.currentKeyId());
  }

  /** The key with this id; {@link AuditKeyError} when it is not mounted or not a key. */
  async key(id: string): Promise<AuditKey> {
    if (!KEY_ID.test(id)) throw new AuditKeyError(id, `"${id}" is not an audit key id`);
    const path = join(this.options.keysDir, id);
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      throw new AuditKeyError(
        id,
        `audit key "${id}" is not mounted under ${this.options.keysDir}: rows sealed with it cannot be read or written`,
      );
    }
    const cached = this.keys.get(id);
    if (cached && cached.mtimeMs === mtimeMs) return cached.key;
    const key = new AuditKey(id, decodeKey(id, await readFile(path, 'utf8')));
    this.keys.set(id, { mtimeMs, key });
    return key;
  }

  /** Opens a value sealed by {@link AuditKey.seal} with the key `keyId` names. */
  async open(keyId: string, ref: AuditFieldRef, sealed: string): Promise<string> {
    return (await this.key(keyId)).open(ref, sealed);
  }

  private async currentKeyId(): Promise<string> {
    const source = this.options.currentKeyId;
    if (typeof source === 'string') return source;
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(source.file)).mtimeMs;
    } catch {
      throw new AuditKeyError('?', `the current audit key id file ${source.file} is not mounted`);
    }
    if (this.currentId?.mtimeMs === mtimeMs) return this.currentId.id;
    const id = (await readFile(source.file, 'utf8')).trim();
    if (!KEY_ID.test(id))
      throw new AuditKeyError(id, `${source.file} does not hold an audit key id: "${id}"`);
    this.currentId = { mtimeMs, id };
    return id;
  }
}

/** 32 bytes from hex (64 digits) or base64; the error names the key and the length, not bytes. */
function decodeKey(id: string, text: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : undefined;
  if (!bytes || bytes.length !== KEY_BYTES)
    throw new AuditKeyError(
      id,
      `audit key "${id}" must be ${KEY_BYTES} bytes as base64 or 64 hex digits; it holds ${bytes ? `${bytes.length} bytes` : 'neither'}`,
    );
  return bytes;
}
