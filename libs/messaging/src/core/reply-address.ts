import { CE_HEADERS, type Headers } from '@toolbus/contracts';
import { PoisonMessageError, ReplyAddressError } from './errors.js';

/** Where a reply goes: the request's correlation id, reply topic and reply partition. */
export interface ReplyAddress {
  correlationid: string;
  replyto: string;
  partition: number | undefined;
}

/** How long a topic's partition count is trusted before a partition beyond it is re-checked. */
const RECHECK_AFTER_MS = 5_000;

/**
 * The reply topics a responder writes to, and the check of each request's reply address
 * against them. A request is the only thing that names where its reply goes, so anyone who can
 * produce to a request topic could otherwise make a responder write to any topic it may write
 * to (the audit log, the registry's change log); the allow-list closes that.
 */
export class ReplyTopics {
  private readonly allowed: ReadonlySet<string>;
  private readonly counts = new Map<string, { count: Promise<number>; at: number }>();

  constructor(
    allowed: Iterable<string>,
    private readonly partitionCount: (topic: string) => Promise<number>,
  ) {
    this.allowed = new Set(allowed);
  }

  /** A copy that also allows `more` (a responder configured with its own reply topics). */
  with(more: Iterable<string> = []): ReplyTopics {
    return new ReplyTopics([...this.allowed, ...more], this.partitionCount);
  }

  /**
   * The reply address a request's headers name. Throws PoisonMessageError when it names none,
   * ReplyAddressError when its topic is not a reply topic or its partition is not a number.
   */
  address(headers: Headers): ReplyAddress {
    const correlationid = headers[CE_HEADERS.correlationid];
    const replyto = headers[CE_HEADERS.replyto];
    if (!correlationid || !replyto) {
      throw new PoisonMessageError(
        'request has no ce_correlationid or ce_replyto header: send requests with MessageBus.request()',
      );
    }
    if (!this.allowed.has(replyto)) {
      throw new ReplyAddressError(
        `ce_replyto "${clip(replyto)}" is not a reply topic; replies go only to ${[...this.allowed].join(', ')}`,
      );
    }
    const raw = headers[CE_HEADERS.replypartition];
    if (raw === undefined) return { correlationid, replyto, partition: undefined };
    if (!/^\d{1,9}$/.test(raw)) {
      throw new ReplyAddressError(
        `ce_replypartition "${clip(raw)}" is not a partition number of ${replyto}`,
      );
    }
    return { correlationid, replyto, partition: Number(raw) };
  }

  /**
   * Throws ReplyAddressError when the address names a partition its topic does not have. The
   * count comes from the broker and is cached; a partition beyond it is checked again (at most
   * every 5 s), since a topic may have grown since.
   */
  async assertPartition(to: ReplyAddress): Promise<void> {
    if (to.partition === undefined) return;
    let count = await this.count(to.replyto, false);
    if (to.partition >= count) count = await this.count(to.replyto, true);
    if (to.partition >= count) {
      throw new ReplyAddressError(
        `ce_replypartition ${to.partition} is out of range: ${to.replyto} has partitions 0 to ${count - 1}`,
      );
    }
  }

  private count(topic: string, fresh: boolean): Promise<number> {
    const cached = this.counts.get(topic);
    if (cached && !(fresh && Date.now() - cached.at >= RECHECK_AFTER_MS)) return cached.count;
    const count = this.partitionCount(topic);
    this.counts.set(topic, { count, at: Date.now() });
    // A failed look-up is not remembered: the next request asks the broker again.
    count.catch(() => this.counts.delete(topic));
    return count;
  }
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
