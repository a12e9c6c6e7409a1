import { AuditEvent, chainRowHash } from '@toolbus/contracts';
import { NonRetryableError } from '@toolbus/messaging';
import { describe, expect, it } from 'vitest';
import {
  auditEntryOf,
  chainRecordOf,
  chainRowOf,
  decisionOf,
  LEDGER_COLUMNS,
  ledgerRowOf,
  unsealedRow,
  type LedgerRow,
} from './ledger-record.js';

const alice = { subject: 'alice', kind: 'user' as const, tenant: 'acme', scopes: ['crm:*'] };
const recordedAt = new Date('2026-03-01T10:00:05.000Z');
const options = { source: '/toolbus/orchestrator', recordedAt, keepArguments: false };

/** The shapes the three producers publish today (see their audit publishers). */
const toolCall = AuditEvent.parse({
  id: '0B5F3C1E-8A9D-4F1B-9C2E-3D4A5B6C7D8E',
  at: '2026-03-01T11:00:00.123456+01:00',
  actor: { ...alice, displayName: 'Alice Liddell' },
  action: 'tool.call',
  resource: { kind: 'tool', id: 'get_credit_limit@1.0.0' },
  outcome: 'denied',
  tenant: 'acme',
  region: 'eu',
  contextId: 'context-0001',
  traceId: 'a'.repeat(32),
  reason: 'the quota of get_credit_limit is spent',
  details: {
    decision: 'refused',
    step: 'quota',
    argumentsHash: 'hash-of-args',
    arguments: { customer_id: 'acme-corp' },
    latencyMs: 3,
  },
});
const ask = AuditEvent.parse({
  id: '6a1c2f9e-0f4b-4d0e-8f53-0c1a2b3c4d5e',
  at: '2026-03-01T10:00:01Z',
  actor: alice,
  action: 'ask.answer',
  resource: { kind: 'ask', id: 'ask-1' },
  outcome: 'succeeded',
  tenant: 'acme',
  details: { inputTokens: 1200, outputTokens: 80, costUsd: 0.0042, latencyMs: 812 },
});
const modelCall = AuditEvent.parse({
  id: '7b2d3a0f-1a5c-4e1f-9a64-1d2b3c4d5e6f',
  at: '2026-03-01T10:00:00.500Z',
  actor: { subject: 'model-shim', kind: 'service', tenant: 'acme', scopes: [] },
  action: 'model.call',
  resource: { kind: 'model', id: 'anthropic:claude' },
  outcome: 'failed',
  tenant: 'acme',
  details: { usage: { inputTokens: 10, outputTokens: 2 }, costUsd: 0.0001, latencyMs: 40.5 },
});
const approval = AuditEvent.parse({
  id: '8c3e4b1a-2b6d-4f2a-8b75-2e3c4d5e6f70',
  at: '2026-03-01T10:00:00Z',
  actor: { subject: 'bob', kind: 'user', tenant: 'platform', scopes: ['registry:approve'] },
  action: 'tool.approve',
  resource: { kind: 'tool_version', id: 'get_credit_limit@1.0.0' },
  outcome: 'succeeded',
  tenant: 'platform',
  hashBefore: 'b'.repeat(64),
  hashAfter: 'c'.repeat(64),
});

describe('unsealedRow', () => {
  it('breaks out of a tool call who, tenant, tool, decision, latency and trace; seals the rest', () => {
    const { columns, sealed } = unsealedRow(toolCall, options);
    expect(columns).toMatchObject({
      event_id: '0b5f3c1e-8a9d-4f1b-9c2e-3d4a5b6c7d8e',
      at: '2026-03-01T10:00:00.123Z',
      recorded_at: '2026-03-01T10:00:05.000Z',
      source: '/toolbus/orchestrator',
      tenant: 'acme',
      actor_subject: 'alice',
      actor_kind: 'user',
      action: 'tool.call',
      resource_id: 'get_credit_limit@1.0.0',
      tool: 'get_credit_limit',
      outcome: 'denied',
      decision: 'refused',
      region: 'eu',
      context_id: 'context-0001',
      trace_id: 'a'.repeat(32),
      latency_ms: 3,
      input_tokens: null,
      cost_usd: null,
    });
    expect(JSON.stringify(columns)).not.toMatch(/Alice Liddell|quota of|hash-of-args|acme-corp/);
    expect(sealed).toEqual({
      displayName: 'Alice Liddell',
      reason: 'the quota of get_credit_limit is spent',
      argumentsHash: 'hash-of-args',
      details: { decision: 'refused', step: 'quota', argumentsHash: 'hash-of-args', latencyMs: 3 },
    });
  });

  it('keeps the arguments (sealed) only when configured', () => {
    expect(unsealedRow(toolCall, { ...options, keepArguments: true }).sealed).toMatchObject({
      arguments: { customer_id: 'acme-corp' },
    });
    expect(JSON.stringify(unsealedRow(toolCall, options))).not.toContain('acme-corp');
  });

  it("takes tokens and cost from an ask's details and from a model call's usage", () => {
    expect(unsealedRow(ask, options).columns).toMatchObject({
      input_tokens: 1200,
      output_tokens: 80,
      cost_usd: 0.0042,
      latency_ms: 812,
      tool: null,
      decision: 'allowed',
    });
    expect(unsealedRow(modelCall, options).columns).toMatchObject({
      input_tokens: 10,
      output_tokens: 2,
      cost_usd: 0.0001,
      latency_ms: 40.5,
    });
  });

  it("keeps a registry change's hashes before and after, and nulls for what it lacks", () => {
    const { columns } = unsealedRow(approval, options);
    expect(columns).toMatchObject({
      hash_before: 'b'.repeat(64),
      hash_after: 'c'.repeat(64),
      tool: null,
      region: null,
      context_id: null,
      trace_id: null,
      latency_ms: null,
    });
  });

  it('ignores details that are not what their name says (no NaN, negative or fractional tokens)', () => {
    const odd = { ...ask, details: { inputTokens: -1, outputTokens: 1.5, costUsd: 'free' } };
    expect(unsealedRow(odd, options).columns).toMatchObject({
      input_tokens: null,
      output_tokens: null,
      cost_usd: null,
    });
  });

  it('refuses, for the dead-letter topic, an event PostgreSQL text cannot hold, naming the field', () => {
    const bad = { ...ask, actor: { ...alice, subject: 'al\u0000ice' } };
    expect(() => unsealedRow(bad, options)).toThrow(NonRetryableError);
    expect(() => unsealedRow(bad, options)).toThrow(/actor_subject holds a NUL character/);
  });
});

