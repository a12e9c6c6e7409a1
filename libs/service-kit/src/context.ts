import { Global, Module, type DynamicModule } from '@nestjs/common';
import { MESSAGE_BUS } from '@toolbus/messaging';
import type { ServiceContext } from './service.js';

/** The service's validated config: `@Inject(SERVICE_CONFIG) config: RegistryConfig`. */
export const SERVICE_CONFIG = Symbol.for('toolbus.service.config');
/** The service's pino logger. */
export const LOGGER = Symbol.for('toolbus.service.logger');
/** The service's TypeORM data source (services that declare a database). */
export const DATA_SOURCE = Symbol.for('toolbus.service.data-source');
/** The whole {@link ServiceContext}. */
export const SERVICE_CONTEXT = Symbol.for('toolbus.service.context');

/** Provides the context's parts to every module of the service's app. */
@Global()
@Module({})
export class ServiceContextModule {
  static forContext(context: ServiceContext<unknown>): DynamicModule {
    return {
      module: ServiceContextModule,
      providers: [
        { provide: SERVICE_CONTEXT, useValue: context },
        { provide: SERVICE_CONFIG, useValue: context.config },
        { provide: LOGGER, useValue: context.logger },
        { provide: MESSAGE_BUS, useValue: context.bus },
        { provide: DATA_SOURCE, useValue: context.db ?? null },
      ],
      exports: [SERVICE_CONTEXT, SERVICE_CONFIG, LOGGER, MESSAGE_BUS, DATA_SOURCE],
    };
  }
}
