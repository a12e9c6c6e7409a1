import { Controller, Get, Headers, Inject, Param, Query } from '@nestjs/common';
import type { AskProgress } from '@toolbus/contracts';
import { ProblemError, Public } from '@toolbus/service-kit';
import { EdgeTrust } from '../edge/edge-trust.js';
import { AskRecords, type AskRecord } from './ask-records.js';

/**
 * Asks as the gateway reads them for its callers (`GET /v1/asks/{id}`, and the event stream
 * resumed after a sequence number), from the shared state, whichever replica ran the ask. A
 * tenant reads only its own asks: another tenant's is answered as not found.
 */
@Controller('internal/v1/asks')
@Public('each request carries the gateway’s principal assertion for the ask it reads')
export class AskController {
  constructor(
    @Inject(AskRecords) private readonly records: AskRecords,
    @Inject(EdgeTrust) private readonly trust: EdgeTrust,
  ) {}

  @Get(':askId')
  async get(
    @Param('askId') askId: string,
    @Headers('x-toolbus-principal-assertion') assertion: string | undefined,
  ): Promise<AskRecord> {
    return this.readable(askId, assertion);
  }

  @Get(':askId/events')
  async events(
    @Param('askId') askId: string,
    @Query('after') after: string | undefined,
    @Headers('x-toolbus-principal-assertion') assertion: string | undefined,
  ): Promise<{ items: AskProgress[] }> {
    if (after !== undefined && !/^-?\d{1,9}$/.test(after))
      throw new ProblemError(422, 'invalid_input', 'after must be a sequence number', {
        issues: [{ pointer: '/after', message: 'must be a whole number' }],
      });
    await this.readable(askId, assertion);
    return { items: await this.records.events(askId, after === undefined ? -1 : Number(after)) };
  }

  private async readable(askId: string, assertion: string | undefined): Promise<AskRecord> {
    const trusted = await this.trust.principalOf(assertion, { askId });
    if ('refusal' in trusted) throw new ProblemError(401, 'untrusted_caller', trusted.refusal);
    const record = await this.records.get(askId);
    if (!record || record.tenant !== trusted.principal.tenant)
      throw new ProblemError(404, 'not_found', `there is no ask ${askId}`);
    return record;
  }
}
