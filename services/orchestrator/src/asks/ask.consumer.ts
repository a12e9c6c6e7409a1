import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Messages, Topics } from '@toolbus/contracts';
import { OnRequest, type BusContext, type Reply } from '@toolbus/messaging';
import { AskService } from './ask.service.js';

/**
 * Answers `toolbus.ask.requests` on `toolbus.ask.replies`: the answer, or a failure that says
 * why. Asks are keyed by conversation, so one conversation's asks run in order while others
 * run beside them (ASK_CONCURRENCY).
 */
@Controller()
export class AskConsumer {
  constructor(@Inject(AskService) private readonly asks: AskService) {}

  @OnRequest(Topics.askRequests, { types: [Messages.askRequested.type] })
  async handle(@Payload() payload: unknown, @Ctx() ctx: BusContext): Promise<Reply> {
    const { event } = ctx.getMessage();
    const answer = await this.asks.answer(payload, {
      id: event.id,
      ...(event.deadline ? { deadline: event.deadline } : {}),
    });
    return answer.ok
      ? { type: Messages.askCompleted.type, value: answer.completed }
      : { type: Messages.askFailed.type, value: answer.failed };
  }
}
