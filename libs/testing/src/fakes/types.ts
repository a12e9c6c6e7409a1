/** What a scripted turn sees of the request. */
export interface FakeRequestView {
  /** Text of the last user message ('' if none, or if it carries only tool results). */
  lastUserText: string;
  /**
   * Tool results in the last user turn (Anthropic: `tool_result` blocks of the last user
   * message; OpenAI: `tool` messages after the last assistant message). `toolName` comes from
   * the matching `tool_use` block or `tool_calls` entry earlier in the conversation.
   */
  toolResults: Array<{ toolUseId: string; toolName?: string; content: string; isError: boolean }>;
  /** Names of the tools offered in the request. */
  toolNames: string[];
  /** The system prompt (Anthropic `system`; OpenAI system and developer messages), joined. */
  system?: string;
  model: string;
  /** `max_tokens` (OpenAI: `max_completion_tokens` first, then `max_tokens`). */
  maxTokens?: number;
  /** The raw parsed request body. */
  body: unknown;
}

/** The answer a scripted turn gives; both fakes render it in their own wire format. */
export interface FakeReply {
  text?: string;
  /** Several entries are parallel tool calls; ids are generated when omitted. */
  toolCalls?: Array<{ name: string; input: Record<string, unknown>; id?: string }>;
  /**
   * Default: `tool_use` when there are tool calls, else `end_turn`. The OpenAI fake maps it to
   * `finish_reason` `tool_calls`, `stop` or `length`.
   */
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  /**
   * Token counts in Anthropic's sense: `input` excludes cached tokens. Defaults are estimates
   * (a token per four characters of the prompt JSON and of the reply); cache counts default to 0.
   * The OpenAI fake reports `prompt_tokens = input + cacheRead + cacheWrite` and
   * `cached_tokens = cacheRead`, because OpenAI counts cached tokens inside the prompt.
   */
  usage?: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number };
}

/** One step of a fake provider's script. */
export interface FakeTurn {
  /** Which requests this turn answers: a RegExp tested on lastUserText, or a predicate. Omitted = any. */
  when?: RegExp | ((req: FakeRequestView) => boolean);
  /** Answer once and then drop out of the script (default false: reusable). */
  once?: boolean;
  /** A fixed reply, or one computed from the request. */
  reply: FakeReply | ((req: FakeRequestView) => FakeReply);
}

/** A failure the next request meets instead of (or before) its scripted answer. */
export type FakeFault =
  /** An error status with the provider's error body; `retry-after` is sent when given. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number; message?: string }
  /** Answers normally after a delay (for streaming: the delay comes before the first byte). */
  | { kind: 'slow'; delayMs: number }
  /** 200 with a body that is not valid JSON, or (streaming) a broken SSE data line. */
  | { kind: 'malformed' }
  /** Never answers, until close(). */
  | { kind: 'hang' }
  /** Destroys the socket. */
  | { kind: 'reset' };

/** A request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Lower-case header names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  /** Epoch milliseconds when the body had been read. */
  at: number;
}

/** A running fake model provider on 127.0.0.1. */
export interface FakeProvider {
  /** e.g. http://127.0.0.1:40123 (Anthropic SDK baseURL = url; OpenAI SDK baseURL = url + '/v1'). */
  readonly url: string;
  /** Every request received, in order, including faulted ones. */
  readonly requests: RecordedRequest[];
  /** Replaces the script. */
  script(turns: FakeTurn[]): void;
  /**
   * Queues faults; each applies to ONE next request, in order. Token counting
   * (`/v1/messages/count_tokens`, `/tokenize`) never takes a fault.
   */
  fail(...faults: FakeFault[]): void;
  /** Clears requests, faults and script. */
  reset(): void;
  /** Stops the server; hung requests are released by destroying their sockets. */
  close(): Promise<void>;
}
