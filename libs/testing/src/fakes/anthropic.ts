import type { ServerResponse } from 'node:http';
import {
  estimateTokens,
  isRecord,
  randomAlphanumeric,
  Script,
  sliceChunks,
  textOf,
  wordChunks,
  type Answer,
} from './script.js';
import {
  sendJson,
  sendMalformedJson,
  startFakeServer,
  startSse,
  writeSse,
  type Protocol,
  type RouteRequest,
} from './server.js';
import type { FakeProvider, FakeRequestView, FakeTurn } from './types.js';

type Block = Record<string, unknown> & { type: string };

interface MessageParam {
  role: 'user' | 'assistant';
  content: string | Block[];
}

/** The fields of a Messages API body the fake reads, after validation. */
interface MessagesBody {
  model: string;
  max_tokens?: number;
  messages: MessageParam[];
  system?: string | Block[];
  tools?: Array<Record<string, unknown>>;
  stream?: boolean;
}

/** A 400 the way the API words it: the message starts with the offending field's path. */
class InvalidRequest extends Error {}

/**
 * Starts a fake of Anthropic's Messages API (`POST /v1/messages`, streaming included, and
 * `POST /v1/messages/count_tokens`). Point the SDK at it with
 * `new Anthropic({ apiKey: 'test', baseURL: fake.url })`.
 */
export async function startFakeAnthropic(
  options: { turns?: FakeTurn[] } = {},
): Promise<FakeProvider> {
  const script = new Script(options.turns);

  const protocol: Protocol = {
    requestIdHeader: 'request-id',
    newRequestId: () => `req_01${randomAlphanumeric(22)}`,
    errorBody: (status, message, requestId) =>
      errorBody(errorType(status), message ?? defaultMessage(status), requestId),
    routes: [
      {
        method: 'POST',
        path: '/v1/messages',
        faultable: true,
        handle: (request) => createMessage(request, script),
      },
      {
        method: 'POST',
        path: '/v1/messages/count_tokens',
        faultable: false,
        handle: countTokens,
      },
    ],
  };
  return startFakeServer(protocol, script);
}

function createMessage({ req, res, body, requestId, malformed }: RouteRequest, script: Script) {
  if (!authenticated(req.headers, res, requestId)) return;
  const params = validated(body, true, res, requestId);
  if (!params) return;
  const view = viewOf(params, body);
  const answer = script.answer(view, promptJson(params), () => `toolu_01${randomAlphanumeric(22)}`);
  const id = `msg_01${randomAlphanumeric(22)}`;
  if (params.stream === true) {
    streamMessage(res, id, params.model, answer, malformed);
  } else if (malformed) {
    sendMalformedJson(res, `{"id":"${id}","type":"message","role":"assistant","content":[`);
  } else {
    sendJson(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model: params.model,
      content: contentOf(answer),
      stop_reason: answer.stopReason,
      stop_sequence: null,
      usage: {
        input_tokens: answer.usage.input,
        output_tokens: answer.usage.output,
        cache_creation_input_tokens: answer.usage.cacheWrite,
        cache_read_input_tokens: answer.usage.cacheRead,
      },
    });
  }
}

function countTokens({ req, res, body, requestId }: RouteRequest) {
  if (!authenticated(req.headers, res, requestId)) return;
  const params = validated(body, false, res, requestId);
  if (!params) return;
  sendJson(res, 200, { input_tokens: estimateTokens(promptJson(params).length) });
}

function contentOf(answer: Answer): Block[] {
  return [
    ...(answer.text !== '' ? [{ type: 'text', text: answer.text }] : []),
    ...answer.toolCalls.map((call) => ({
      type: 'tool_use',
      id: call.id,
      name: call.name,
      input: call.input,
    })),
  ];
}

/** The event sequence the API sends for `stream: true`. */
function streamMessage(
  res: ServerResponse,
  id: string,
  model: string,
  answer: Answer,
  malformed: boolean,
): void {
  startSse(res);
  writeSse(res, 'message_start', {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: answer.usage.input,
        cache_creation_input_tokens: answer.usage.cacheWrite,
        cache_read_input_tokens: answer.usage.cacheRead,
        // The API reports a provisional count here and the real one in message_delta.
        output_tokens: 1,
      },
    },
  });
  writeSse(res, 'ping', { type: 'ping' });
  if (malformed) {
    res.end('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"del\n\n');
    return;
  }
  let index = 0;
  if (answer.text !== '') {
    writeSse(res, 'content_block_start', {
      type: 'content_block_start',
      index,
      content_block: { type: 'text', text: '' },
    });
    for (const text of wordChunks(answer.text)) {
      writeSse(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'text_delta', text },
      });
    }
    writeSse(res, 'content_block_stop', { type: 'content_block_stop', index });
    index += 1;
  }
  for (const call of answer.toolCalls) {
    writeSse(res, 'content_block_start', {
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
    });
    // The API opens tool input with an empty fragment; clients must cope with it.
    for (const partial_json of ['', ...sliceChunks(JSON.stringify(call.input))]) {
      writeSse(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json },
      });
    }
    writeSse(res, 'content_block_stop', { type: 'content_block_stop', index });
    index += 1;
  }
  writeSse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: answer.stopReason, stop_sequence: null },
    usage: { output_tokens: answer.usage.output },
  });
  writeSse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

