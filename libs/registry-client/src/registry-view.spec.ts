import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Messages,
  platformTopics,
  Topics,
  type CatalogSnapshot,
  type RegistryChanged,
  type ToolDefinition,
} from '@toolbus/contracts';
import { createMemoryBus, MemoryBroker } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { waitFor } from '@toolbus/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { compareVersions, RegistryView } from './index.js';

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

  async function registry(
    snapshot: CatalogSnapshot,
    status = 200,
  ): Promise<{ url: string; auth: string[] }> {
    const auth: string[] = [];
    const server = createServer((req, res) => {
      auth.push(req.headers.authorization ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(snapshot));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth };
  }

  it('starts from the snapshot, applies newer events and ignores older ones', async () => {
    const broker = new MemoryBroker();
    const bus = createMemoryBus({ serviceName: 'reader', logger, broker });
    const publisher = createMemoryBus({ serviceName: 'registry', logger, broker });
    await publisher.ensureTopics(platformTopics());
    const { url, auth } = await registry({
      revision: 5,
      tools: [{ name: 'get_limit', revision: 5, served: [def('get_limit', '1.0.0', 'approved')] }],
    });
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

    const publish = (c: RegistryChanged) =>
      publisher.publish(Topics.registryChanges, {
        type: Messages.registryChanged.type,
        key: c.name,
        value: c,
      });
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
    await bus.close();
    await publisher.close();
  });

  it('fails to start, saying why, when the snapshot cannot be read', async () => {
    const bus = createMemoryBus({ serviceName: 'reader', logger, broker: new MemoryBroker() });
    await bus.ensureTopics(platformTopics());
    const { url } = await registry({ revision: 0, tools: [] }, 403);
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