describe('decisionOf', () => {
  it.each([
    [{ decision: 'held' }, 'succeeded', 'held'],
    [{ decision: 'allowed' }, 'failed', 'allowed'],
    [{ decision: 'maybe' }, 'denied', 'refused'],
    [{}, 'denied', 'refused'],
    [{}, 'allowed', 'allowed'],
    [{}, 'failed', 'allowed'],
  ] as const)('details %j with outcome %s → %s', (details, outcome, expected) => {
    expect(decisionOf({ ...ask, details, outcome })).toBe(expected);
  });
});

describe('ledgerRowOf', () => {
  it('reads a row back in the spelling it was chained in, whatever the driver returned', () => {
    const { columns } = unsealedRow(toolCall, options);
    const stored = { ...columns, key_id: 'k1', sealed: 'c2VhbGVk' };
    const chained: LedgerRow = { ...stored, sequence: 7, prev_hash: '0'.repeat(64), hash: '' };
    chained.hash = chainRowHash(chainRowOf(chained));
    // node-postgres: bigint as text, timestamptz as Date, float8 as number.
    const fromDriver = {
      ...chained,
      sequence: '7',
      at: new Date(stored.at),
      recorded_at: new Date(stored.recorded_at),
    };
    const read = ledgerRowOf(fromDriver);
    expect(read).toEqual(chained);
    expect(chainRowHash(chainRowOf(read))).toBe(chained.hash);
  });

  it('chains every stored column but its place', () => {
    const { columns } = unsealedRow(ask, options);
    const record = chainRecordOf({ ...columns, key_id: 'k1', sealed: 'x' });
    expect(Object.keys(record)).toEqual([...LEDGER_COLUMNS]);
    expect(record).not.toHaveProperty('sequence');
  });
});

describe('auditEntryOf', () => {
  const { columns } = unsealedRow(toolCall, options);
  const row: LedgerRow = {
    ...columns,
    key_id: 'k1',
    sealed: 'x',
    sequence: 3,
    prev_hash: '0'.repeat(64),
    hash: '1'.repeat(64),
  };

  it('answers the plaintext columns and the opened fields', () => {
    const sealed = unsealedRow(toolCall, options).sealed;
    expect(auditEntryOf(row, { fields: sealed })).toEqual({
      sequence: 3,
      eventId: '0b5f3c1e-8a9d-4f1b-9c2e-3d4a5b6c7d8e',
      at: '2026-03-01T10:00:00.123Z',
      recordedAt: '2026-03-01T10:00:05.000Z',
      source: '/toolbus/orchestrator',
      actor: { subject: 'alice', kind: 'user', displayName: 'Alice Liddell' },
      tenant: 'acme',
      action: 'tool.call',
      resource: { kind: 'tool', id: 'get_credit_limit@1.0.0' },
      tool: 'get_credit_limit',
      outcome: 'denied',
      decision: 'refused',
      region: 'eu',
      contextId: 'context-0001',
      traceId: 'a'.repeat(32),
      reason: 'the quota of get_credit_limit is spent',
      argumentsHash: 'hash-of-args',
      details: sealed.details,
      latencyMs: 3,
      keyId: 'k1',
    });
  });

  it('says why sealed fields could not be opened, and still answers the rest', () => {
    const entry = auditEntryOf(row, { error: 'audit key "k1" is not mounted' });
    expect(entry).toMatchObject({
      tool: 'get_credit_limit',
      undecryptable: 'audit key "k1" is not mounted',
    });
    expect(entry).not.toHaveProperty('reason');
    expect(entry.actor).toEqual({ subject: 'alice', kind: 'user' });
  });
});
