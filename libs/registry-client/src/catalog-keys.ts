import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from '@toolbus/observability';
import { parseJwks } from './change-signature.js';

export interface CatalogKeysOptions {
  /** The registry's JWKS URL (`<registry>/.well-known/jwks.json`). */
  url?: string;
  /** A mounted JWKS file instead (air-gapped readers, tests); takes precedence over `url`. */
  file?: string;
  /** Least time between two loads, however many unknown kids arrive (default 1 s). */
  cooldownMs?: number;
  logger?: Logger;
}

/**
 * The registry's public keys by reference, cached by kid. An unknown kid loads the set again
 * (the registry rotated its key), at most once per cooldown, so a flood of events naming made-up
 * kids costs one fetch per cooldown, not one per event.
 */
export class CatalogKeys {
  private keys = new Map<string, KeyObject>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading?: Promise<void>;
  private readonly cooldownMs: number;

  constructor(private readonly options: CatalogKeysOptions) {
    if (!options.url && !options.file)
      throw new Error(
        'the registry’s keys need a JWKS URL or file: catalog events cannot be verified',
      );
    this.cooldownMs = options.cooldownMs ?? 1000;
  }

  /** Where the keys come from, for logs and errors. */
  get source(): string {
    return this.options.file ?? this.options.url!;
  }

  /** The key of `kid`: from the cache, else from a reload when the cooldown allows one. */
  async get(kid: string): Promise<KeyObject | undefined> {
    const known = this.keys.get(kid);
    if (known || !this.canReload()) return known;
    await this.load().catch((error: unknown) =>
      this.options.logger?.warn(
        { err: error, source: this.source },
        'registry keys could not be reloaded; keeping the cached ones',
      ),
    );
    return this.keys.get(kid);
  }

  /** True when an unknown kid would load the keys again now. */
  canReload(): boolean {
    return Date.now() - this.loadedAt >= this.cooldownMs;
  }

  /** When the next reload is allowed (epoch ms). */
  nextReloadAt(): number {
    return this.loadedAt + this.cooldownMs;
  }

  /** Loads the keys now (start-up, and the unknown-kid path); rejects, keeping the cached ones. */
  async load(): Promise<void> {
    this.loading ??= this.fetchKeys().finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }

  private async fetchKeys(): Promise<void> {
    this.loadedAt = Date.now();
    let text: string;
    try {
      text = this.options.file
        ? await readFile(this.options.file, 'utf8')
        : await fetchText(this.options.url!);
    } catch (error) {
      throw new Error(
        `the registry's keys could not be read from ${this.source}: ${(error as Error).message}`,
      );
    }
    const next = new Map<string, KeyObject>();
    for (const jwk of parseJwks(text, this.source).keys)
      next.set(jwk.kid!, createPublicKey({ key: jwk as never, format: 'jwk' }));
    this.keys = next;
  }
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.text();
}
