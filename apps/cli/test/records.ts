import {
  ImportDiff,
  ToolVersionRecord,
  type ImportedTool,
  type ToolVersionRecord as Record_,
} from '@toolbus/contracts';

/** A tool version as the registry answers it; tests change one thing at a time. */
export function record(overrides: Partial<Record_> = {}): Record_ {
  return ToolVersionRecord.parse({
    name: 'get_customer',
    version: '1.0.0',
    title: 'Get a customer',
    description: 'Returns one customer by id.',
    inputSchema: {
      type: 'object',
      properties: { customer_id: { type: 'string', format: 'uuid' } },
      required: ['customer_id'],
      additionalProperties: false,
    },
    annotations: {
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    },
    owner: 'team-crm',
    scopes: ['crm:crm_read'],
    rateLimitPerMinute: 600,
    timeoutMs: 10_000,
    cacheTtlSeconds: 0,
    transport: { kind: 'kafka', topic: 'tool_requests.http-executor' },
    sync: false,
    region: 'eu',
    tags: ['customers'],
    status: 'approved',
    author: 'alice',
    createdAt: '2026-11-20T10:00:00.000Z',
    approvedBy: 'bob',
    approvedAt: '2026-11-21T09:30:00.000Z',
    statusChangedAt: '2026-11-21T09:30:00.000Z',
    statusReason: null,
    hash: 'a'.repeat(64),
    source: { kind: 'openapi', import: 'crm', operation: 'GET /customers/{customerId}' },
    ...overrides,
  });
}

const tool = (name: string, version: string | null, operation: string): ImportedTool => ({
  name,
  version,
  operation,
});

/** "3 added, 1 changed, 1 removed, 5 unchanged". */
export function diff(overrides: Partial<ImportDiff> = {}): ImportDiff {
  return ImportDiff.parse({
    source: 'crm',
    dryRun: false,
    added: [
      tool('list_customers', '1.0.0', 'GET /customers'),
      tool('create_customer', '1.0.0', 'POST /customers'),
      tool('get_deals', '1.0.0', 'GET /deals'),
    ],
    changed: [tool('get_customer', '1.1.0', 'GET /customers/{customerId}')],
    removed: [tool('delete_note', null, 'DELETE /customers/{customerId}/notes/{noteId}')],
    unchanged: ['a', 'b', 'c', 'd', 'e'].map((n) => tool(`unchanged_${n}`, null, `GET /${n}`)),
    ...overrides,
  });
}
