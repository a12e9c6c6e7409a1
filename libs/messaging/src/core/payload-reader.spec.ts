import { messageKind } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryBus } from '../memory/memory-bus.js';
import { MemoryBroker } from '../memory/memory-transport.js';
import { PoisonMessageError } from './errors.js';
import { payloadReader } from './payload-reader.js';
import { forKind } from './types.js';

const V1 = messageKind('test.note', 1, z.object({ text: z.string() }));
const V2 = messageKind('test.note', 2, z.object({ text: z.string(), lang: z.string().min(2) }), {
  upcast: { from: V1, lift: (v1) => ({ ...v1, lang: v1.text === 'bad lift' ? '' : 'en' }) },
});
const V3 = messageKind('test.note', 3, z.object({ body: z.string() }));

function poison(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(PoisonMessageError);
    return (error as Error).message;
  }
  throw new Error('expected a PoisonMessageError');
}

describe('payloadReader', () => {
  it('accepts the kind and its older versions, oldest first, and says which arrived', () => {
    const reader = payloadReader(forKind(V2, V1));
    expect(reader.types).toEqual([V1.type, V2.type]);
    expect(reader.read(V1.type, { text: 'hi' })).toEqual({
      value: { text: 'hi', lang: 'en' },
      kind: V1,
    });
    expect(reader.read(V2.type, { text: 'hi', lang: 'de' })).toEqual({
      value: { text: 'hi', lang: 'de' },
      kind: V2,
    });
  });

  it('parks a payload whose upcast fails, blaming the upcast rather than the producer', () => {
    const reader = payloadReader(forKind(V2, V1));
    expect(poison(() => reader.read(V1.type, { text: 'bad lift' }))).toBe(
      'could not upcast dev.toolbus.test.note.v1 to dev.toolbus.test.note.v2: payload does not match dev.toolbus.test.note.v2: /lang: Too small: expected string to have >=2 characters',
    );
    const throwing = messageKind('test.note', 2, V2.schema, {
      upcast: {
        from: V1,
        lift: () => {
          throw new Error('no rule for this note');
        },
      },
    });
    expect(poison(() => payloadReader(forKind(throwing, V1)).read(V1.type, { text: 'x' }))).toBe(
      'could not upcast dev.toolbus.test.note.v1 to dev.toolbus.test.note.v2: no rule for this note',
    );
  });

  it('keeps the schema-and-types form for raw subscriptions', () => {
    const reader = payloadReader({ schema: V1.schema, types: [V1.type] });
    expect(reader.types).toEqual([V1.type]);
    expect(reader.read(V1.type, { text: 'a' })).toEqual({ value: { text: 'a' } });
    expect(poison(() => reader.read(V1.type, { text: 1 }))).toMatch(
      /^payload does not match dev\.toolbus\.test\.note\.v1: \/text: /,
    );
    expect(payloadReader({}).read('anything', 42)).toEqual({ value: 42 });
  });

  it('refuses options that cannot work, naming the problem', () => {
    expect(() => payloadReader({ ...forKind(V2), schema: V1.schema })).toThrow(
      'give kind (dev.toolbus.test.note.v2) or schema and types, not both: the kind brings its schema and type',
    );
    expect(() => payloadReader({ olderVersions: [V1] })).toThrow(
      'olderVersions needs kind: name the version the handler is written for',
    );
    expect(() => payloadReader(forKind(V3, V2))).toThrow(
      'cannot upcast dev.toolbus.test.note.v2 to dev.toolbus.test.note.v3: dev.toolbus.test.note.v3 declares no upcast from an older version',
    );
  });

  it('makes subscribe fail before it joins a group when an older version cannot be upcast', async () => {
    const bus = createMemoryBus({
      serviceName: 'notes',
      broker: new MemoryBroker(),
      logger: createLogger({ name: 'test', level: 'silent' }),
    });
    await bus.ensureTopics([
      { name: 'notes', partitions: 1 },
      { name: 'other', partitions: 1 },
    ]);
    await expect(
      bus.subscribe({ topic: 'notes', groupId: 'g', ...forKind(V3, V1) }, async () => undefined),
    ).rejects.toThrow(/cannot upcast dev\.toolbus\.test\.note\.v1 to dev\.toolbus\.test\.note\.v3/);
    // The failed subscribe left the group free for another topic.
    const sub = await bus.subscribe({ topic: 'other', groupId: 'g' }, async () => undefined);
    expect(sub.topic).toBe('other');
    await bus.close(1_000);
  });
});
