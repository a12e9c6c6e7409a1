import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dlqTopic,
  exportJsonSchemas,
  fromCloudEventHeaders,
  InvalidEnvelopeError,
  InvalidPayloadError,
  messageKindOfType,
  Messages,
  parsePayload,
  platformTopics,
  REPLY_TOPICS,
  toCloudEventHeaders,
  Topics,
  toolRequestsTopic,
} from './index.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const schemaDir = join(import.meta.dirname, '..', 'schemas');

const principal = { subject: 'alice', kind: 'user', tenant: 'acme', scopes: ['crm:read'] } as const;
const toolCall = {
  callId: 'c-1',
  idempotencyKey: 'ctx-12345678:get_credit_limit:1',
  tool: 'get_credit_limit',
  input: { customer_id: 'cus_001' },
  principal,
  tenant: 'acme',
  region: 'eu',
  deadline: '2026-11-24T10:00:02.000Z',
};

describe('topics', () => {
  it('names tool request topics and their dead-letter twins', () => {
    expect(toolRequestsTopic('crm')).toBe('tool_requests.crm');
    expect(dlqTopic(Topics.audit)).toBe('toolbus.audit.dlq');
  });

  it('rejects a tool service name that would make a bad topic, saying why', () => {
    expect(() => toolRequestsTopic('CRM service')).toThrow(
      /tool service name "CRM service" is invalid/,
    );
  });

  it('lists every platform topic with a DLQ, and compacts the registry change log', () => {
    const specs = platformTopics(['crm']);
    const names = specs.map((s) => s.name);
    for (const t of [...Object.values(Topics), 'tool_requests.crm']) {
      expect(names).toContain(t);
      expect(names).toContain(`${t}.dlq`);
    }
    expect(specs.find((s) => s.name === Topics.registryChanges)?.compacted).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  it('names the reply topics, each with 16 partitions, and none of the topics a reply must never reach', () => {
    expect([...REPLY_TOPICS].sort()).toEqual(
      [Topics.askReplies, Topics.modelReplies, Topics.invokeReplies, Topics.toolResponses].sort(),
    );
    const specs = platformTopics(['crm']);
    for (const t of REPLY_TOPICS) expect(specs.find((s) => s.name === t)?.partitions).toBe(16);
    for (const t of [
      Topics.audit,
      Topics.registryChanges,
      Topics.askRequests,
      Topics.askProgress,
      Topics.invokeRequests,
      'tool_requests.crm',
    ])
      expect(REPLY_TOPICS).not.toContain(t);
  });
});

describe('CloudEvents envelope', () => {
  const attrs = {
    specversion: '1.0',
    id: 'e-1',
    source: '/toolbus/test',
    type: Messages.askRequested.type,
    time: '2026-11-24T10:00:00.000Z',
    datacontenttype: 'application/json',
    correlationid: 'r-1',
    replyto: Topics.askReplies,
    replypartition: 3,
  } as const;

  it('round-trips attributes through binary-mode headers', () => {
    const headers = toCloudEventHeaders(attrs);
    expect(headers['ce_type']).toBe('dev.toolbus.ask.requested.v1');
    expect(headers['ce_replypartition']).toBe('3');
    expect(fromCloudEventHeaders(headers)).toEqual(attrs);
  });

  it('names the missing header', () => {
    const headers = toCloudEventHeaders(attrs);
    delete headers['ce_id'];
    expect(() => fromCloudEventHeaders(headers)).toThrow(InvalidEnvelopeError);
    expect(() => fromCloudEventHeaders(headers)).toThrow('missing CloudEvents header ce_id');
  });

  it('names a malformed header and a foreign content type', () => {
    expect(() =>
      fromCloudEventHeaders({ ...toCloudEventHeaders(attrs), ce_type: 'Not A Type' }),
    ).toThrow(/invalid CloudEvents header ce_type/);
    expect(() =>
      fromCloudEventHeaders({ ...toCloudEventHeaders(attrs), 'content-type': 'application/xml' }),
    ).toThrow(/unsupported content-type "application\/xml"/);
  });
});

describe('message schemas', () => {
  it('gives every kind a unique dev.toolbus type', () => {
    const types = Object.values(Messages).map((m) => m.type);
    expect(new Set(types).size).toBe(types.length);
    for (const t of types) expect(messageKindOfType(t)?.type).toBe(t);
  });

  it('parses a valid tool call and applies defaults', () => {
    expect(parsePayload(Messages.toolCallRequested, toolCall).attempt).toBe(1);
  });

  it('names each bad field by JSON pointer', () => {
    const bad = { ...toolCall, tool: 'Get-Credit', principal: { ...principal, scopes: ['nope'] } };
    let error: unknown;
    try {
      parsePayload(Messages.toolCallRequested, bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect(String((error as Error).message)).toMatch(
      /^payload does not match dev\.toolbus\.tool_call\.requested\.v1: /,
    );
    expect((error as Error).message).toContain('/tool: must start with a lower-case letter');
    expect((error as Error).message).toContain('/principal/scopes/0: must look like area:action');
  });

  it('accepts all content parts of a model request and rejects an unknown part type', () => {
    const req = {
      contextId: 'ctx-12345678',
      tenant: 'acme',
      model: 'default',
      maxTokens: 1024,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'credit limit of Acme?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 't1', name: 'find_customer', input: { query: 'Acme' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', toolUseId: 't1', content: [{ type: 'text', text: '{}' }] },
          ],
        },
      ],
      tools: [
        { name: 'find_customer', description: 'Find a customer', inputSchema: { type: 'object' } },
      ],
    };
    expect(parsePayload(Messages.modelRequested, req).messages).toHaveLength(3);
    const bad = structuredClone(req);
    (bad.messages[0]!.content[0] as { type: string }).type = 'image';
    expect(() => parsePayload(Messages.modelRequested, bad)).toThrow(/\/messages\/0\/content\/0/);
  });
});

describe('JSON Schema export', () => {
  const exported = exportJsonSchemas();

  it('matches the checked-in files (run `npx nx run contracts:schemas` after changing a schema)', () => {
    const files = readdirSync(schemaDir)
      .filter((f) => f.endsWith('.schema.json'))
      .sort();
    expect(files).toEqual(Object.keys(exported).sort());
    for (const f of files) {
      expect(JSON.parse(readFileSync(join(schemaDir, f), 'utf8')), f).toEqual(exported[f]);
    }
  });

  it('validates the same messages as zod, as another language would with the files alone', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const file = JSON.parse(
      readFileSync(join(schemaDir, 'tool_call.requested.schema.json'), 'utf8'),
    );
    const validate = ajv.compile(file);
    expect(validate(toolCall)).toBe(true);
    expect(validate({ ...toolCall, tool: 'Bad Name' })).toBe(false);
    expect(validate({ ...toolCall, deadline: 'tomorrow' })).toBe(false);
    const { input: _input, ...missing } = toolCall;
    expect(validate(missing)).toBe(false);
    expect(validate.errors?.[0]?.message).toContain('input');
  });
});
