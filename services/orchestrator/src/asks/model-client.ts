import {
  Messages,
  ModelFailed,
  ModelResponse,
  Topics,
  type ModelRequest,
} from '@toolbus/contracts';
import { RequestTimeoutError, type MessageBus } from '@toolbus/messaging';
import type { ModelPort } from './ports.js';

/**
 * The model shim over `toolbus.model.requests`: keyed by the conversation (its calls stay in
 * order), the answer routed back to this instance on `toolbus.model.replies`, bounded by the
 * ask's deadline. A deadline that passes is a model failure the ask reports, not a hang.
 */
export function busModelClient(bus: MessageBus): ModelPort {
  return {
    async complete(request: ModelRequest, deadline: number) {
      try {
        const reply = await bus.request<ModelRequest, unknown>(
          Topics.modelRequests,
          { type: Messages.modelRequested.type, key: request.contextId, value: request },
          { replyTopic: Topics.modelReplies, timeoutMs: Math.max(1, deadline - Date.now()) },
        );
        if (reply.event.type === Messages.modelResponded.type) {
          const response = ModelResponse.safeParse(reply.value);
          if (response.success)
            return { ok: true, response: response.data, callId: reply.event.id };
        }
        const failure = ModelFailed.safeParse(reply.value);
        if (failure.success) return { ok: false, failure: failure.data };
        return {
          ok: false,
          failure: failed(
            request,
            'internal',
            'malformed_model_answer',
            `the model shim answered ${reply.event.type}, which is neither a response nor a failure`,
          ),
        };
      } catch (error) {
        if (!(error instanceof RequestTimeoutError)) throw error;
        return {
          ok: false,
          failure: failed(
            request,
            'timeout',
            'model_deadline',
            'the model did not answer before the ask’s deadline',
          ),
        };
      }
    },
  };
}

function failed(
  request: ModelRequest,
  cls: ModelFailed['error']['class'],
  code: string,
  message: string,
): ModelFailed {
  return {
    contextId: request.contextId,
    attempts: 1,
    error: { class: cls, code, message, retryable: cls === 'timeout' },
  };
}