/**
 * The API takes a key as `x-api-key`, or as `Authorization: Bearer`, which is how SDK 1.x sends
 * an `apiKey`; both count, anything non-empty is accepted.
 */
function authenticated(
  headers: Record<string, string | string[] | undefined>,
  res: ServerResponse,
  requestId: string,
): boolean {
  const key = headers['x-api-key'];
  const bearer = /^Bearer\s+\S+/i.test(String(headers['authorization'] ?? ''));
  if ((typeof key !== 'string' || key === '') && !bearer) {
    sendJson(
      res,
      401,
      errorBody('authentication_error', 'x-api-key header is required', requestId),
    );
    return false;
  }
  if (typeof headers['anthropic-version'] !== 'string' || headers['anthropic-version'] === '') {
    sendJson(
      res,
      401,
      errorBody('authentication_error', 'anthropic-version header is required', requestId),
    );
    return false;
  }
  return true;
}

function validated(
  body: unknown,
  requireMaxTokens: boolean,
  res: ServerResponse,
  requestId: string,
): MessagesBody | undefined {
  try {
    return validate(body, requireMaxTokens);
  } catch (error) {
    if (!(error instanceof InvalidRequest)) throw error;
    sendJson(res, 400, errorBody('invalid_request_error', error.message, requestId));
    return undefined;
  }
}

/** Checks a body the way the API does, so client bugs surface as the same 400s. */
function validate(body: unknown, requireMaxTokens: boolean): MessagesBody {
  if (!isRecord(body)) throw new InvalidRequest('body: Input should be a valid dictionary');
  const { model, max_tokens, messages, system, tools, temperature, stream } = body;

  if (model === undefined) throw new InvalidRequest('model: Field required');
  if (typeof model !== 'string' || model === '') {
    throw new InvalidRequest('model: Input should be a valid string');
  }
  if (requireMaxTokens && max_tokens === undefined) {
    throw new InvalidRequest('max_tokens: Field required');
  }
  if (max_tokens !== undefined) {
    if (typeof max_tokens !== 'number' || !Number.isInteger(max_tokens)) {
      throw new InvalidRequest('max_tokens: Input should be a valid integer');
    }
    if (max_tokens < 1) {
      throw new InvalidRequest('max_tokens: Input should be greater than or equal to 1');
    }
  }
  if (messages === undefined) throw new InvalidRequest('messages: Field required');
  if (!Array.isArray(messages)) throw new InvalidRequest('messages: Input should be a valid list');
  if (messages.length === 0) throw new InvalidRequest('messages: at least one message is required');
  const checked = messages.map((message: unknown, i) => validateMessage(message, `messages.${i}`));
  checkToolPairing(checked);

  if (system !== undefined && typeof system !== 'string') {
    if (!Array.isArray(system)) {
      throw new InvalidRequest('system: Input should be a valid string or a list of text blocks');
    }
    system.forEach((block: unknown, i) => {
      if (!isRecord(block) || block['type'] !== 'text' || typeof block['text'] !== 'string') {
        throw new InvalidRequest(`system.${i}: Input should be a text block`);
      }
    });
  }
  if (tools !== undefined) {
    if (!Array.isArray(tools)) throw new InvalidRequest('tools: Input should be a valid list');
    tools.forEach((tool: unknown, i) => {
      if (!isRecord(tool))
        throw new InvalidRequest(`tools.${i}: Input should be a valid dictionary`);
      if (typeof tool['name'] !== 'string' || tool['name'] === '') {
        throw new InvalidRequest(`tools.${i}.name: Field required`);
      }
      // Server tools (web search, code execution, …) carry a versioned type and no schema.
      const custom = tool['type'] === undefined || tool['type'] === 'custom';
      if (custom && !isRecord(tool['input_schema'])) {
        throw new InvalidRequest(`tools.${i}.custom.input_schema: Field required`);
      }
    });
  }
  if (temperature !== undefined) {
    if (typeof temperature !== 'number') {
      throw new InvalidRequest('temperature: Input should be a valid number');
    }
    if (temperature < 0 || temperature > 1) {
      throw new InvalidRequest('temperature: Input should be between 0 and 1');
    }
  }
  if (stream !== undefined && typeof stream !== 'boolean') {
    throw new InvalidRequest('stream: Input should be a valid boolean');
  }
  return body as unknown as MessagesBody;
}

