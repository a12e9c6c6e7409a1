import Anthropic from '@anthropic-ai/sdk';
import type { ContentPart, ModelRequest, ToolCall } from '@toolbus/contracts';
import {
  ProviderError,
  type ModelProvider,
  type ProviderCall,
  type ProviderResult,
} from './model-provider.js';
import { fromSdkError } from './sdk-errors.js';

type Params = Anthropic.MessageCreateParamsNonStreaming;

export interface AnthropicProviderOptions {
  apiKey: string;
  baseURL?: string;
  /** Generations allowed more tokens than this are streamed, so long answers keep the connection alive. */
  streamAboveTokens: number;
}

/** Anthropic Messages API through the official SDK. Retries are ours (maxRetries 0). */
export class AnthropicProvider implements ModelProvider {
  readonly name = 'anthropic';
  private readonly client: Anthropic;

  constructor(private readonly options: AnthropicProviderOptions) {
    this.client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      maxRetries: 0,
    });
  }

  async complete(call: ProviderCall): Promise<ProviderResult> {
    const params: Params = {
      ...toAnthropic(call.request),
      model: call.model,
      max_tokens: call.maxTokens,
    };
    const options = { signal: call.signal, timeout: call.timeoutMs, maxRetries: 0 };
    try {
      const message =
        call.maxTokens > this.options.streamAboveTokens
          ? await this.client.messages.stream(params, options).finalMessage()
          : await this.client.messages.create(params, options);
      return fromAnthropic(message);
    } catch (error) {
      throw fromSdkError(this.name, error);
    }
  }

  async countTokens(request: ModelRequest, model: string, signal: AbortSignal): Promise<number> {
    const { system, messages, tools } = toAnthropic(request);
    try {
      const counted = await this.client.messages.countTokens(
        { model, system, messages, tools },
        { signal, maxRetries: 0, timeout: 5_000 },
      );
      return counted.input_tokens;
    } catch (error) {
      throw fromSdkError(this.name, error);
    }
  }
}

/** Normalized request → Messages API body (without model and max_tokens). */
export function toAnthropic(request: ModelRequest): Omit<Params, 'model' | 'max_tokens'> {
  return {
    ...(request.system ? { system: request.system } : {}),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    messages: request.messages.map((m) => ({
      role: m.role,
      content: m.content.map((p): Anthropic.ContentBlockParam => {
        switch (p.type) {
          case 'text':
            return { type: 'text', text: p.text };
          case 'tool_use':
            return { type: 'tool_use', id: p.id, name: p.name, input: p.input };
          case 'tool_result':
            return {
              type: 'tool_result',
              tool_use_id: p.toolUseId,
              content: p.content.map((c) => ({ type: 'text', text: c.text })),
              is_error: p.isError,
            };
        }
      }),
    })),
    ...(request.tools.length > 0
      ? {
          tools: request.tools.map((t) => ({
            name: t.name,
            description: t.description,
            input_schema: { ...t.inputSchema, type: 'object' } as Anthropic.Tool.InputSchema,
          })),
        }
      : {}),
  };
}

const STOP: Record<string, ProviderResult['stopReason']> = {
  end_turn: 'end_turn',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  model_context_window_exceeded: 'max_tokens',
  stop_sequence: 'stop_sequence',
  refusal: 'refusal',
  pause_turn: 'end_turn',
};

/** Messages API answer → normalized result. */
export function fromAnthropic(message: Anthropic.Message): ProviderResult {
  if (!message || !Array.isArray(message.content) || !message.usage) {
    throw new ProviderError('anthropic', 'malformed', 'answer has no content or usage');
  }
  const content: ContentPart[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') content.push({ type: 'text', text: block.text });
    else if (block.type === 'tool_use') {
      const input = (block.input ?? {}) as Record<string, unknown>;
      content.push({ type: 'tool_use', id: block.id, name: block.name, input });
      toolCalls.push({ id: block.id, name: block.name, input });
    }
  }
  return {
    content,
    toolCalls,
    stopReason: STOP[message.stop_reason ?? 'end_turn'] ?? 'end_turn',
    model: message.model,
    usage: {
      inputTokens: message.usage.input_tokens ?? 0,
      outputTokens: message.usage.output_tokens ?? 0,
      cacheReadTokens: message.usage.cache_read_input_tokens ?? 0,
      cacheWriteTokens: message.usage.cache_creation_input_tokens ?? 0,
    },
  };
}
