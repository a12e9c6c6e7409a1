import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import {
  Messages,
  platformTopics,
  Topics,
  type CatalogSnapshot,
  type RegistryChanged,
  type ToolDefinition,
} from '@toolbus/contracts';
import { createMemoryBus, MemoryBroker } from '@toolbus/messaging';
import { createLogger, renderMetrics } from '@toolbus/observability';
import { waitFor } from '@toolbus/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { compareVersions, RegistryChangeSigner, RegistryView, type Jwks } from './index.js';

const logger = createLogger({ name: 'view-test', level: 'silent' });

function def(name: string, version: string, status: ToolDefinition['status']): ToolDefinition {
  return {
    name,
    version,
    status,
    title: name,
    description: `${name} does things`,
    inputSchema: { type: 'object' },
    annotations: {
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
    owner: 'team',
    scopes: [],
    timeoutMs: 2000,
    cacheTtlSeconds: 0,
    transport: { kind: 'kafka', topic: 'tool_requests.crm' },
    sync: false,
    region: 'eu',
    tags: [],
  };
}

function change(name: string, revision: number, served: ToolDefinition[]): RegistryChanged {
  return {
    name,
    revision,
    change: {
      version: served[0]?.version ?? '1.0.0',
      status: served.length ? 'approved' : 'retired',
    },
    served,
    actor: 'bob',
    at: new Date().toISOString(),
  };
}

describe('compareVersions', () => {
  it('orders semantic versions numerically, a pre-release before its release', () => {
    const sorted = ['1.10.0', '1.2.0', '1.2.0-rc.1', '0.9.9', '2.0.0'].sort(compareVersions);
    expect(sorted).toEqual(['0.9.9', '1.2.0-rc.1', '1.2.0', '1.10.0', '2.0.0']);
  });
});

describe('RegistryView', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));

  /** A registry-shaped server: the snapshot at /v1/catalog, the signer's keys at the JWKS path. */
  async function registry(
    snapshot: CatalogSnapshot,
    status = 200,
    keys: () => Promise<Jwks> = async () => ({ keys: [] }),
  ): Promise<{ url: string; auth: string[]; jwksReads: () => number }> {
    const auth: string[] = [];
    let jwksReads = 0;
    const server = createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        jwksReads++;
        void keys().then((jwks) =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
        );
        return;
      }
      auth.push(req.headers.authorization ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(snapshot));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      auth,
      jwksReads: () => jwksReads,
    };
  }

  /** A reader and a publisher on one in-memory broker, and the registry's signing key. */
  async function setup() {
    const broker = new MemoryBroker();
    const bus = createMemoryBus({ serviceName: 'reader', logger, broker });
    const publisher = createMemoryBus({ serviceName: 'registry', logger, broker });
    await publisher.ensureTopics(platformTopics());
    let signer = await RegistryChangeSigner.generate('key-1');
    const raw = (value: Record<string, unknown>) =>
      publisher.publish(Topics.registryChanges, {
        type: Messages.registryChanged.type,
        key: String(value['name']),
        value,
      });
    return {
      bus,
      publisher,
      keys: () => signer.jwks(),
      rotate: async (kid: string) => {
        signer = await RegistryChangeSigner.generate(kid);
      },
      sign: async (c: RegistryChanged) => ({ ...c, signature: await signer.sign(c) }),
      raw,
      publish: async (c: RegistryChanged) => raw({ ...c, signature: await signer.sign(c) }),
      close: async () => {
        await bus.close();
        await publisher.close();
      },
    };
  }

  const refusals = async (reason: string) =>
    Number(
      new RegExp(`toolbus_registry_view_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(
        (await renderMetrics()).body,
      )?.[1] ?? 0,
    );

  it('starts from the snapshot, applies newer events and ignores older ones', async () => {
    const { bus, keys, publish, close } = await setup();
    const { url, auth } = await registry(
      {
        revision: 5,
        tools: [
          { name: 'get_limit', revision: 5, served: [def('get_limit', '1.0.0', 'approved')] },
        ],
      },
      200,
      keys,
    );
    const view = await RegistryView.start({
      registryUrl: url,
      token: 'tok',
      bus,
      service: 'test',
      logger,
    });
    expect(auth).toEqual(['Bearer tok']);
    expect(view.get('get_limit')?.definition.version).toBe('1.0.0');
    const seen: string[] = [];
    view.onChange((name) => seen.push(name));

    // An older state (revision 3) arriving late must not undo the snapshot.
    await publish(change('get_limit', 3, []));
    await publish(
      change('get_limit', 7, [
        def('get_limit', '1.1.0', 'deprecated'),
        def('get_limit', '1.0.0', 'approved'),
      ]),
    );
    await publish(change('new_tool', 8, [def('new_tool', '2.0.0', 'approved')]));
    await waitFor(() => view.get('new_tool') && view.get('get_limit', '1.1.0'), {
      what: 'both changes',
    });
    // The newest approved version wins over a newer deprecated one.
    expect(view.get('get_limit')?.definition.version).toBe('1.0.0');
    expect(view.get('get_limit', '1.1.0')).toMatchObject({ deprecated: true });
    expect(view.revision).toBe(8);
    expect(seen.sort()).toEqual(['get_limit', 'new_tool']);

    await publish(change('get_limit', 9, []));
    await waitFor(() => !view.get('get_limit'), { what: 'the retirement' });
    expect(view.list().map((t) => t.definition.name)).toEqual(['new_tool']);
    await view.close();
    await close();
  });

  it('refuses unsigned, foreign-signed, tampered and far-ahead changes, and applies the real ones around them', async () => {
    const { bus, keys, publish, raw, sign, close } = await setup();
    const { url } = await registry({ revision: 5, tools: [] }, 200, keys);
    const view = await RegistryView.start({
      registryUrl: url,
      bus,
      service: 'test',
      logger,
      maxRevisionAhead: 100,
    });
    const before = {
      unsigned: await refusals('unsigned'),
      unknown: await refusals('unknown_key'),
      bad: await refusals('bad_signature'),
      ahead: await refusals('revision_ahead'),
    };
    const rogue = await RegistryChangeSigner.generate('key-1'); // the registry's kid, another key
    const evil = def('get_limit', '6.6.6', 'approved');
    await publish(change('get_limit', 6, [def('get_limit', '1.0.0', 'approved')]));
    await raw({ ...change('get_limit', 7, [evil]) });
    const foreign = change('get_limit', 8, [evil]);
    await raw({ ...foreign, signature: await rogue.sign(foreign) });
    const tampered = await sign(change('get_limit', 9, [def('get_limit', '1.1.0', 'approved')]));
    await raw({ ...tampered, served: [evil] });
    // Validly signed, but far beyond anything the registry has numbered yet.
    await publish(change('get_limit', 1_000_000, [evil]));
    await publish(change('other_tool', 10, [def('other_tool', '1.0.0', 'approved')]));
    await waitFor(() => view.get('other_tool'), { what: 'the real change after the forgeries' });
    expect(view.get('get_limit')?.definition.version).toBe('1.0.0');
    expect(view.revision).toBe(10);
    expect(await refusals('unsigned')).toBe(before.unsigned + 1);
    expect(await refusals('bad_signature')).toBe(before.bad + 2);
    expect(await refusals('revision_ahead')).toBe(before.ahead + 1);
    expect(await refusals('unknown_key')).toBe(before.unknown);
    await view.close();
    await close();
  });

  it('follows a key rotation: an unknown kid reloads the keys, at most once per cooldown', async () => {
    const { bus, keys, publish, rotate, close } = await setup();
    const { url, jwksReads } = await registry({ revision: 0, tools: [] }, 200, keys);
    const view = await RegistryView.start({
      registryUrl: url,
      bus,
      service: 'test',
      logger,
      keyReloadCooldownMs: 300,
    });
    expect(jwksReads()).toBe(1);
    await rotate('key-2');
    // Right after start-up the cooldown holds: the change waits for the next reload, not lost.
    await publish(change('rotated', 1, [def('rotated', '1.0.0', 'approved')]));
    await publish(change('rotated_too', 2, [def('rotated_too', '1.0.0', 'approved')]));
    await waitFor(() => view.get('rotated') && view.get('rotated_too'), {
      what: 'changes signed with the new key',
    });
    expect(jwksReads()).toBe(2);
    await view.close();
    await close();
  });

  it('reads in a consumer group of its own per service and instance, stable across restarts', async () => {
    const { bus, keys, close } = await setup();
    const { url } = await registry({ revision: 0, tools: [] }, 200, keys);
    const groups: string[] = [];
    // The bus as the view sees it, recording the group of every subscription.
    const spy = Object.create(bus) as typeof bus;
    spy.subscribe = (options, handler) => {
      groups.push(options.groupId);
      return bus.subscribe(options, handler);
    };
    for (const instance of [undefined, undefined, 'pod-b']) {
      const view = await RegistryView.start({
        registryUrl: url,
        bus: spy,
        service: 'http-executor',
        instance,
        logger,
      });
      await view.close();
    }
    expect(groups).toEqual([
      `http-executor.registry-view.${hostname()}`,
      `http-executor.registry-view.${hostname()}`,
      'http-executor.registry-view.pod-b',
    ]);
    await close();
  });

  it('fails to start, saying why, when the registry keys cannot be read', async () => {
    const { bus, close } = await setup();
    const { url } = await registry({ revision: 0, tools: [] });
    await expect(
      RegistryView.start({
        registryUrl: url,
        bus,
        service: 'test',
        logger,
        jwksFile: '/nonexistent/jwks.json',
      }),
    ).rejects.toThrow(/registry's keys could not be read from \/nonexistent\/jwks.json/);
    await close();
  });

  it('fails to start, saying why, when the snapshot cannot be read', async () => {
    const bus = createMemoryBus({ serviceName: 'reader', logger, broker: new MemoryBroker() });
    await bus.ensureTopics(platformTopics());
    const { url } = await registry({ revision: 0, tools: [] }, 403, async () => ({ keys: [] }));
    await expect(
      RegistryView.start({ registryUrl: url, bus, service: 'test', logger }),
    ).rejects.toThrow(/registry snapshot .* answered 403/);
    await bus.close();
  });

  it('serves a fixed catalog without a registry', () => {
    const view = RegistryView.of([def('a', '1.0.0', 'approved'), def('a', '1.3.0', 'approved')]);
    expect(view.get('a')?.definition.version).toBe('1.3.0');
    expect(view.get('b')).toBeUndefined();
  });
});
