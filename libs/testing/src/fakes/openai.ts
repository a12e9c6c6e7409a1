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
  type StopReason,
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

type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';
const ROLES: readonly Role[] = ['system', 'developer', 'user', 'assistant', 'tool'];

interface ToolCallParam {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

interface ChatMessage {
  role: Role;
  content?: unknown;
  tool_calls?: ToolCallParam[];
  tool_call_id?: string;
}

/** The fields of a chat completions body the fake reads, after validation. */
interface ChatBody {
  model: string;
  messages: ChatMessage[];
  tools?: Array<{ type: 'function'; function: { name: string } }>;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

/** The context length the fake claims, as vLLM reports `max_model_len`. */
const MAX_MODEL_LEN = 32768;

/** A 400 naming the offending parameter, as OpenAI reports it in `error.param`. */
class InvalidRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null,
  ) {
    super(message);
  }
}

/**
 * Starts a fake OpenAI-compatible server as vLLM serves one: `POST /v1/chat/completions`
 * (streaming included), `GET /v1/models`, and vLLM's `POST /tokenize`. Point the SDK at it with
 * `new OpenAI({ apiKey: 'test', baseURL: fake.url + '/v1' })`. With `servedModels`, any other
 * model is a 404 as vLLM answers it; `/v1/models` lists them (default `['fake-model']`).
 */
export async function startFakeOpenAI(
  options: { turns?: FakeTurn[]; servedModels?: string[] } = {},
): Promise<FakeProvider> {
  const script = new Script(options.turns);
  const servedModels = options.servedModels;
  const listed = servedModels ?? ['fake-model'];
  const createdAt = Math.floor(Date.now() / 1000);

  function modelMissing(model: string, res: ServerResponse): boolean {
    if (servedModels === undefined || servedModels.includes(model)) return false;
    sendJson(res, 404, {
      error: {
        message: `The model \`${model}\` does not exist.`,
        type: 'NotFoundError',
        param: null,
        code: 404,
      },
    });
    return true;
  }

  const protocol: Protocol = {
    requestIdHeader: 'x-request-id',
    newRequestId: () => `req_${randomAlphanumeric(32)}`,
    errorBody: (status, message) => statusError(status, message),
    routes: [
      {
        method: 'POST',
        path: '/v1/chat/completions',
        faultable: true,
        handle({ req, res, body, malformed }: RouteRequest) {
          if (!authenticated(req.headers['authorization'], res)) return;
          const params = validated(body, res);
          if (!params || modelMissing(params.model, res)) return;
          const answer = script.answer(
            viewOf(params, body),
            promptJson(params),
            () => `call_${randomAlphanumeric(24)}`,
          );
          const id = `chatcmpl-${randomAlphanumeric(29)}`;
          if (params.stream === true) {
            const includeUsage = params.stream_options?.include_usage === true;
            streamCompletion(res, id, params.model, answer, includeUsage, malformed);
          } else if (malformed) {
            sendMalformedJson(res, `{"id":"${id}","object":"chat.completion","choices":[`);
          } else {
            sendJson(res, 200, {
              id,
              object: 'chat.completion',
              created: Math.floor(Date.now() / 1000),
              model: params.model,
              choices: [
                {
                  index: 0,
                  message: {
                    role: 'assistant',
                    content: answer.text !== '' ? answer.text : null,
                    refusal: null,
                    ...(answer.toolCalls.length > 0
                      ? {
                          tool_calls: answer.toolCalls.map((call) => ({
                            id: call.id,
                            type: 'function',
                            function: { name: call.name, arguments: JSON.stringify(call.input) },
                          })),
                        }
                      : {}),
                  },
                  logprobs: null,
                  finish_reason: finishReason(answer.stopReason),
                },
              ],
              usage: usageOf(answer),
            });
          }
        },
      },
      {
        method: 'GET',
        path: '/v1/models',
        faultable: true,
        handle({ req, res, malformed }: RouteRequest) {
          if (!authenticated(req.headers['authorization'], res)) return;
          if (malformed) {
            sendMalformedJson(res, '{"object":"list","data":[');
            return;
          }
          sendJson(res, 200, {
            object: 'list',
            data: listed.map((id) => ({
              id,
              object: 'model',
              created: createdAt,
              owned_by: 'vllm',
              root: id,
              parent: null,
              max_model_len: MAX_MODEL_LEN,
            })),
          });
        },
      },
      {
        // vLLM serves tokenize at the root, outside /v1 and its API-key check.
        method: 'POST',
        path: '/tokenize',
        faultable: false,
        handle({ res, body }: RouteRequest) {
          if (!isRecord(body)) {
            sendJson(res, 400, validationError(new InvalidRequest('Invalid request body', null)));
            return;
          }
          const { model, prompt, messages, tools } = body;
          if (typeof model === 'string' && modelMissing(model, res)) return;
          let chars: number;
          if (typeof prompt === 'string') chars = prompt.length;
          else if (Array.isArray(messages)) chars = JSON.stringify({ messages, tools }).length;
          else {
            const error = new InvalidRequest('Either prompt or messages is required', 'prompt');
            sendJson(res, 400, validationError(error));
            return;
          }
          sendJson(res, 200, {
            count: estimateTokens(chars),
            max_model_len: MAX_MODEL_LEN,
            tokens: [],
            token_strs: null,
          });
        },
      },
    ],
  };
  return startFakeServer(protocol, script);
}

