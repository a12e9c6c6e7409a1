import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AllMessageKinds,
  indexMessageKinds,
  InvalidPayloadError,
  messageKind,
  messageKindOfType,
  Messages,
} from './catalog.js';
import { schemaFileOf } from './json-schema.js';
import { upcastPath, upcastPayload } from './upcast.js';

const V1 = messageKind('test.order', 1, z.object({ id: z.string(), qty: z.number().int() }));
const V2 = messageKind(
  'test.order',
  2,
  z.object({ id: z.string(), lines: z.array(z.object({ qty: z.number().int().min(1) })) }),
  { upcast: { from: V1, lift: (v1) => ({ id: v1.id, lines: [{ qty: v1.qty }] }) } },
);
const V3 = messageKind(
  'test.order',
  3,
  z.object({
    id: z.string(),
    lines: z.array(z.object({ qty: z.number() })),
    channel: z.string().default('web'),
  }),
  { upcast: { from: V2, lift: (v2) => v2 } },
);

describe('message kinds', () => {
  it('derives the ce_type from name and version', () => {
    expect(V1).toMatchObject({ name: 'test.order', version: 1, type: 'dev.toolbus.test.order.v1' });
    expect(V2.type).toBe('dev.toolbus.test.order.v2');
    expect(V2.upcast?.from).toBe(V1);
  });

  it('keeps every ce_type other languages consume exactly as it was', () => {
    expect(Object.fromEntries(Object.entries(Messages).map(([k, m]) => [k, m.type]))).toEqual({
      askRequested: 'dev.toolbus.ask.requested.v1',
      askProgress: 'dev.toolbus.ask.progress.v1',
      askCompleted: 'dev.toolbus.ask.completed.v1',
      askFailed: 'dev.toolbus.ask.failed.v1',
      modelRequested: 'dev.toolbus.model.requested.v1',
      modelResponded: 'dev.toolbus.model.responded.v1',
      modelFailed: 'dev.toolbus.model.failed.v1',
      toolCallRequested: 'dev.toolbus.tool_call.requested.v1',
      toolCallCompleted: 'dev.toolbus.tool_call.completed.v1',
      toolCallFailed: 'dev.toolbus.tool_call.failed.v1',
      auditRecorded: 'dev.toolbus.audit.recorded.v1',
      registryChanged: 'dev.toolbus.registry.changed.v1',
      toolInvocationRequested: 'dev.toolbus.tool_invocation.requested.v1',
      toolInvocationAnswered: 'dev.toolbus.tool_invocation.answered.v1',
    });
  });

  it('refuses a bad name, a bad version and an upcast from another message, saying why', () => {
    const schema = z.object({});
    expect(() => messageKind('Orders', 1, schema)).toThrow(
      'message name "Orders" is invalid: use dot-separated lower-case words, e.g. tool_call.requested',
    );
    expect(() => messageKind('orders', 1, schema)).toThrow(/message name "orders" is invalid/);
    expect(() => messageKind('test.order', 0, schema)).toThrow(
      'message test.order: version must be a positive integer, got 0',
    );
    expect(() => messageKind('test.order', 1.5, schema)).toThrow(/got 1\.5/);
    expect(() =>
      messageKind('test.invoice', 2, schema, { upcast: { from: V1, lift: () => ({}) } }),
    ).toThrow(
      'dev.toolbus.test.invoice.v2 cannot upcast from dev.toolbus.test.order.v1: it must be an older version of test.invoice',
    );
    expect(() =>
      messageKind('test.order', 1, schema, { upcast: { from: V2, lift: () => ({}) } }),
    ).toThrow(/cannot upcast from dev\.toolbus\.test\.order\.v2/);
  });

  it('finds every declared version by ce_type and refuses a type declared twice', () => {
    expect(AllMessageKinds.length).toBeGreaterThanOrEqual(Object.keys(Messages).length);
    for (const kind of AllMessageKinds) expect(messageKindOfType(kind.type)).toBe(kind);
    expect(messageKindOfType('dev.toolbus.tool_call.requested.v9')).toBeUndefined();
    const index = indexMessageKinds([V1, V2]);
    expect(index.get('dev.toolbus.test.order.v2')).toBe(V2);
    expect(() => indexMessageKinds([V1, V2, V1])).toThrow(
      'message type dev.toolbus.test.order.v1 is declared twice',
    );
  });

  it('exports v1 to <name>.schema.json, the file other languages read, and later versions beside it', () => {
    expect(schemaFileOf(V1)).toBe('test.order.schema.json');
    expect(schemaFileOf(V2)).toBe('test.order.v2.schema.json');
  });
});

describe('upcasting', () => {
  it('lifts an older payload through every version in between, applying defaults', () => {
    const path = upcastPath(V1, V3);
    expect(path.map((k) => k.version)).toEqual([2, 3]);
    expect(upcastPayload(path, { id: 'o-1', qty: 2 })).toEqual({
      id: 'o-1',
      lines: [{ qty: 2 }],
      channel: 'web',
    });
  });

  it('names the version whose schema a lifted payload fails', () => {
    let error: unknown;
    try {
      upcastPayload(upcastPath(V1, V2), { id: 'o-1', qty: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as Error).message).toBe(
      'payload does not match dev.toolbus.test.order.v2: /lines/0/qty: Too small: expected number to be >=1',
    );
  });

  it('refuses a path that does not exist, naming the gap', () => {
    expect(() => upcastPath(V2, V1)).toThrow(
      'dev.toolbus.test.order.v2 is not an older version of dev.toolbus.test.order.v1',
    );
    expect(() => upcastPath(V1, Messages.toolCallRequested)).toThrow(/is not an older version/);
    const unlinked = messageKind('test.order', 4, z.object({}));
    expect(() => upcastPath(V1, unlinked)).toThrow(
      'cannot upcast dev.toolbus.test.order.v1 to dev.toolbus.test.order.v4: dev.toolbus.test.order.v4 declares no upcast from an older version',
    );
    const skipping = messageKind('test.order', 4, z.object({}), {
      upcast: { from: V1, lift: () => ({}) },
    });
    expect(() => upcastPath(V2, skipping)).toThrow(
      'cannot upcast dev.toolbus.test.order.v2 to dev.toolbus.test.order.v4: the upcasts skip it (dev.toolbus.test.order.v4 lifts from dev.toolbus.test.order.v1)',
    );
  });
});
