import { Controller, Inject, type Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Messages, toolRequestsTopic } from '@toolbus/contracts';
import { OnRequest, type Reply } from '@toolbus/messaging';
import { ToolRuntime } from './runtime.js';

/**
 * The bus handler of `tool_requests.<service>`: every call, valid or not, gets a reply on
 * `tool_responses` (completed or a classified failure). The topic depends on the service, so
 * the class is made per consumer; its group keeps the name consumers had from the start.
 */
export function toolRequestsConsumer(service: string): Type<unknown> {
  @Controller()
  class ToolRequestsConsumer {
    constructor(@Inject(ToolRuntime) private readonly runtime: ToolRuntime) {}

    @OnRequest(toolRequestsTopic(service), {
      groupId: `${service}.tool-requests`,
      types: [Messages.toolCallRequested.type],
    })
    async handle(@Payload() value: unknown): Promise<Reply> {
      const reply = await this.runtime.invoke(value, 'kafka');
      return reply.ok
        ? { type: Messages.toolCallCompleted.type, value: reply.completed }
        : { type: Messages.toolCallFailed.type, value: reply.failed };
    }
  }
  return ToolRequestsConsumer;
}
