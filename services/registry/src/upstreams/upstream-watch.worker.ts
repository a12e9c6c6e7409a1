import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG, type Worker } from '@toolbus/service-kit';
import type { RegistryConfig } from '../config.js';
import { UpstreamService } from './upstream.service.js';

/**
 * Watches the registered upstream MCP servers while the registry runs, unless `UPSTREAM_SYNC`
 * is off (one-shot tools). Stopped after the API drained: a sync in progress finishes first.
 */
@Injectable()
export class UpstreamWatchWorker implements Worker {
  constructor(
    @Inject(UpstreamService) private readonly upstreams: UpstreamService,
    @Inject(SERVICE_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async start(): Promise<void> {
    if (this.config.UPSTREAM_SYNC) await this.upstreams.start();
  }

  stop(): Promise<void> {
    return this.upstreams.stop();
  }
}
