import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Messages, Topics, type AuditEvent } from '@toolbus/contracts';
import { forKind, OnMessage, type BusContext } from '@toolbus/messaging';
import { AuditLedger } from './audit-ledger.js';

export interface LedgerConsumerOptions {
  concurrency: number;
  /** First and longest wait between attempts to store an event. */
  retryMs: number;
  retryMaxMs: number;
}

/**
 * The consumer of `toolbus.audit`, with its retry policy from the config (a decorator's options
 * are fixed when the class is made, hence the factory). An event is acknowledged only once its
 * row is durable: while PostgreSQL is away the handler fails, the bus retries it with backoff
 * without end (`attempts` unbounded: an audit event is never parked for an outage), and the
 * partition's offset waits; on shutdown or a rebalance the event is left uncommitted for the
 * next owner. Only an event that can never be stored (schema, a NUL byte) goes to the DLQ.
 */
export function ledgerConsumer(options: LedgerConsumerOptions): Type<unknown> {
  @Controller()
  class LedgerConsumer {
    constructor(@Inject(AuditLedger) private readonly ledger: AuditLedger) {}

    @OnMessage(Topics.audit, {
      ...forKind(Messages.auditRecorded),
      concurrency: options.concurrency,
      retry: {
        attempts: Number.MAX_SAFE_INTEGER,
        initialDelayMs: options.retryMs,
        maxDelayMs: options.retryMaxMs,
      },
    })
    async record(@Payload() event: AuditEvent, @Ctx() ctx: BusContext): Promise<void> {
      await this.ledger.record(event, ctx.getMessage().event.source);
    }
  }
  return LedgerConsumer;
}
