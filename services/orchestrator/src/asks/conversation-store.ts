import type { ChatMessage } from '@toolbus/contracts';
import type { StateStore } from '@toolbus/state';
import type { AskCheckpoint, ConversationPort } from './ports.js';

/** One finished ask of a conversation: its question, the model's steps, the tool results. */
interface StoredTurn {
  askId: string;
  messages: ChatMessage[];
}

const keys = {
  turns: (tenant: string, contextId: string) => `conversation:${tenant}:${contextId}`,
  dropped: (tenant: string, contextId: string) => `conversation:${tenant}:${contextId}:dropped`,
  checkpoint: (askId: string) => `ask:${askId}:checkpoint`,
};

/**
 * Conversations in the shared state store, with a TTL and a size bound. A finished ask is one
 * entry (a whole turn: its tool calls and their results never apart), so when the bound is
 * passed the oldest whole turns are dropped, never the middle of a tool call, and the count
 * of dropped turns is kept for the model to be told. An ask in progress is checkpointed after
 * each step, so an ask redelivered after a crash resumes from there.
 */
export class ConversationStore implements ConversationPort {
  constructor(
    private readonly store: StateStore,
    private readonly options: { ttlMs: number; maxMessages: number },
  ) {}

  async history(
    tenant: string,
    contextId: string,
  ): Promise<{ messages: ChatMessage[]; dropped: number }> {
    const turns = (await this.store.listRange(keys.turns(tenant, contextId))).map(
      (t) => JSON.parse(t) as StoredTurn,
    );
    // Newest turns first until the bound; a turn is kept whole or not at all.
    const kept: StoredTurn[] = [];
    let count = 0;
    for (const turn of [...turns].reverse()) {
      if (count + turn.messages.length > this.options.maxMessages) break;
      kept.unshift(turn);
      count += turn.messages.length;
    }
    const droppedEarlier = Number((await this.store.get(keys.dropped(tenant, contextId))) ?? 0);
    const dropped = droppedEarlier + turns.length - kept.length;
    const messages = kept.flatMap((t) => t.messages);
    if (dropped > 0 && messages.length > 0)
      messages.unshift(
        {
          role: 'user',
          content: [
            {
              type: 'text',
              text: `(${dropped} earlier turns of this conversation are not shown.)`,
            },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'Understood.' }] },
      );
    return { messages, dropped };
  }

  async resume(askId: string): Promise<AskCheckpoint | undefined> {
    const text = await this.store.get(keys.checkpoint(askId));
    return text ? (JSON.parse(text) as AskCheckpoint) : undefined;
  }

  async checkpoint(askId: string, checkpoint: AskCheckpoint): Promise<void> {
    await this.store.set(keys.checkpoint(askId), JSON.stringify(checkpoint), {
      ttlMs: this.options.ttlMs,
    });
  }

  async finish(
    tenant: string,
    contextId: string,
    askId: string,
    messages: ChatMessage[],
  ): Promise<void> {
    const turn: StoredTurn = { askId, messages };
    const { dropped } = await this.store.listAppend(
      keys.turns(tenant, contextId),
      [JSON.stringify(turn)],
      {
        maxLength: Math.max(1, this.options.maxMessages),
        ttlMs: this.options.ttlMs,
      },
    );
    if (dropped.length > 0)
      await this.store.increment(keys.dropped(tenant, contextId), dropped.length, {
        ttlMs: this.options.ttlMs,
      });
    await this.store.delete(keys.checkpoint(askId));
  }
}
