import OpenAI from 'openai';
import type { ContentPart, ModelRequest, ToolCall } from '@toolbus/contracts';
import {
  ProviderError,
  type ModelProvider,
  type ProviderCall,
  type ProviderResult,
} from './model-provider.js';
import { fromSdkError } from './sdk-errors.js';

type ChatParams = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

export interface OpenAiProviderOptions {
  /** Route name: vllm, ollama, openai... */
  name: string;
  baseURL: string;
  apiKey?: string;
  /** Try the server's /tokenize endpoint (vLLM) for exact input counts. */
  tokenize: boolean;
  streamAboveTokens: number;
}

/**
 * OpenAI-compatible chat completions with tools: vLLM, Ollama, llama.cpp server, hosted OpenAI.
 * Self-hosted models on the GPU pods are reached through this adapter.
 */
export class OpenAiProvider implements ModelProvider {
  readonly name: string;
  private readonly client: OpenAI;
  /** Unknown until tried: servers other than vLLM have no /tokenize. */
  private canTokenize: boolean | undefined;

  constructor(private readonly options: OpenAiProviderOptions) {
    this.name = options.name;
    this.canTokenize = options.tokenize ? undefined : false;
    this.client = new OpenAI({
      apiKey: options.apiKey ?? 'unused',
      baseURL: options.baseURL,
      maxRetries: 0,
    });
  }

  async complete(call: ProviderCall): Promise<ProviderResult> {
    const params: ChatParams = {
      ...toOpenAi(call.request),
      model: call.model,
      max_tokens: call.maxTokens,
    };
    const options = { signal: call.signal, timeout: call.timeoutMs, maxRetries: 0 };
    try {
      if (call.maxTokens > this.options.streamAboveTokens)
        return await this.streamed(params, options);
      return fromOpenAi(this.name, await this.client.chat.completions.create(params, options));
    } catch (error) {
      throw fromSdkError(this.name, error);
    }
  }

  /** Streams and reassembles the same result a non-streaming call would give. */
  private async streamed(
    params: ChatParams,
    options: { signal: AbortSignal; timeout: number; maxRetries: number },
  ): Promise<ProviderResult> {
    const stream = await this.client.chat.completions.create(
      { ...params, stream: true, stream_options: { include_usage: true } },
      options,
    );
    let text = '';
    let finish: string | null = null;
    let model = params.model;
    let usage: OpenAI.CompletionUsage | undefined;
    const calls = new Map<number, { id: string; name: string; args: string }>();
    for await (const chunk of stream) {
      model = chunk.model ?? model;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      if (choice.delta?.content) text += choice.delta.content;
      for (const tc of choice.delta?.tool_calls ?? []) {
        const entry = calls.get(tc.index) ?? { id: '', name: '', args: '' };
        if (tc.id) entry.id = tc.id;
        if (tc.function?.name) entry.name += tc.function.name;
        if (tc.function?.arguments) entry.args += tc.function.arguments;
        calls.set(tc.index, entry);
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    const message = {
      role: 'assistant' as const,
      content: text || null,
      refusal: null,
      tool_calls: [...calls.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, c]) => ({
          id: c.id,
          type: 'function' as const,
          function: { name: c.name, arguments: c.args },
        })),
    };
    return fromOpenAi(this.name, {
      id: 'stream',
      object: 'chat.completion',
      created: 0,
      model,
      choices: [{ index: 0, message, finish_reason: (finish ?? 'stop') as 'stop', logprobs: null }],
      usage,
    });
  }

  async countTokens(
    request: ModelRequest,
    model: string,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    if (this.canTokenize === false) return undefined;
    // vLLM serves /tokenize beside /v1, not under it.
    const url = new URL(
      '../tokenize',
      this.options.baseURL.endsWith('/') ? this.options.baseURL : `${this.options.baseURL}/`,
    );
    try {
      const response = await fetch(url, {
        method: 'POST',
        signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
        headers: {
          'content-type': 'application/json',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify({ model, messages: toOpenAi(request).messages }),
      });
      if (response.status === 404 || response.status === 405) {
        this.canTokenize = false;
        return undefined;
      }
      if (!response.ok) return undefined;
      const body = (await response.json()) as { count?: unknown };
      this.canTokenize = true;
      return typeof body.count === 'number' ? body.count : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Normalized request → chat completions body (without model and max_tokens). */
export function toOpenAi(request: ModelRequest): Omit<ChatParams, 'model' | 'max_tokens'> {
  const messages: ChatMessage[] = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  for (const m of request.messages) {
    const text = m.content
      .filter((p): p is Extract<ContentPart, { type: 'text' }> => p.type === 'text')
      .map((p) => p.text)
      .join('\n');
    if (m.role === 'assistant') {
      const uses = m.content.filter(
        (p): p is Extract<ContentPart, { type: 'tool_use' }> => p.type === 'tool_use',
      );
      messages.push({
        role: 'assistant',
        content: text || null,
        ...(uses.length > 0
          ? {
              tool_calls: uses.map((u) => ({
                id: u.id,
                type: 'function' as const,
                function: { name: u.name, arguments: JSON.stringify(u.input) },
              })),
            }
          : {}),
      });
      continue;
    }
    // Tool results become one `tool` message each, before any text of the same user turn.
    for (const p of m.content) {
      if (p.type === 'tool_result') {
        const body = p.content.map((c) => c.text).join('\n');
        messages.push({
          role: 'tool',
          tool_call_id: p.toolUseId,
          content: p.isError ? `ERROR: ${body}` : body,
        });
      }
    }
    if (text) messages.push({ role: 'user', content: text });
  }
  return {
    messages,
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.tools.length > 0
      ? {
          tools: request.tools.map((t) => ({
            type: 'function' as const,
            function: { name: t.name, description: t.description, parameters: t.inputSchema },
          })),
        }
      : {}),
  };
}

const FINISH: Record<string, ProviderResult['stopReason']> = {
  stop: 'end_turn',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  length: 'max_tokens',
  content_filter: 'refusal',
};

/** Chat completion → normalized result; unparseable tool arguments are a malformed answer. */
export function fromOpenAi(
  provider: string,
  completion: OpenAI.Chat.Completions.ChatCompletion,
): ProviderResult {
  const choice = completion?.choices?.[0];
  if (!choice?.message) throw new ProviderError(provider, 'malformed', 'answer has no choices');
  const content: ContentPart[] = [];
  const toolCalls: ToolCall[] = [];
  if (choice.message.content) content.push({ type: 'text', text: choice.message.content });
  for (const tc of choice.message.tool_calls ?? []) {
    if (tc.type !== 'function') continue;
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = tc.function.arguments ? JSON.parse(tc.function.arguments) : {};
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      throw new ProviderError(
        provider,
        'malformed',
        `tool call ${tc.function.name} has arguments that are not a JSON object`,
      );
    }
    content.push({ type: 'tool_use', id: tc.id, name: tc.function.name, input });
    toolCalls.push({ id: tc.id, name: tc.function.name, input });
  }
  const usage = completion.usage;
  // OpenAI counts cached tokens inside prompt_tokens; the normalized usage (Anthropic's
  // convention) keeps them apart so each is priced once.
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    content,
    toolCalls,
    stopReason: FINISH[choice.finish_reason ?? 'stop'] ?? 'end_turn',
    model: completion.model,
    usage: {
      inputTokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
      outputTokens: usage?.completion_tokens ?? 0,
      cacheReadTokens: cached,
      cacheWriteTokens: 0,
    },
  };
}
