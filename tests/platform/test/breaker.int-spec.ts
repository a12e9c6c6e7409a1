import {
  Messages,
  type AskCompleted,
  type AuditEvent,
  type Principal,
  type ToolInvocationAnswered,
} from '@toolbus/contracts';
import { waitFor, type FakeRequestView } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPlatform } from './platform.js';
import { RatesConsumer } from './rates-consumer.js';

const MIN_CALLS = 4;
// Longer than the open phase of the test takes, so no probe slips in while it asserts.
const HALF_OPEN_MS = 15_000;

/**
 * The circuit breaker of each tool, on a consumer of the test's own whose handlers fail on
 * demand: a failing tool opens its breaker once the window holds `BREAKER_MIN_CALLS` calls and
 * more than half failed; while it is open a cacheable read-only tool is answered from the
 * result cache in Redis, marked stale with its age, and any other call fails fast, neither
 * reaching the consumer; after the half-open wait one good probe closes it again. The gauge
 * `toolbus_tool_breaker_open` and the audit say the same.
 */
describe('the circuit breaker of a failing tool', () => {
  let platform: TestPlatform;
  let rates: RatesConsumer;
  let principal: Principal;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      orchestratorEnv: {
        BREAKER_MIN_CALLS: String(MIN_CALLS),
        BREAKER_FAILURE_RATIO: '50',
        BREAKER_WINDOW_MS: '60000',
        BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
        // One attempt per call: each logical call reaches the consumer at most once.
        TOOL_CALL_ATTEMPTS: '1',
      },
    });
    rates = await RatesConsumer.start(platform);
    await platform.approveAll(['lookup_rate', 'book_rate']);
    principal = platform.principal({ scopes: ['rates:read', 'rates:write'] });
    await platform.untilOffered(['lookup_rate', 'book_rate'], principal);
  }, 120_000);

  afterAll(async () => {
    await rates?.close();
    await platform?.close();
  });

  const invoke = (tool: string, input: Record<string, unknown>): Promise<ToolInvocationAnswered> =>
    platform.invoke({ tool, input }, { principal });

  /** `toolbus_tool_breaker_open{tool}` as the orchestrator's management port serves it. */
  const breakerGauge = async (tool: string): Promise<number | undefined> => {
    const text = await (await fetch(`${platform.orchestrators[0]!.managementUrl}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`toolbus_tool_breaker_open{tool="${tool}"}`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };

  /** Failing calls until the breaker refuses one; how many reached the consumer and failed. */
  const failUntilOpen = async (tool: string, input: Record<string, unknown>) => {
    const failed: ToolInvocationAnswered[] = [];
    for (let i = 0; i < MIN_CALLS * 3; i++) {
      const answer = await invoke(tool, input);
      if (answer.outcome === 'refused') return { failed, refusal: answer };
      failed.push(answer);
    }
    throw new Error(`${tool}'s breaker did not open after ${failed.length} failed calls`);
  };

  const audited = (what: string, match: (e: AuditEvent) => boolean) =>
    waitFor(() => platform.audit.find(match), { timeoutMs: 15_000, what });

  it('opens after the threshold; then serves a read-only tool stale from the cache and refuses the rest, reaching no consumer; a good probe closes it', async () => {
    // Healthy: a fresh answer, which the cache keeps (the tool's TTL is 300 s).
    const fresh = await invoke('lookup_rate', { pair: 'EURUSD' });
    expect(fresh).toMatchObject({ outcome: 'succeeded', output: { pair: 'EURUSD', rate: 1.0842 } });
    expect(fresh.stale).toBeUndefined();
    expect(await breakerGauge('lookup_rate')).toBe(0);

    // The upstream goes down. Below BREAKER_MIN_CALLS calls in the window the breaker stays
    // closed, however many fail; with them, more than half failed, and it opens.
    rates.control.down = true;
    const lookup = await failUntilOpen('lookup_rate', { pair: 'GBPUSD' });
    for (const f of lookup.failed)
      expect(f).toMatchObject({ outcome: 'failed', error: { code: 'upstream_down' } });
    expect(1 + lookup.failed.length).toBeGreaterThanOrEqual(MIN_CALLS);
    expect(lookup.failed.length).toBeLessThanOrEqual(MIN_CALLS);
    expect(lookup.refusal.error).toMatchObject({
      code: 'breaker_open',
      class: 'unavailable',
      retryable: true,
    });
    // GBPUSD was never answered, so no cached answer exists for it.
    expect(lookup.refusal.error?.message).toMatch(/no cached answer for these arguments/);
    expect(await breakerGauge('lookup_rate')).toBe(1);

    // Open: the cached EURUSD answer, marked stale with its age; the consumer not reached.
    const reached = rates.control.executions.length;
    const stale = await invoke('lookup_rate', { pair: 'EURUSD' });
    expect(stale.outcome).toBe('succeeded');
    expect(stale.output).toEqual(fresh.output);
    expect(stale.stale?.ageMs).toBeGreaterThan(0);
    expect(rates.control.executions.length).toBe(reached);

    // A write has its own breaker: it opens the same way (no call ever succeeded), then fails
    // fast, saying when the tool is tried again, without reaching the consumer.
    const book = await failUntilOpen('book_rate', { pair: 'EURUSD', amount: 100 });
    expect(book.failed.length).toBe(MIN_CALLS);
    const reachedBefore = rates.control.executions.length;
    const fastFail = await invoke('book_rate', { pair: 'EURUSD', amount: 100 });
    expect(fastFail).toMatchObject({
      outcome: 'refused',
      error: { code: 'breaker_open', class: 'unavailable', retryable: true },
    });
    expect(fastFail.error?.message).toMatch(
      /^The tool book_rate is failing, so calls to it are paused\. It will be tried again in [\d.]+ s\.$/,
    );
    expect(rates.control.executions.length).toBe(reachedBefore);
    expect(await breakerGauge('book_rate')).toBe(1);

    // Inside an ask the model reads both as tool results: the stale marker and the refusal.
    let seen: FakeRequestView['toolResults'] = [];
    platform.anthropic.script([
      {
        when: (req) => req.toolResults.length === 0,
        reply: {
          toolCalls: [
            { name: 'lookup_rate', input: { pair: 'EURUSD' } },
            { name: 'book_rate', input: { pair: 'EURUSD', amount: 250 } },
          ],
        },
      },
      {
        when: (req) => req.toolResults.length === 2,
        reply: (req) => {
          seen = req.toolResults;
          return { text: req.toolResults.map((r) => `${r.toolName}: ${r.content}`).join(' | ') };
        },
      },
    ]);
    const message = await platform.askMessage('Book 250 EUR at the current EURUSD rate', {
      principal,
    });
    const reply = await platform.ask(message);
    expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.askCompleted.type);
    const completed = reply.value as AskCompleted;
    expect(completed.toolCalls).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tool: 'lookup_rate', outcome: 'cached' }),
        expect.objectContaining({ tool: 'book_rate', outcome: 'refused', code: 'breaker_open' }),
      ]),
    );
    const staleResult = seen.find((r) => r.toolName === 'lookup_rate')!;
    expect(staleResult.isError).toBe(false);
    const staleBody = JSON.parse(staleResult.content) as Record<string, unknown>;
    expect(staleBody).toMatchObject({ stale: true, output: fresh.output });
    expect(staleBody['ageMs']).toEqual(expect.any(Number));
    const refusedResult = seen.find((r) => r.toolName === 'book_rate')!;
    expect(refusedResult.isError).toBe(true);
    expect(refusedResult.content).toMatch(/breaker_open/);
    expect(completed.answer).toMatch(/"stale":true/);
    expect(rates.control.executions.length).toBe(reachedBefore);

    // Each decision is audited: the stale answer as allowed and stale, the refusals as denied
    // by the breaker, direct and in the ask alike.
    const staleAudit = await audited(
      'the stale answer in the audit',
      (e) =>
        e.action === 'tool.call' &&
        e.resource.id.startsWith('lookup_rate@') &&
        e.details['stale'] === true &&
        e.details['direct'] === true,
    );
    expect(staleAudit).toMatchObject({ outcome: 'succeeded', details: { decision: 'allowed' } });
    expect(staleAudit.details['staleAgeMs']).toEqual(expect.any(Number));
    for (const direct of [true, false])
      await audited(
        `the ${direct ? 'direct' : 'ask'} breaker refusal in the audit`,
        (e) =>
          e.action === 'tool.call' &&
          e.resource.id.startsWith('book_rate@') &&
          e.outcome === 'denied' &&
          e.details['step'] === 'breaker' &&
          e.details['code'] === 'breaker_open' &&
          e.details['direct'] === direct,
      );
    await audited(
      'the stale answer of the ask in the audit',
      (e) =>
        e.action === 'tool.call' &&
        e.contextId === message.contextId &&
        e.resource.id.startsWith('lookup_rate@') &&
        e.details['stale'] === true,
    );

    // The upstream is back. Until the half-open wait is over calls are still refused; then
    // the first is a probe that reaches the consumer, succeeds, and closes the breaker.
    rates.control.down = false;
    const probe = await waitFor(
      async () => {
        const answer = await invoke('lookup_rate', { pair: 'GBPUSD' });
        if (answer.outcome === 'refused') {
          expect(answer.error?.code).toBe('breaker_open');
          return undefined;
        }
        return answer;
      },
      { timeoutMs: HALF_OPEN_MS * 3, intervalMs: 250, what: 'the half-open probe' },
    );
    expect(probe).toMatchObject({ outcome: 'succeeded', output: { pair: 'GBPUSD', rate: 1.2711 } });
    expect(probe.stale).toBeUndefined();
    expect(rates.executionsOf('lookup_rate').at(-1)!.idempotencyKey).toBe(probe.idempotencyKey);
    expect(await breakerGauge('lookup_rate')).toBe(0);

    // Closed: calls reach the consumer again and answer fresh.
    const again = await invoke('lookup_rate', { pair: 'EURUSD' });
    expect(again.outcome).toBe('succeeded');
    expect(again.stale).toBeUndefined();
    expect(rates.executionsOf('lookup_rate').at(-1)!.idempotencyKey).toBe(again.idempotencyKey);
    // book_rate's own breaker closes with its own good probe.
    const booked = await waitFor(
      async () => {
        const answer = await invoke('book_rate', { pair: 'EURUSD', amount: 100 });
        return answer.outcome === 'refused' ? undefined : answer;
      },
      { timeoutMs: HALF_OPEN_MS * 3, intervalMs: 250, what: "book_rate's half-open probe" },
    );
    expect(booked.outcome, JSON.stringify(booked)).toBe('succeeded');
    expect(await breakerGauge('book_rate')).toBe(0);
    expect((await rates.bookings()).map((b) => b.idempotency_key)).toEqual([booked.idempotencyKey]);
  });
});