/** Chunks the way OpenAI and vLLM stream a chat completion. */
function streamCompletion(
  res: ServerResponse,
  id: string,
  model: string,
  answer: Answer,
  includeUsage: boolean,
  malformed: boolean,
): void {
  const created = Math.floor(Date.now() / 1000);
  // With include_usage every chunk carries `usage: null` until the last one.
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  startSse(res);
  writeSse(res, null, chunk({ role: 'assistant', content: '' }));
  if (malformed) {
    res.end(`data: {"id":"${id}","object":"chat.completion.chunk","choi\n\n`);
    return;
  }
  for (const content of wordChunks(answer.text)) writeSse(res, null, chunk({ content }));
  answer.toolCalls.forEach((call, index) => {
    writeSse(
      res,
      null,
      chunk({
        tool_calls: [
          { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
        ],
      }),
    );
    for (const fragment of sliceChunks(JSON.stringify(call.input))) {
      writeSse(res, null, chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }));
    }
  });
  writeSse(res, null, chunk({}, finishReason(answer.stopReason)));
  if (includeUsage) {
    writeSse(res, null, {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [],
      usage: usageOf(answer),
    });
  }
  writeSse(res, null, '[DONE]');
  res.end();
}

function finishReason(stop: StopReason): 'stop' | 'tool_calls' | 'length' {
  if (stop === 'tool_use') return 'tool_calls';
  if (stop === 'max_tokens') return 'length';
  return 'stop';
}

/** OpenAI counts cached tokens inside prompt_tokens; the script counts them apart. */
function usageOf(answer: Answer) {
  const { input, output, cacheRead, cacheWrite } = answer.usage;
  const prompt = input + cacheRead + cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}

function authenticated(authorization: string | undefined, res: ServerResponse): boolean {
  const match = /^Bearer\s+(\S+)/i.exec(authorization ?? '');
  if (match) return true;
  sendJson(res, 401, {
    error: {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  });
  return false;
}

function validated(body: unknown, res: ServerResponse): ChatBody | undefined {
  try {
    return validate(body);
  } catch (error) {
    if (!(error instanceof InvalidRequest)) throw error;
    sendJson(res, 400, validationError(error));
    return undefined;
  }
}

function validationError(error: InvalidRequest) {
  return {
    error: {
      message: error.message,
      type: 'invalid_request_error',
      param: error.param,
      code: null,
    },
  };
}

const missing = (param: string) =>
  new InvalidRequest(`Missing required parameter: '${param}'.`, param);

/** Checks a body the way OpenAI does, so client bugs surface as the same 400s. */
function validate(body: unknown): ChatBody {
  if (!isRecord(body)) throw new InvalidRequest('The request body must be a JSON object.', null);
  const { model, messages, tools, stream, stream_options } = body;
  if (model === undefined) throw missing('model');
  if (typeof model !== 'string' || model === '') {
    throw new InvalidRequest("Invalid type for 'model': expected a string.", 'model');
  }
  if (messages === undefined) throw missing('messages');
  if (!Array.isArray(messages)) {
    throw new InvalidRequest(
      "Invalid type for 'messages': expected an array of objects.",
      'messages',
    );
  }
  if (messages.length === 0) {
    throw new InvalidRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
    );
  }
  const checked = messages.map((message: unknown, i) => validateMessage(message, i));
  checkToolPairing(checked);

  if (tools !== undefined) {
    if (!Array.isArray(tools)) {
      throw new InvalidRequest("Invalid type for 'tools': expected an array.", 'tools');
    }
    tools.forEach((tool: unknown, i) => {
      if (!isRecord(tool) || tool['type'] !== 'function') {
        throw new InvalidRequest(
          `Invalid value for 'tools[${i}].type': expected 'function'.`,
          `tools[${i}].type`,
        );
      }
      const fn = tool['function'];
      if (!isRecord(fn)) throw missing(`tools[${i}].function`);
      if (typeof fn['name'] !== 'string' || fn['name'] === '') {
        throw missing(`tools[${i}].function.name`);
      }
    });
  }
  for (const param of ['max_tokens', 'max_completion_tokens'] as const) {
    const value = body[param];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new InvalidRequest(`Invalid type for '${param}': expected an integer.`, param);
    }
    if (value < 1) {
      throw new InvalidRequest(
        `Invalid '${param}': integer below minimum value. Expected a value >= 1, but got ${value} instead.`,
        param,
      );
    }
  }
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw new InvalidRequest("Invalid type for 'stream': expected a boolean.", 'stream');
  }
  if (stream_options !== undefined && stream_options !== null && stream !== true) {
    throw new InvalidRequest(
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      'stream_options',
    );
  }
  return body as unknown as ChatBody;
}

