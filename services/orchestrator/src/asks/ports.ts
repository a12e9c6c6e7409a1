import type {
  AskProgress,
  ChatMessage,
  ModelFailed,
  ModelRequest,
  ModelResponse,
} from '@toolbus/contracts';

/** The model shim, over `toolbus.model.requests`. */
export interface ModelPort {
  complete(
    request: ModelRequest,
    deadline: number,
  ): Promise<
    { ok: true; response: ModelResponse; callId: string } | { ok: false; failure: ModelFailed }
  >;
}

/** Where an ask's progress goes: the progress topic, and the ask's record for readers. */
export interface ProgressPort {
  publish(event: Omit<AskProgress, 'seq' | 'at'>): Promise<void>;
}

/** Where an ask is: the messages sent to the model, of which the first were earlier turns. */
export interface AskCheckpoint {
  messages: ChatMessage[];
  historyLength: number;
}

/** A conversation's earlier turns, and the ask in progress (so a restart resumes it). */
export interface ConversationPort {
  /** Earlier turns, oldest first, already bounded; and how many were dropped. */
  history(tenant: string, contextId: string): Promise<{ messages: ChatMessage[]; dropped: number }>;
  /** An ask that was interrupted, to resume from: its messages, the first `historyLength` earlier turns'. */
  resume(askId: string): Promise<AskCheckpoint | undefined>;
  /** Records the ask's messages so far (after each step). */
  checkpoint(askId: string, checkpoint: AskCheckpoint): Promise<void>;
  /** Appends a finished ask's own messages as a turn of the conversation; forgets its checkpoint. */
  finish(tenant: string, contextId: string, askId: string, turn: ChatMessage[]): Promise<void>;
}

/** The tenant's spend: refuse before a model call when it is exhausted; record after. */
/** One model call's spend, as the model shim answered it. */
export interface ModelSpend {
  tenant: string;
  askId: string;
  /** The model shim's answer id: a spend is counted once per answer. */
  callId: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface SpendPort {
  /** Undefined when the tenant may spend this month; otherwise why not. */
  refusal(tenant: string): Promise<{ code: string; message: string } | undefined>;
  /** Counts one model call against the tenant's month and the ask; warnings to publish. */
  record(spend: ModelSpend): Promise<{ warnings: string[] }>;
  /** Tokens already spent by an ask (one resumed after a crash counts what it spent before). */
  askTokens(tenant: string, askId: string): Promise<number>;
}