function validateMessage(message: unknown, at: string): MessageParam {
  if (!isRecord(message)) throw new InvalidRequest(`${at}: Input should be a valid dictionary`);
  const { role, content } = message;
  if (role !== 'user' && role !== 'assistant') {
    throw new InvalidRequest(`${at}.role: Input should be 'user' or 'assistant'`);
  }
  if (content === undefined) throw new InvalidRequest(`${at}.content: Field required`);
  if (typeof content === 'string') return { role, content };
  if (!Array.isArray(content)) {
    throw new InvalidRequest(`${at}.content: Input should be a valid string or list`);
  }
  content.forEach((block: unknown, j) => {
    const where = `${at}.content.${j}`;
    if (!isRecord(block)) throw new InvalidRequest(`${where}: Input should be a valid dictionary`);
    const type = block['type'];
    if (typeof type !== 'string') throw new InvalidRequest(`${where}.type: Field required`);
    if (type === 'text' && typeof block['text'] !== 'string') {
      throw new InvalidRequest(`${where}.text.text: Field required`);
    }
    if (type === 'tool_use') {
      if (role !== 'assistant') {
        throw new InvalidRequest(
          `${where}: tool_use blocks are only allowed in assistant messages`,
        );
      }
      for (const field of ['id', 'name'] as const) {
        if (typeof block[field] !== 'string' || block[field] === '') {
          throw new InvalidRequest(`${where}.tool_use.${field}: Field required`);
        }
      }
      if (!isRecord(block['input'])) {
        throw new InvalidRequest(`${where}.tool_use.input: Input should be a valid dictionary`);
      }
    }
    if (type === 'tool_result') {
      if (role !== 'user') {
        throw new InvalidRequest(`${where}: tool_result blocks are only allowed in user messages`);
      }
      if (typeof block['tool_use_id'] !== 'string' || block['tool_use_id'] === '') {
        throw new InvalidRequest(`${where}.tool_result.tool_use_id: Field required`);
      }
    }
  });
  return { role, content: content as Block[] };
}

/**
 * The API refuses a conversation whose tool_use blocks are not answered by tool_result blocks
 * in the very next message, and tool_result blocks that answer nothing; an orchestrator that
 * loses a tool result must fail here as it would in production.
 */
function checkToolPairing(messages: MessageParam[]): void {
  messages.forEach((message, i) => {
    if (message.role !== 'user' || typeof message.content === 'string') return;
    const previous = messages[i - 1];
    const offered = new Set(blocksOf(previous, 'tool_use').map((block) => block['id']));
    message.content.forEach((block, j) => {
      if (block.type === 'tool_result' && !offered.has(block['tool_use_id'])) {
        throw new InvalidRequest(
          `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block['tool_use_id'])}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    });
  });
  messages.forEach((message, i) => {
    const next = messages[i + 1];
    // A trailing assistant message is a prefill, not a turn awaiting results.
    if (message.role !== 'assistant' || next === undefined) return;
    const answered = new Set(blocksOf(next, 'tool_result').map((block) => block['tool_use_id']));
    const missing = blocksOf(message, 'tool_use')
      .map((block) => String(block['id']))
      .filter((id) => !answered.has(id));
    if (missing.length > 0) {
      throw new InvalidRequest(
        `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
      );
    }
  });
}

function blocksOf(message: MessageParam | undefined, type: string): Block[] {
  if (!message || typeof message.content === 'string') return [];
  return message.content.filter((block) => block.type === type);
}

function viewOf(params: MessagesBody, body: unknown): FakeRequestView {
  const toolNames = new Map<string, string>();
  for (const message of params.messages) {
    if (message.role !== 'assistant') continue;
    for (const block of blocksOf(message, 'tool_use')) {
      toolNames.set(String(block['id']), String(block['name']));
    }
  }
  const lastUser = params.messages.findLast((message) => message.role === 'user');
  return {
    lastUserText: lastUser ? textOf(lastUser.content) : '',
    toolResults: blocksOf(lastUser, 'tool_result').map((block) => {
      const toolUseId = String(block['tool_use_id']);
      const toolName = toolNames.get(toolUseId);
      return {
        toolUseId,
        ...(toolName !== undefined ? { toolName } : {}),
        content: textOf(block['content']),
        isError: block['is_error'] === true,
      };
    }),
    toolNames: (params.tools ?? []).map((tool) => String(tool['name'])),
    ...(params.system !== undefined ? { system: textOf(params.system) } : {}),
    model: params.model,
    ...(params.max_tokens !== undefined ? { maxTokens: params.max_tokens } : {}),
    body,
  };
}

/** What the input-token estimate counts. */
function promptJson(params: MessagesBody): string {
  return JSON.stringify({ messages: params.messages, system: params.system, tools: params.tools });
}

function errorBody(type: string, message: string, requestId: string) {
  return { type: 'error', error: { type, message }, request_id: requestId };
}

/** Error types as the API documents them per status. */
function errorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function defaultMessage(status: number): string {
  switch (status) {
    case 429:
      return 'Number of request tokens has exceeded your per-minute rate limit';
    case 529:
      return 'Overloaded';
    default:
      return status >= 500 ? 'Internal server error' : `Request failed with status ${status}`;
  }
}
