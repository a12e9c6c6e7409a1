import { Body, Controller, Get, Inject, Injectable, Module, Post } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { createMemoryBus, MemoryBroker, OnMessage } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import type { DataSource } from '@toolbus/persistence';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import {
  busFromConfig,
  commonConfig,
  ConfigError,
  defineService,
  env,
  LOGGER,
  SERVICE_CONFIG,
  startService,
  type ConfigOf,
  type DatabaseConnector,
  type Worker,
} from './index.js';

const logger = createLogger({ name: 'kit-test', level: 'silent' });

const widgetConfig = {
  ...commonConfig,
  WIDGETS: { schema: env.int(1, 10), default: '3', description: 'How many widgets' },
};
type WidgetConfig = ConfigOf<typeof widgetConfig>;

/** What happened, in order, across the parts of a test service. */
const events: string[] = [];

@Injectable()
class Relay implements Worker {
  constructor(@Inject(SERVICE_CONFIG) readonly config: WidgetConfig) {}
  start(): void {
    events.push(`relay started (${this.config.WIDGETS} widgets)`);
  }
  async stop(): Promise<void> {
    events.push('relay stopped');
  }
}

@Controller()
class WidgetController {
  constructor(@Inject(LOGGER) readonly log: unknown) {}
  @Get('widgets')
  widgets(): { widgets: number } {
    return { widgets: 1 };
  }
  @Post('widgets')
  add(@Body() body: unknown): { received: number } {
    return { received: JSON.stringify(body).length };
  }
}

const seen: unknown[] = [];
@Controller()
class WidgetConsumer {
  @OnMessage('widgets.events')
  async handle(@Payload() value: unknown): Promise<void> {
    seen.push(value);
  }
}

@Module({ controllers: [WidgetController, WidgetConsumer], providers: [Relay] })
class WidgetModule {}

function widgetService(
  extra: { onModule?: () => void; failModule?: boolean; bodyLimit?: number } = {},
) {
  return defineService({
    name: 'widgets',
    config: widgetConfig,
    ...(extra.bodyLimit ? { bodyLimit: () => extra.bodyLimit! } : {}),
    topics: () => [{ name: 'widgets.events', partitions: 1 }],
    module: ({ onStop, config }) => {
      if (extra.failModule) throw new ConfigError([{ variable: 'WIDGETS', message: 'no' }]);
      extra.onModule?.();
      onStop('widget pool', () => void events.push(`pool closed (${config.WIDGETS})`));
      return { module: WidgetModule };
    },
    workers: [Relay],
  });
}

const env0 = {
  PORT: '0',
  MANAGEMENT_PORT: '0',
  LOG_LEVEL: 'silent',
  WIDGETS: '4',
  SHUTDOWN_DEADLINE_MS: '2000',
};

