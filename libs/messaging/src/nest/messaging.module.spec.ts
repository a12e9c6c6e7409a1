import { Controller, Injectable, Module } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { dlqTopic, messageKind } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { deferred, waitFor } from '@toolbus/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryBus } from '../memory/memory-bus.js';
import { NonRetryableError, RequestFailedError } from '../core/errors.js';
import { forKind, type MessageBus } from '../core/types.js';
import { MemoryBroker } from '../memory/memory-transport.js';
import { BusContext, BusTransport, OnMessage, OnRequest } from './bus-transport.js';
import { InjectBus, MESSAGE_BUS, MessagingModule } from './messaging.module.js';

const Order = z.object({ id: z.string(), qty: z.number().int().positive() });
type Order = z.infer<typeof Order>;
const ORDER = 'dev.toolbus.test.order.v1';
const OrderV1 = messageKind('test.order', 1, Order);
const OrderV2 = messageKind('test.order', 2, Order.extend({ currency: z.string().length(3) }), {
  upcast: { from: OrderV1, lift: (v1) => ({ ...v1, currency: 'EUR' }) },
});
type OrderV2 = z.infer<typeof OrderV2.schema>;

@Injectable()
class Ledger {
  readonly seen: Array<{ order: Order; key: string | null; attempt: number }> = [];
  readonly priced: Array<{ order: OrderV2; version?: number }> = [];
  constructor(@InjectBus() readonly bus: MessageBus) {}
}

@Controller()
class OrdersController {
  constructor(private readonly ledger: Ledger) {}

  @OnMessage('orders', { schema: Order, types: [ORDER], retry: { attempts: 2, initialDelayMs: 5 } })
  async record(@Payload() order: Order, @Ctx() ctx: BusContext): Promise<void> {
    if (order.id === 'refused') throw new NonRetryableError('order refused by policy');
    const m = ctx.getMessage();
    this.ledger.seen.push({ order, key: m.key, attempt: m.attempt });
  }

  @OnMessage('priced-orders', forKind(OrderV2, OrderV1))
  async priced(@Payload() order: OrderV2, @Ctx() ctx: BusContext): Promise<void> {
    this.ledger.priced.push({ order, version: ctx.getMessage().kind?.version });
  }

  @OnRequest('quotes', { schema: Order, replyTopics: ['replies'] })
  async quote(@Payload() order: Order) {
    if (order.id === 'boom') throw new Error('pricing engine unavailable');
    return { type: ORDER, value: { id: order.id, qty: order.qty, price: order.qty * 10 } };
  }
}

async function start(broker: MemoryBroker) {
  const logger = createLogger({ name: 'nest-test', level: 'silent' });
  const bus = createMemoryBus({ serviceName: 'orders', broker, logger });
  await bus.ensureTopics(
    ['orders', 'priced-orders', 'quotes', 'replies'].flatMap((t) => [
      { name: t, partitions: 2 },
      { name: dlqTopic(t), partitions: 1 },
    ]),
  );
  @Module({
    imports: [MessagingModule.forRoot({ useFactory: () => bus })],
    controllers: [OrdersController],
    providers: [Ledger],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestMicroservice({
    strategy: new BusTransport(bus, { groupPrefix: 'orders' }),
    logger: false,
  });
  await app.listen();
  return { app, bus: app.get<MessageBus>(MESSAGE_BUS), ledger: app.get(Ledger) };
}

describe('MessagingModule and BusTransport', () => {
  it('routes a topic to a controller method with the validated payload and its context', async () => {
    const { app, bus, ledger } = await start(new MemoryBroker());
    expect(ledger.bus).toBe(bus);
    await bus.publish<Order>('orders', {
      type: ORDER,
      key: 'cust-1',
      value: { id: 'o-1', qty: 3 },
    });
    await waitFor(() => ledger.seen.length === 1, { what: 'the order' });
    expect(ledger.seen[0]).toEqual({ order: { id: 'o-1', qty: 3 }, key: 'cust-1', attempt: 1 });
    await app.close();
  });

  it('hands a handler accepting two versions each one in the newest shape, with the version that arrived', async () => {
    const { app, bus, ledger } = await start(new MemoryBroker());
    await bus.publish('priced-orders', { type: OrderV1.type, value: { id: 'o-1', qty: 1 } });
    await bus.publish('priced-orders', {
      type: OrderV2.type,
      value: { id: 'o-2', qty: 2, currency: 'CHF' },
    });
    await waitFor(() => ledger.priced.length === 2, { what: 'both orders' });
    expect(ledger.priced).toEqual([
      { order: { id: 'o-1', qty: 1, currency: 'EUR' }, version: 1 },
      { order: { id: 'o-2', qty: 2, currency: 'CHF' }, version: 2 },
    ]);
    await app.close();
  });

  it('lets handler errors reach the bus: a non-retryable one is parked at once', async () => {
    const broker = new MemoryBroker();
    const { app, bus } = await start(broker);
    const parked = deferred<string>();
    await bus.subscribe({ topic: dlqTopic('orders'), groupId: 'dlq-reader' }, async (m) =>
      parked.resolve(m.headers['toolbus_dlq_reason']!),
    );
    await bus.publish('orders', { type: ORDER, value: { id: 'refused', qty: 1 } });
    await expect(parked.promise).resolves.toBe('order refused by policy');
    await app.close();
  });

  it('answers requests from a controller method, and a failing one with a clear error', async () => {
    const { app, bus } = await start(new MemoryBroker());
    const reply = await bus.request<Order, { price: number }>(
      'quotes',
      { type: ORDER, value: { id: 'q', qty: 4 } },
      { replyTopic: 'replies', timeoutMs: 2_000 },
    );
    expect(reply.value.price).toBe(40);
    const error = await bus
      .request(
        'quotes',
        { type: ORDER, value: { id: 'boom', qty: 1 } },
        { replyTopic: 'replies', timeoutMs: 5_000 },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestFailedError);
    expect((error as Error).message).toBe('request on quotes failed: pricing engine unavailable');
    await app.close();
  });

  it('closes the bus when the app shuts down', async () => {
    const { app, bus } = await start(new MemoryBroker());
    await app.close();
    await expect(bus.isHealthy()).resolves.toBe(false);
  });
});
