import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { MessageBus } from '../core/types.js';

/** Injection token of the MessageBus: `@InjectBus() bus: MessageBus`. */
export const MESSAGE_BUS = Symbol.for('toolbus.MessageBus');

/** Parameter decorator for the bus. */
export const InjectBus = (): ParameterDecorator => Inject(MESSAGE_BUS);

export interface MessagingModuleOptions {
  /** Builds the bus, usually from the service's validated config (Kafka or in-memory). */
  useFactory: (...args: never[]) => MessageBus | Promise<MessageBus>;
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  /** Shutdown deadline for in-flight handlers when the app stops. Default 10 s. */
  shutdownDeadlineMs?: number;
}

class BusLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly bus: MessageBus,
    private readonly deadlineMs: number,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close(this.deadlineMs);
  }
}

/** Provides the MessageBus to a Nest app and closes it gracefully on shutdown. */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    const busProvider: Provider = {
      provide: MESSAGE_BUS,
      useFactory: options.useFactory as (...args: unknown[]) => MessageBus | Promise<MessageBus>,
      inject: options.inject ?? [],
    };
    const lifecycle: Provider = {
      provide: BusLifecycle,
      useFactory: (bus: MessageBus) => new BusLifecycle(bus, options.shutdownDeadlineMs ?? 10_000),
      inject: [MESSAGE_BUS],
    };
    return {
      module: MessagingModule,
      global: true,
      providers: [busProvider, lifecycle],
      exports: [MESSAGE_BUS],
    };
  }
}
