import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Messages, RegistryPaths, Topics, type RegistryChanged } from '@toolbus/contracts';
import type { Subscription } from '@toolbus/messaging';
import { infraFromEnv, TEST_JWT_SECRET, uniqueName, waitFor } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOX_LOCK_SQL, OutboxRelay } from '../src/events/outbox.js';
import { startRegistry, type RunningRegistry } from '../src/registry.service.js';
import { client, definition, logger, startTestRegistry, type TestRegistry } from './support.js';

/**
 * Two registry instances on one database: both commit changes of the same tool at once, and
 * both relays race to publish them. The compacted topic keeps the last event per tool, so the
 * relays must never interleave (an older state published after a newer one would win).
 */
describe('two outbox relays on one database', () => {
  let a: TestRegistry;
  let b: RunningRegistry;
  let keys: string;
  let subscription: Subscription;
  const seen: Array<{ id: string; offset: string; value: RegistryChanged }> = [];
  const tool = `${uniqueName('relay').replace(/-/g, '_')}`.slice(0, 60);

  beforeAll(async () => {
    // One key for both replicas, as the chart mounts one Secret into each.
    keys = await mkdtemp(join(tmpdir(), 'registry-key-'));
    const keyFile = join(keys, 'signing.pem');
    await writeFile(
      keyFile,
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    a = await startTestRegistry({ REGISTRY_SIGNING_KEY_FILE: keyFile, OUTBOX_POLL_MS: '100' });
    const { kafkaBrokers, databaseUrl } = infraFromEnv();
    b = (await startRegistry({
      env: {
        KAFKA_BROKERS: kafkaBrokers.join(','),
        DATABASE_URL: databaseUrl,
        DATABASE_SCHEMA: a.schema,
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        AUTH_ALLOW_SHARED_KEY: 'true',
        REGISTRY_SIGNING_KEY_FILE: keyFile,
        OUTBOX_POLL_MS: '100',
        PORT: '0',
        LOG_LEVEL: 'silent',
      },
      logger,
    }))!;
    subscription = await a.reader.subscribe<RegistryChanged>(
      {
        topic: Topics.registryChanges,
        groupId: uniqueName('relay-watch'),
        schema: Messages.registryChanged.schema,
        concurrency: 1,
      },
      async (m) => {
        if (m.value.name === tool) seen.push({ id: m.event.id, offset: m.offset, value: m.value });
      },
    );
  });
  afterAll(async () => {
    await subscription?.stop(1_000);
    await b?.close();
    await a?.close();
    await rm(keys, { recursive: true, force: true });
  });

  it('publishes the changes of one tool strictly in revision order, each once, under concurrency', async () => {
    const versions = Array.from({ length: 16 }, (_, i) => `1.${i}.0`);
    const author = await client(a.url, 'author', ['registry:write'], { teams: ['team-crm'] });
    for (const v of versions)
      expect(
        (await author.put(RegistryPaths.toolVersion(tool, v), definition(tool, { version: v })))
          .status,
      ).toBe(201);
    const onA = await client(a.url, 'approver-a', ['registry:approve']);
    const onB = await client(b.url, 'approver-b', ['registry:approve']);
    // Every version approved at once, half through each instance; then half deprecated at once.
    const approvals = await Promise.all(
      versions.map((v, i) => (i % 2 ? onA : onB).post(RegistryPaths.lifecycle(tool, v, 'approve'))),
    );
    expect(approvals.map((r) => r.status)).toEqual(versions.map(() => 200));
    const deprecations = await Promise.all(
      versions
        .filter((_, i) => i % 2 === 0)
        .map((v, i) => (i % 2 ? onA : onB).post(RegistryPaths.lifecycle(tool, v, 'deprecate'))),
    );
    expect(deprecations.every((r) => r.status === 200)).toBe(true);
    const transitions = approvals.length + deprecations.length;

    await Promise.all([a.registry.get(OutboxRelay).flush(), b.get(OutboxRelay).flush()]);
    await waitFor(() => seen.length >= transitions, {
      timeoutMs: 20_000,
      what: `${transitions} change events`,
    });
    const revisions = seen.map((e) => e.value.revision);
    // Strictly increasing in the order Kafka holds them: no relay published an older state late.
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
    expect(new Set(revisions).size).toBe(revisions.length);
    // Each event published once (neither relay repeated what the other sent).
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(seen).toHaveLength(transitions);
    // The last event is the whole final state.
    const last = seen.at(-1)!.value;
    expect(last.served.map((d) => `${d.version}:${d.status}`).sort()).toEqual(
      versions.map((v, i) => `${v}:${i % 2 === 0 ? 'deprecated' : 'approved'}`).sort(),
    );
  });

  it('takes the lock per schema: a registry on another schema publishes meanwhile', async () => {
    // A relay holding its lock (a slow publish) must not stall a registry in another schema.
    const other = await startTestRegistry({ OUTBOX_POLL_MS: '60000' });
    try {
      const held = a.registry.db.transaction(async (em) => {
        // This schema's own relays may be mid-publish (their poll or a kick): wait for the lock
        // rather than expecting it free on the first try.
        await waitFor(
          async () => ((await em.query(OUTBOX_LOCK_SQL)) as Array<{ locked: boolean }>)[0]!.locked,
          { timeoutMs: 5_000, what: 'this schema’s outbox lock' },
        );
        const name = `${tool}_other`.slice(0, 64);
        const writer = await client(other.url, 'author', ['registry:write'], {
          teams: ['team-crm'],
        });
        await writer.put(RegistryPaths.toolVersion(name, '1.0.0'), definition(name));
        const approver = await client(other.url, 'approver', ['registry:approve']);
        expect(
          (await approver.post(RegistryPaths.lifecycle(name, '1.0.0', 'approve'))).status,
        ).toBe(200);
        // Published at once by the other registry's kick, though this lock is held.
        await waitFor(
          async () =>
            Number(
              (
                (await other.registry.db.query(
                  'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
                )) as Array<{ n: string }>
              )[0]!.n,
            ) === 0,
          { timeoutMs: 5_000, what: 'the other schema’s outbox to drain' },
        );
      });
      await held;
    } finally {
      await other.close();
    }
  });
});