describe('startService', () => {
  it('validates config, serves the module over HTTP and the bus, and probes', async () => {
    const broker = new MemoryBroker();
    const bus = createMemoryBus({ serviceName: 'host', broker, logger });
    const service = (await startService(widgetService(), { env: env0, bus, logger }))!;
    try {
      expect(service.config.WIDGETS).toBe(4);
      expect(await (await fetch(`${service.url}/widgets`)).json()).toEqual({ widgets: 1 });
      const management = service.managementUrl;
      expect(management).not.toBe(service.url);
      expect(await (await fetch(`${management}/health/ready`)).json()).toEqual({
        status: 'ok',
        checks: { bus: 'up' },
      });
      expect(await (await fetch(`${management}/health/live`)).json()).toEqual({ status: 'ok' });
      // The API port serves no probes or metrics, the management port no API.
      expect((await fetch(`${service.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${service.url}/health/ready`)).status).toBe(404);
      const elsewhere = await fetch(`${management}/widgets`);
      expect(elsewhere.status).toBe(404);
      expect(await elsewhere.json()).toMatchObject({
        type: 'https://toolbus.dev/problems/not_found',
      });
      const metrics = await (await fetch(`${management}/metrics`)).text();
      expect(metrics).toMatch(
        /toolbus_http_request_duration_seconds_count\{route="\/widgets",method="GET",status="200"\} 1/,
      );
      // Unknown paths are one label, not one per path; errors are problem+json.
      const missing = await fetch(`${service.url}/no/such/path/123`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toContain('application/problem+json');
      await bus.publish('widgets.events', { type: 'dev.toolbus.widget.v1', value: { n: 1 } });
      await expect.poll(() => seen.length).toBe(1);
      expect(service.get(Relay).config.WIDGETS).toBe(4);
    } finally {
      await service.close();
      await bus.close();
    }
  });

  it('refuses a body over the limit with a problem naming the limit', async () => {
    const service = (await startService(widgetService({ bodyLimit: 1024 }), {
      env: env0,
      logger,
    }))!;
    try {
      const post = (n: number) =>
        fetch(`${service.url}/widgets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ note: 'x'.repeat(n) }),
        });
      expect(await (await post(900)).json()).toEqual({ received: 911 });
      const tooLarge = await post(2000);
      expect(tooLarge.status).toBe(413);
      expect(await tooLarge.json()).toMatchObject({
        type: 'https://toolbus.dev/problems/body_too_large',
        detail: 'the request body is larger than the 1024 bytes this endpoint accepts',
      });
    } finally {
      await service.close();
    }
  });

  it('shuts down in one order: readiness, consumers, workers, resources, bus, database, HTTP', async () => {
    events.length = 0;
    const db = fakeDatabase(() => events.push('database closed'));
    const definition = {
      ...widgetService(),
      database: () => ({ schema: 'widgets', migrations: [] }),
    };
    const service = (await startService(definition, {
      env: env0,
      logger,
      database: db.connector,
    }))!;
    expect(events).toEqual(['relay started (4 widgets)']);
    // The host gave no bus, so the service built its own and closes it.
    const close = service.bus.close.bind(service.bus);
    vi.spyOn(service.bus, 'close').mockImplementation(async (deadline) => {
      events.push('bus closed');
      await close(deadline);
    });
    const server = service.app.getHttpServer() as Server;
    server.on('close', () => events.push('http closed'));
    await service.close();
    expect(events).toEqual([
      'relay started (4 widgets)',
      'relay stopped',
      'pool closed (4)',
      'bus closed',
      'database closed',
      'http closed',
    ]);
    // Closing twice runs the sequence once.
    await service.close();
    expect(events.filter((e) => e === 'relay stopped')).toHaveLength(1);
  });

  it('fails readiness and refuses API requests as soon as shutdown begins', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const definition = defineService({
      ...widgetService(),
      module: ({ onStop }) => {
        onStop('slow resource', () => stuck);
        return { module: WidgetModule };
      },
    });
    const service = (await startService(definition, { env: env0, logger }))!;
    const closed = service.close();
    await expect
      .poll(async () => (await fetch(`${service.managementUrl}/health/ready`)).status)
      .toBe(503);
    const refused = await fetch(`${service.url}/widgets`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({
      type: 'https://toolbus.dev/problems/shutting_down',
    });
    expect((await fetch(`${service.managementUrl}/health/live`)).status).toBe(200);
    release();
    await closed;
  });

  it('answers liveness at once and readiness only once the service serves', async () => {
    let release!: () => void;
    const snapshot = new Promise<void>((r) => (release = r));
    const port = await freePort();
    const definition = defineService({
      ...widgetService(),
      // A service that must load something before it may take its first message.
      module: async () => {
        await snapshot;
        return { module: WidgetModule };
      },
    });
    const starting = startService(definition, {
      env: { ...env0, MANAGEMENT_PORT: String(port) },
      logger,
    });
    const management = `http://127.0.0.1:${port}`;
    await expect
      .poll(async () => (await fetch(`${management}/health/live`).catch(() => undefined))?.status)
      .toBe(200);
    const early = await fetch(`${management}/health/ready`);
    expect(early.status).toBe(503);
    expect(await early.json()).toMatchObject({ checks: { startup: 'down' } });
    release();
    const service = (await starting)!;
    expect((await fetch(`${management}/health/ready`)).status).toBe(200);
    await service.close();
  });

  it('never closes a bus the host owns', async () => {
    const bus = createMemoryBus({ serviceName: 'host', broker: new MemoryBroker(), logger });
    const service = (await startService(widgetService(), { env: env0, bus, logger }))!;
    await service.close();
    expect(await bus.isHealthy()).toBe(true);
    await bus.close();
  });

  it('with migrateOnly opens and migrates the database, then stops before anything else', async () => {
    const db = fakeDatabase(() => undefined);
    let built = false;
    const definition = {
      ...widgetService({ onModule: () => (built = true) }),
      database: () => ({ schema: 'widgets', migrations: [] }),
    };
    const result = await startService(definition, {
      env: env0,
      logger,
      database: db.connector,
      migrateOnly: true,
    });
    expect(result).toBeUndefined();
    expect(db.opened).toEqual(['widgets']);
    expect(db.destroyed).toBe(true);
    expect(built).toBe(false);
  });

  it('refuses a bad environment naming the variable, and cleans up a failed start', async () => {
    await expect(
      startService(widgetService(), { env: { ...env0, WIDGETS: '11' }, logger }),
    ).rejects.toThrow(/WIDGETS: invalid value "11": must be at most 10/);
    const db = fakeDatabase(() => undefined);
    const definition = {
      ...widgetService({ failModule: true }),
      database: () => ({ schema: 'widgets', migrations: [] }),
    };
    await expect(
      startService(definition, { env: env0, logger, database: db.connector }),
    ).rejects.toBeInstanceOf(ConfigError);
    expect(db.destroyed).toBe(true);
  });
});

describe('busFromConfig', () => {
  it('chooses the in-memory bus when no brokers are configured', async () => {
    const bus = busFromConfig(
      'kit',
      { KAFKA_SESSION_TIMEOUT_MS: 10_000, SHUTDOWN_DEADLINE_MS: 1000 },
      logger,
    );
    expect(bus.kind).toBe('memory');
    await bus.close();
  });
});

/** A connector that hands out a stand-in DataSource and records what happens to it. */
function fakeDatabase(onDestroy: () => void) {
  const state = {
    opened: [] as string[],
    destroyed: false,
    connector: {
      open: async ({ schema }) => {
        state.opened.push(schema);
        return {
          isInitialized: true,
          query: async () => [{ '?column?': 1 }],
          destroy: async () => {
            state.destroyed = true;
            onDestroy();
          },
        } as unknown as DataSource;
      },
    } as DatabaseConnector,
  };
  return state;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