function validateMessage(message: unknown, i: number): ChatMessage {
  const at = `messages[${i}]`;
  if (!isRecord(message)) {
    throw new InvalidRequest(`Invalid type for '${at}': expected an object.`, at);
  }
  const role = message['role'];
  if (role === undefined) throw missing(`${at}.role`);
  if (typeof role !== 'string' || !ROLES.includes(role as Role)) {
    throw new InvalidRequest(
      `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.`,
      `${at}.role`,
    );
  }
  const content = message['content'];
  const toolCalls = message['tool_calls'];
  if (role === 'assistant' && toolCalls !== undefined && toolCalls !== null) {
    if (!Array.isArray(toolCalls)) {
      throw new InvalidRequest(
        `Invalid type for '${at}.tool_calls': expected an array.`,
        `${at}.tool_calls`,
      );
    }
    toolCalls.forEach((call: unknown, j) => {
      const where = `${at}.tool_calls[${j}]`;
      if (!isRecord(call)) throw missing(where);
      if (typeof call['id'] !== 'string' || call['id'] === '') throw missing(`${where}.id`);
      const fn = call['function'];
      if (!isRecord(fn)) throw missing(`${where}.function`);
      if (typeof fn['name'] !== 'string') throw missing(`${where}.function.name`);
      if (typeof fn['arguments'] !== 'string') throw missing(`${where}.function.arguments`);
    });
  } else if (content === undefined || content === null) {
    throw missing(`${at}.content`);
  }
  if (
    role === 'tool' &&
    (typeof message['tool_call_id'] !== 'string' || !message['tool_call_id'])
  ) {
    throw missing(`${at}.tool_call_id`);
  }
  return message as unknown as ChatMessage;
}

/**
 * OpenAI refuses an assistant `tool_calls` message not followed by a tool message for each id,
 * and tool messages that answer nothing; an orchestrator that loses a tool result must fail here
 * as it would in production.
 */
function checkToolPairing(messages: ChatMessage[]): void {
  let open: string[] = [];
  messages.forEach((message, i) => {
    if (message.role === 'tool') {
      if (!open.includes(message.tool_call_id ?? '')) {
        throw new InvalidRequest(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages[${i}].role`,
        );
      }
      open = open.filter((id) => id !== message.tool_call_id);
      return;
    }
    if (open.length > 0) {
      throw new InvalidRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${open.join(', ')}`,
        `messages[${i}].role`,
      );
    }
    open = message.role === 'assistant' ? (message.tool_calls ?? []).map((call) => call.id) : [];
  });
}

function viewOf(params: ChatBody, body: unknown): FakeRequestView {
  const toolNames = new Map<string, string>();
  for (const message of params.messages) {
    for (const call of message.role === 'assistant' ? (message.tool_calls ?? []) : []) {
      toolNames.set(call.id, call.function.name);
    }
  }
  // The user turn is everything after the last assistant message: tool results and text.
  const lastAssistant = params.messages.findLastIndex((message) => message.role === 'assistant');
  const turn = params.messages.slice(lastAssistant + 1);
  const lastUser = turn.findLast((message) => message.role === 'user');
  const system = params.messages
    .filter((message) => message.role === 'system' || message.role === 'developer')
    .map((message) => textOf(message.content));
  const maxTokens = params.max_completion_tokens ?? params.max_tokens;
  return {
    lastUserText: lastUser ? textOf(lastUser.content) : '',
    toolResults: turn
      .filter((message) => message.role === 'tool')
      .map((message) => {
        const toolUseId = message.tool_call_id ?? '';
        const toolName = toolNames.get(toolUseId);
        return {
          toolUseId,
          ...(toolName !== undefined ? { toolName } : {}),
          content: textOf(message.content),
          isError: false,
        };
      }),
    toolNames: (params.tools ?? []).map((tool) => tool.function.name),
    ...(system.length > 0 ? { system: system.join('\n') } : {}),
    model: params.model,
    ...(maxTokens !== undefined && maxTokens !== null ? { maxTokens } : {}),
    body,
  };
}

/** What the prompt-token estimate counts. */
function promptJson(params: ChatBody): string {
  return JSON.stringify({ messages: params.messages, tools: params.tools });
}

/** OpenAI's error envelope for a status fault. */
function statusError(status: number, message: string | undefined) {
  if (status === 429) {
    return {
      error: {
        message: message ?? 'Rate limit reached for requests. Please try again later.',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    };
  }
  return {
    error: {
      message:
        message ??
        (status >= 500
          ? 'The server had an error while processing your request. Sorry about that!'
          : `Request failed with status ${status}`),
      type: status >= 500 ? 'server_error' : 'invalid_request_error',
      param: null,
      code: null,
    },
  };
}
