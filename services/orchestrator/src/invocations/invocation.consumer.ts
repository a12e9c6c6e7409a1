import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Messages, Topics } from '@toolbus/contracts';
import { OnRequest, type BusContext, type Reply } from '@toolbus/messaging';
import { InvocationService } from './invocation.service.js';

/**
 * Direct tool calls over the bus: `toolbus.invoke.requests`, answered on `toolbus.invoke.replies`.
 * The message's id goes along: a keyless call delivered again keeps its idempotency key.
 */
@Controller()
export class InvocationConsumer {
  constructor(@Inject(InvocationService) private readonly invocations: InvocationService) {}

  @OnRequest(Topics.invokeRequests, { types: [Messages.toolInvocationRequested.type] })
  async handle(@Payload() payload: unknown, @Ctx() ctx: BusContext): Promise<Reply> {
    const { event } = ctx.getMessage();
    return {
      type: Messages.toolInvocationAnswered.type,
      value: await this.invocations.invoke(payload, { id: event.id }),
    };
  }
}
