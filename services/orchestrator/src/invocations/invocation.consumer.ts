import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Messages, Topics } from '@toolbus/contracts';
import { OnRequest, type Reply } from '@toolbus/messaging';
import { InvocationService } from './invocation.service.js';

/** Direct tool calls over the bus: `toolbus.invoke.requests`, answered on `toolbus.invoke.replies`. */
@Controller()
export class InvocationConsumer {
  constructor(@Inject(InvocationService) private readonly invocations: InvocationService) {}

  @OnRequest(Topics.invokeRequests, { types: [Messages.toolInvocationRequested.type] })
  async handle(@Payload() payload: unknown): Promise<Reply> {
    return {
      type: Messages.toolInvocationAnswered.type,
      value: await this.invocations.invoke(payload),
    };
  }
}
