import { randomBytes } from 'node:crypto';
import type { FakeReply, FakeRequestView, FakeTurn } from './types.js';

export type StopReason = NonNullable<FakeReply['stopReason']>;

/** A scripted reply with every default filled in, ready to be rendered on the wire. */
export interface Answer {
  text: string;
  toolCalls: Array<{ id: string; name: string; input: Record<string, unknown> }>;
  stopReason: StopReason;
  usage: { input: number; output: number; cacheRead: number; cacheWrite: number };
}

/** The fakes' token estimate: about four characters a token, like the providers' rule of thumb. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** The turns a fake answers with, in script order. */
export class Script {
  #turns: FakeTurn[] = [];

  constructor(turns: FakeTurn[] = []) {
    this.replace(turns);
  }

  replace(turns: FakeTurn[]): void {
    // A copy, so dropping `once` turns never edits the caller's array.
    this.#turns = [...turns];
  }

  /**
   * Answers with the first turn whose `when` matches; a `once` turn leaves the script when it
   * answers. `promptJson` is what the input-token estimate counts.
   */
  answer(view: FakeRequestView, promptJson: string, newToolId: () => string): Answer {
    const index = this.#turns.findIndex((turn) => matches(turn, view));
    let reply: FakeReply;
    if (index < 0) {
      reply = { text: `fake provider: no scripted turn matches "${view.lastUserText}"` };
    } else {
      const turn = this.#turns[index]!;
      if (turn.once) this.#turns.splice(index, 1);
      reply = typeof turn.reply === 'function' ? turn.reply(view) : turn.reply;
    }
    const text = reply.text ?? '';
    const toolCalls = (reply.toolCalls ?? []).map((call) => ({
      id: call.id ?? newToolId(),
      name: call.name,
      input: call.input,
    }));
    const outputChars = toolCalls.reduce(
      (sum, call) => sum + JSON.stringify(call.input).length,
      text.length,
    );
    return {
      text,
      toolCalls,
      stopReason: reply.stopReason ?? (toolCalls.length > 0 ? 'tool_use' : 'end_turn'),
      usage: {
        input: reply.usage?.input ?? estimateTokens(promptJson.length),
        output: reply.usage?.output ?? estimateTokens(outputChars),
        cacheRead: reply.usage?.cacheRead ?? 0,
        cacheWrite: reply.usage?.cacheWrite ?? 0,
      },
    };
  }
}

function matches(turn: FakeTurn, view: FakeRequestView): boolean {
  const { when } = turn;
  if (when === undefined) return true;
  if (typeof when === 'function') return when(view);
  // A global or sticky RegExp remembers where it stopped; every request starts afresh.
  when.lastIndex = 0;
  return when.test(view.lastUserText);
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random letters and digits, the alphabet of provider ids such as `msg_01…` and `call_…`. */
export function randomAlphanumeric(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 62 does not divide 256, so the spread is slightly uneven; ids only need to be unique.
  for (const byte of bytes) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return out;
}

/**
 * Splits text into pieces of a few words, as providers stream it; the pieces concatenate back
 * to the exact text, whitespace included.
 */
export function wordChunks(text: string, wordsPerChunk = 3): string[] {
  const words = text.match(/\s*\S+\s*/g);
  if (!words) return text === '' ? [] : [text];
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerChunk) {
    chunks.push(words.slice(i, i + wordsPerChunk).join(''));
  }
  return chunks;
}

/** Fixed-size slices, the way partial tool-call JSON arrives. */
export function sliceChunks(text: string, size = 12): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
  return chunks;
}

/** Joins the `text` parts of a content value that is a string or an array of blocks/parts. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is { type: 'text'; text: string } => {
      return isRecord(part) && part['type'] === 'text' && typeof part['text'] === 'string';
    })
    .map((part) => part.text)
    .join('\n');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
