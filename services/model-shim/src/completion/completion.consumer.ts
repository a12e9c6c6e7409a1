import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  validationError,
  Messages,
  ModelRequest,
  Topics,
  type ModelFailed,
} from '@toolbus/contracts';
import { OnRequest, type BusContext, type Reply } from '@toolbus/messaging';
import { SERVICE_CONFIG } from '@toolbus/service-kit';
import type { ModelShimConfig } from '../config.js';
import { CompletionService } from './completion.service.js';

/** Answers `toolbus.model.requests` with a model response or a classified failure. */
@Controller()
export class CompletionConsumer {
  constructor(
    private readonly completions: CompletionService,
    @Inject(SERVICE_CONFIG) private readonly config: ModelShimConfig,
  ) {}

  @OnRequest(Topics.modelRequests, { types: [Messages.modelRequested.type] })
  async handle(@Payload() payload: unknown, @Ctx() ctx: BusContext): Promise<Reply> {
    const message = ctx.getMessage();
    // Validated here rather than by the bus so a bad request gets a typed failure reply that
    // names each bad field, instead of only a dead-letter entry.
    const parsed = ModelRequest.safeParse(payload);
    if (!parsed.success) {
      const contextId =
        typeof (payload as { contextId?: unknown })?.contextId === 'string'
          ? String((payload as { contextId: string }).contextId)
          : 'unknown-context';
      const failure: ModelFailed = {
        contextId: contextId.length >= 8 ? contextId.slice(0, 128) : 'unknown-context',
        attempts: 0,
        error: validationError('invalid_model_request', 'invalid model request', parsed.error),
      };
      return { type: Messages.modelFailed.type, value: failure };
    }
    const deadline = message.event.deadline
      ? Date.parse(message.event.deadline)
      : Date.now() + this.config.MODEL_DEFAULT_DEADLINE_MS;
    const outcome = await this.completions.complete(parsed.data, deadline, message.signal);
    return outcome.ok
      ? { type: Messages.modelResponded.type, value: outcome.response }
      : { type: Messages.modelFailed.type, value: outcome.failure };
  }
}
