import { readFileSync } from 'node:fs';
import { RegisterToolRequest } from '@toolbus/contracts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify as toYaml } from 'yaml';
import {
  convertOpenApi,
  type ConvertedOperation,
  type ConvertOptions,
  OpenApiImportError,
} from './index.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const fixtures = new URL('../../../test/fixtures/openapi/', import.meta.url);
const fixture = (file: string) => readFileSync(new URL(file, fixtures), 'utf8');

const baseOptions: ConvertOptions = {
  source: 'crm-api',
  owner: 'sales-platform',
  region: 'eu',
  tags: ['imported'],
  timeoutMs: 15_000,
  executorTopic: 'tool_requests.http-executor',
  credentialsSecret: 'crm-api-credentials',
};

type Definition = ConvertedOperation['definition'];
type Schema = Record<string, unknown>;

function byName(operations: ConvertedOperation[]): Map<string, Definition> {
  return new Map(operations.map((op) => [op.definition.name, op.definition]));
}

function tool(tools: Map<string, Definition>, name: string): Definition {
  const definition = tools.get(name);
  if (!definition) throw new Error(`no tool ${name}; have ${[...tools.keys()].join(', ')}`);
  return definition;
}

function props(schema: unknown): Record<string, Schema> {
  return (schema as { properties: Record<string, Schema> }).properties;
}

async function issuesOf(
  promise: Promise<unknown>,
): Promise<{ pointer: string; message: string }[]> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(OpenApiImportError);
  return (error as OpenApiImportError).issues;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('convertOpenApi: CRM API (OpenAPI 3.0, YAML)', () => {
  let operations: ConvertedOperation[];
  let tools: Map<string, Definition>;

  beforeAll(async () => {
    operations = await convertOpenApi(fixture('crm-api.yaml'), baseOptions);
    tools = byName(operations);
  });

  it('converts every operation, in document order, with derived names', () => {
    expect(operations.map((op) => `${op.operation} → ${op.definition.name}`)).toEqual([
      'GET /customers → list_customers',
      'POST /customers → create_customer',
      'GET /customers/{customerId} → get_customer',
      'PUT /customers/{customerId} → replace_customer',
      'PATCH /customers/{customerId} → update_customer',
      'DELETE /customers/{customerId} → delete_customer',
      'HEAD /customers/{customerId} → head_customers_by_customer_id',
      'GET /customers/{customerId}/activities → list_customer_activities',
      'POST /customers/{customerId}/notes → post_customers_by_customer_id_notes',
      'DELETE /customers/{customerId}/notes/{noteId} → delete_note',
      'GET /deals → get_deals',
      'PUT /deals/{dealId}/stage → move_deal_stage',
    ]);
  });

  it('maps query and header parameters, with $ref parameters and schemas resolved', () => {
    const list = tool(tools, 'list_customers');
    expect(list.binding).toMatchObject({
      kind: 'http',
      method: 'GET',
      baseUrl: 'https://acme.crm.example.com/api/v1',
      path: '/customers',
      parameters: [
        { field: 'limit', in: 'query', name: 'limit', required: false },
        { field: 'cursor', in: 'query', name: 'cursor', required: false },
        { field: 'status', in: 'query', name: 'status', required: false },
        { field: 'sort', in: 'query', name: 'sort', required: false },
        { field: 'x_request_id', in: 'header', name: 'X-Request-Id', required: false },
      ],
    });
    expect(list.inputSchema).toEqual({
      type: 'object',
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 25, description: 'Page size' },
        cursor: { type: 'string', description: 'Opaque cursor from the previous page' },
        status: {
          type: 'string',
          description: 'Only customers in this lifecycle status',
          enum: ['lead', 'active', 'churned'],
        },
        sort: {
          type: 'string',
          enum: ['created_at', '-created_at', 'name'],
          default: '-created_at',
          examples: ['name'],
        },
        x_request_id: {
          type: 'string',
          format: 'uuid',
          description: 'Correlation id echoed in the response',
        },
      },
      required: [],
      additionalProperties: false,
    });
    expect(list.title).toBe('List customers');
    expect(list.description).toBe(
      'Lists customers page by page, newest first, optionally filtered by status.',
    );
  });

  it('inlines a requestBody $ref into the body property, dropping readOnly fields', () => {
    const create = tool(tools, 'create_customer');
    expect(create.binding).toMatchObject({
      method: 'POST',
      body: { field: 'body', contentType: 'application/json', required: true },
    });
    expect(create.inputSchema['required']).toEqual(['body']);
    const body = props(create.inputSchema)['body'] as Schema;
    expect(body['description']).toBe("The customer's fields");
    expect(Object.keys(props(body))).toEqual([
      'name',
      'email',
      'status',
      'address',
      'tags',
      'internalNotes',
    ]);
    expect(body['required']).toEqual(['name', 'status']);
    // Customer → Address → CountryCode, three schemas deep.
    expect(props(props(body)['address'])['country']).toEqual({
      type: 'string',
      description: 'ISO 3166-1 alpha-2 country code',
      pattern: '^[A-Z]{2}$',
      examples: ['DE'],
    });
    expect(JSON.stringify(create.inputSchema)).not.toContain('$ref');
    expect(JSON.stringify(create.inputSchema)).not.toContain('"xml"');
  });

  it('describes the 201 answer as the output, without writeOnly fields', () => {
    const create = tool(tools, 'create_customer');
    const output = create.outputSchema as Schema;
    expect(Object.keys(props(output))).toEqual([
      'id',
      'name',
      'email',
      'status',
      'address',
      'tags',
      'createdAt',
    ]);
    expect(output['required']).toEqual(['id', 'name', 'status', 'createdAt']);
    expect(props(output)['id']).toEqual({
      allOf: [
        {
          type: 'string',
          format: 'uuid',
          examples: ['7d0c7c5e-2b0a-4a43-9a55-3f6b9f1d2c11'],
        },
      ],
      readOnly: true,
    });
  });

  it('turns 3.0 nullable into "null" in type, and into anyOf beside allOf', () => {
    const update = tool(tools, 'update_customer');
    const body = props(props(update.inputSchema)['body']);
    expect(body['email']).toEqual({ type: ['string', 'null'], format: 'email' });
    expect(body['status']).toEqual({
      anyOf: [
        {
          allOf: [
            {
              type: 'string',
              description: 'Lifecycle status',
              enum: ['lead', 'active', 'churned'],
            },
          ],
        },
        { type: 'null' },
      ],
    });
    const move = tool(tools, 'move_deal_stage');
    expect(props(props(move.inputSchema)['body'])['reason']).toEqual({
      type: ['string', 'null'],
      maxLength: 500,
    });
  });

  it('merges path-level parameters and binds path parameters as required', () => {
    const get = tool(tools, 'get_customer');
    expect(get.binding).toMatchObject({
      path: '/customers/{customerId}',
      parameters: [
        { field: 'customer_id', in: 'path', name: 'customerId', required: true },
        { field: 'expand', in: 'query', name: 'expand', required: false },
      ],
    });
    expect(get.inputSchema['required']).toEqual(['customer_id']);
    expect(props(get.inputSchema)['customer_id']).toEqual({
      type: 'string',
      format: 'uuid',
      examples: ['7d0c7c5e-2b0a-4a43-9a55-3f6b9f1d2c11'],
      description: "The customer's id",
    });
    const deleteNote = tool(tools, 'delete_note');
    expect(deleteNote.binding).toMatchObject({
      parameters: [
        { field: 'customer_id', in: 'path', name: 'customerId', required: true },
        { field: 'note_id', in: 'path', name: 'noteId', required: true },
      ],
    });
  });

  it('annotates by method', () => {
    const hints = (name: string) => tool(tools, name).annotations;
    const readOnly = {
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    };
    expect(hints('get_customer')).toEqual(readOnly);
    expect(hints('head_customers_by_customer_id')).toEqual(readOnly);
    expect(hints('replace_customer')).toEqual({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: true,
    });
    expect(hints('delete_customer')).toEqual(hints('replace_customer'));
    const write = {
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
      openWorldHint: true,
    };
    expect(hints('create_customer')).toEqual(write);
    expect(hints('update_customer')).toEqual(write);
  });

  it('takes scopes and auth from the first security requirement', () => {
    const list = tool(tools, 'list_customers');
    expect(list.scopes).toEqual(['crm_api:crm_read']);
    expect(list.binding).toMatchObject({
      auth: { kind: 'bearer' },
      credentialsSecret: 'crm-api-credentials',
    });
    expect(tool(tools, 'create_customer').scopes).toEqual(['crm_api:crm_write', 'customers:write']);
    const remove = tool(tools, 'delete_customer');
    expect(remove.scopes).toEqual(['crm_api:bearer_auth']);
    expect(remove.binding).toMatchObject({ auth: { kind: 'bearer' } });
    // `security: []` overrides the document's requirement: no auth, no scopes, no secret.
    const head = tool(tools, 'head_customers_by_customer_id');
    expect(head.scopes).toEqual([]);
    expect(head.binding).not.toHaveProperty('auth');
    expect(head.binding).not.toHaveProperty('credentialsSecret');
    // apiKey first, oauth2 as the alternative: only the first counts.
    const deals = tool(tools, 'get_deals');
    expect(deals.scopes).toEqual(['crm_api:api_key_header']);
    expect(deals.binding).toMatchObject({
      auth: { kind: 'api_key', in: 'header', name: 'X-API-Key' },
    });
  });

  it('leaves out a header parameter that the API key scheme sends', () => {
    const deals = tool(tools, 'get_deals');
    expect(deals.binding).toMatchObject({
      parameters: [
        { field: 'stage', in: 'query', name: 'stage', required: false },
        { field: 'min_amount', in: 'query', name: 'minAmount', required: false },
      ],
    });
    expect(props(deals.inputSchema)['min_amount']).toEqual({
      exclusiveMinimum: 0,
      type: 'number',
      description: 'Only deals worth more than this',
    });
  });

  it('omits the output for 204 and bodiless answers', () => {
    expect(tool(tools, 'delete_customer')).not.toHaveProperty('outputSchema');
    expect(tool(tools, 'delete_note')).not.toHaveProperty('outputSchema');
    expect(tool(tools, 'head_customers_by_customer_id')).not.toHaveProperty('outputSchema');
  });

  it('keeps oneOf with a discriminator as oneOf, without the discriminator', () => {
    const activities = tool(tools, 'list_customer_activities').outputSchema as Schema;
    const item = activities['items'] as Schema;
    expect(item['oneOf']).toHaveLength(3);
    expect(item).not.toHaveProperty('discriminator');
    const call = (item['oneOf'] as Schema[])[0] as Schema;
    const [base, own] = call['allOf'] as Schema[];
    expect(props(own)['kind']).toEqual({ type: 'string', enum: ['call'] });
    // `deprecated` is dropped, the property stays.
    expect(props(base)['deprecatedOwner']).toEqual({ type: 'string' });
  });

  it('converts 3.0 boolean exclusiveMinimum to the 2020-12 number', () => {
    const deals = tool(tools, 'get_deals').outputSchema as Schema;
    const deal = props(deals)['deals']?.['items'] as Schema;
    expect(props(props(deal)['amount'])['value']).toEqual({ type: 'number', exclusiveMinimum: 0 });
    expect(props(props(deal)['amount'])['currency']).toEqual({
      type: 'string',
      enum: ['EUR', 'USD', 'GBP'],
    });
  });

  it('names and titles an operation without operationId from its method and path', () => {
    const note = tool(tools, 'post_customers_by_customer_id_notes');
    expect(note.title).toBe('Add a note to a customer');
    expect(note.description).toBe('Add a note to a customer');
    expect(tool(tools, 'get_deals').title).toBe('List deals');
  });

  it('fills the rest from the options', () => {
    const list = tool(tools, 'list_customers');
    expect(list).toMatchObject({
      owner: 'sales-platform',
      region: 'eu',
      timeoutMs: 15_000,
      cacheTtlSeconds: 0,
      sync: false,
      transport: { kind: 'kafka', topic: 'tool_requests.http-executor' },
      tags: ['imported', 'customers'],
    });
    expect(list).not.toHaveProperty('version');
    expect(tool(tools, 'get_deals').tags).toEqual(['imported', 'sales-pipeline']);
  });
});

describe('convertOpenApi: billing API (OpenAPI 3.1, JSON)', () => {
  let tools: Map<string, Definition>;
  const options = { ...baseOptions, source: 'billing-api', namePrefix: 'billing_' };

  beforeAll(async () => {
    tools = byName(await convertOpenApi(fixture('billing-api.json'), options));
  });

  it('prefixes every name and ignores webhooks', () => {
    expect([...tools.keys()]).toEqual([
      'billing_list_invoices',
      'billing_create_invoice',
      'billing_get_invoice',
      'billing_delete_draft_invoice',
      'billing_void_invoice',
      'billing_search_invoices',
      'billing_list_payments',
      'billing_refund_payment',
      'billing_upsert_tax_rate',
      'billing_update_subscription',
    ]);
  });

  it('strips the trailing / of the server URL', () => {
    expect(tool(tools, 'billing_get_invoice').binding).toMatchObject({
      baseUrl: 'https://billing.example.com/v2',
      path: '/invoices/{invoiceId}',
    });
  });

  it('binds a form-urlencoded body', () => {
    const voidInvoice = tool(tools, 'billing_void_invoice');
    expect(voidInvoice.binding).toMatchObject({
      method: 'POST',
      body: { field: 'body', contentType: 'application/x-www-form-urlencoded', required: true },
    });
    expect(props(props(voidInvoice.inputSchema)['body'])['reason']).toEqual({
      type: 'string',
      enum: ['duplicate', 'fraudulent', 'customer_request'],
    });
  });

  it('inlines a nested body with oneOf (no discriminator) and a three-deep $ref chain', () => {
    const create = tool(tools, 'billing_create_invoice');
    expect(create.inputSchema['required']).toEqual(['idempotency_key', 'body']);
    expect(create.binding).toMatchObject({
      parameters: [
        { field: 'idempotency_key', in: 'header', name: 'Idempotency-Key', required: true },
      ],
    });
    const body = props(create.inputSchema)['body'] as Schema;
    const terms = props(body)['payment_terms'] as Schema;
    expect(terms['description']).toBe('When the invoice is due');
    expect((terms['oneOf'] as Schema[]).map((branch) => branch['title'])).toEqual([
      'Net terms',
      'Due on receipt',
      'Installments',
    ]);
    expect(props((terms['oneOf'] as Schema[])[0])['days']).toEqual({
      type: 'integer',
      enum: [15, 30, 60, 90],
    });
    // InvoiceDraft → LineItem → TaxRate → TaxJurisdiction; TaxRate.code is readOnly.
    const line = (props(body)['lines'] as Schema)['items'] as Schema;
    const taxRate = props(line)['tax_rate'] as Schema;
    expect(Object.keys(props(taxRate))).toEqual(['percentage', 'inclusive', 'jurisdiction']);
    expect(props(props(taxRate)['jurisdiction'])['region']).toEqual({ type: ['string', 'null'] });
    expect(props(body)['memo']).toEqual({ type: ['string', 'null'], maxLength: 2000 });
  });

  it('uses a 201 response reached through components', () => {
    const create = tool(tools, 'billing_create_invoice');
    const output = create.outputSchema as Schema;
    const own = (output['allOf'] as Schema[])[1] as Schema;
    expect(props(own)['paid_at']).toEqual({
      type: ['string', 'null'],
      format: 'date-time',
      examples: [null, '2024-05-01T10:00:00Z'],
    });
  });

  it('uses a 202 answer when there is no 200 or 201', () => {
    const refund = tool(tools, 'billing_refund_payment');
    expect(props(refund.outputSchema)['status']).toEqual({
      type: 'string',
      enum: ['pending', 'succeeded', 'failed'],
    });
    expect(refund.binding).toMatchObject({
      body: { field: 'body', contentType: 'application/json', required: false },
    });
    expect(refund.inputSchema['required']).toEqual(['payment_id']);
  });

  it('maps basic auth, API keys in the query and normalizes OAuth2 scopes', () => {
    const list = tool(tools, 'billing_list_invoices');
    expect(list.scopes).toEqual(['billing_api:basic_auth']);
    expect(list.binding).toMatchObject({ auth: { kind: 'basic' } });
    const payments = tool(tools, 'billing_list_payments');
    expect(payments.scopes).toEqual(['billing_api:api_key_query']);
    expect(payments.binding).toMatchObject({
      auth: { kind: 'api_key', in: 'query', name: 'api_key' },
      parameters: [{ field: 'invoice_id', in: 'query', name: 'invoice_id', required: false }],
    });
    expect(tool(tools, 'billing_create_invoice').scopes).toEqual(['invoices:write']);
    expect(tool(tools, 'billing_refund_payment').scopes).toEqual([
      'billing_api:payments_refund',
      'payments:refund:partial',
    ]);
    expect(tool(tools, 'billing_upsert_tax_rate').scopes).toEqual(['billing:admin']);
  });

  it('honours x-toolbus-readonly on a POST search', () => {
    expect(tool(tools, 'billing_search_invoices').annotations).toEqual({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    });
  });

  it('keeps 3.1 numeric exclusiveMinimum, drops readOnly in input and normalizes tags', () => {
    const update = tool(tools, 'billing_update_subscription');
    expect(props(props(update.inputSchema)['body'])['quantity']).toEqual({
      type: 'integer',
      exclusiveMinimum: 0,
      maximum: 10_000,
    });
    expect(update.binding).toMatchObject({
      method: 'PATCH',
      parameters: [
        { field: 'customer_id', in: 'path', name: 'customerId', required: true },
        { field: 'subscription_id', in: 'path', name: 'subscriptionId', required: true },
      ],
    });
    const tax = tool(tools, 'billing_upsert_tax_rate');
    expect(tax.tags).toEqual(['imported', 'tax-rates']);
    expect(props(props(tax.inputSchema)['body'])).not.toHaveProperty('code');
    expect(props(tax.outputSchema)['code']).toEqual({ type: 'string', readOnly: true });
  });
});

describe('convertOpenApi: support API (OpenAPI 3.1, YAML, relative server)', () => {
  let tools: Map<string, Definition>;
  const options = {
    ...baseOptions,
    source: 'support-api',
    baseUrl: 'https://helpdesk.example.com/support/v1/',
  };

  beforeAll(async () => {
    tools = byName(await convertOpenApi(fixture('support-api.yaml'), options));
  });

  it('uses the baseUrl option, without its trailing /', () => {
    for (const definition of tools.values()) {
      expect(definition.binding).toMatchObject({
        baseUrl: 'https://helpdesk.example.com/support/v1',
      });
    }
  });

  it('normalizes dotted operationIds and wire names with brackets', () => {
    const list = tool(tools, 'tickets_list');
    expect(list.binding).toMatchObject({
      parameters: [
        { field: 'status', in: 'query', name: 'status', required: false },
        { field: 'priority', in: 'query', name: 'priority', required: false },
        { field: 'q', in: 'query', name: 'q', required: false },
        { field: 'page_size', in: 'query', name: 'page[size]', required: false },
        { field: 'accept_language', in: 'header', name: 'Accept-Language', required: false },
      ],
    });
    expect(props(list.inputSchema)).not.toHaveProperty('accept');
    expect(props(list.inputSchema)['status']).toEqual({
      type: 'array',
      items: { type: 'string', enum: ['new', 'open', 'pending', 'solved', 'closed'] },
      description: 'One or more statuses',
    });
  });

  it('reads the output of a +json media type', () => {
    const list = tool(tools, 'tickets_list');
    expect(Object.keys(props(list.outputSchema))).toEqual(['tickets', 'total']);
  });

  it('prefers JSON over multipart and keeps anyOf / oneOf', () => {
    const create = tool(tools, 'tickets_create');
    expect(create.binding).toMatchObject({
      body: { field: 'body', contentType: 'application/json', required: true },
    });
    const body = props(props(create.inputSchema)['body']);
    expect((body['requester'] as Schema)['anyOf']).toHaveLength(2);
    expect((body['channel'] as Schema)['oneOf']).toEqual([
      { type: 'string', enum: ['email', 'web', 'phone'] },
      {
        type: 'object',
        required: ['integration'],
        properties: { integration: { type: 'string' } },
      },
    ]);
  });

  it('calls the body request_body when a parameter is named body', () => {
    const comment = tool(tools, 'add_comment');
    expect(comment.binding).toMatchObject({
      parameters: [
        { field: 'ticket_id', in: 'path', name: 'ticketId', required: true },
        { field: 'body', in: 'query', name: 'body', required: false },
      ],
      body: { field: 'request_body', contentType: 'application/json', required: true },
    });
    expect(comment.inputSchema['required']).toEqual(['ticket_id', 'request_body']);
    // writeOnly stays in the input and goes from the output (inside allOf too).
    expect(props(props(comment.inputSchema)['request_body'])).toHaveProperty('author_secret');
    expect(JSON.stringify(comment.outputSchema)).not.toContain('author_secret');
  });

  it('leaves out an optional body in an unsupported media type', () => {
    const upload = tool(tools, 'upload_attachment');
    expect(upload.binding).not.toHaveProperty('body');
    expect(Object.keys(props(upload.inputSchema))).toEqual(['ticket_id']);
    expect(upload.outputSchema).toBeDefined();
  });

  it('reads a 2XX range response and skips non-JSON answers', () => {
    expect(Object.keys(props(tool(tools, 'update_ticket').outputSchema))).toContain('assignee_id');
    expect(tool(tools, 'export_tickets')).not.toHaveProperty('outputSchema');
    expect(tool(tools, 'delete_ticket')).not.toHaveProperty('outputSchema');
  });

  it('maps openIdConnect scopes and a "Bearer" http scheme', () => {
    expect(tool(tools, 'tickets_list').scopes).toEqual(['tickets:read']);
    expect(tool(tools, 'tickets_create').scopes).toEqual(['tickets:write']);
    expect(tool(tools, 'tickets_list').binding).toMatchObject({ auth: { kind: 'bearer' } });
    expect(tool(tools, 'get_current_agent').scopes).toEqual(['support_api:bearer']);
    expect(tool(tools, 'get_current_agent').binding).toMatchObject({ auth: { kind: 'bearer' } });
  });

  it('names the operation without operationId by its path parameter', () => {
    const get = tool(tools, 'get_tickets_by_ticket_id');
    expect(get.title).toBe('Get a ticket');
    expect(get.inputSchema['required']).toEqual(['ticket_id']);
  });
});

describe('every fixture definition', () => {
  const cases: [string, ConvertOptions][] = [
    ['crm-api.yaml', baseOptions],
    ['crm-api-v2.yaml', baseOptions],
    ['billing-api.json', { ...baseOptions, source: 'billing-api', namePrefix: 'billing_' }],
    [
      'support-api.yaml',
      { ...baseOptions, source: 'support-api', baseUrl: 'https://helpdesk.example.com' },
    ],
  ];
  const schema = RegisterToolRequest.omit({ version: true });

  it.each(cases)(
    '%s: parses with the contracts schema and compiles with Ajv 2020',
    async (file, options) => {
      const ajv = new Ajv2020({ strict: false });
      addFormats(ajv);
      const operations = await convertOpenApi(fixture(file), options);
      expect(operations.length).toBeGreaterThan(5);
      for (const { operation, definition } of operations) {
        const parsed = schema.safeParse(definition);
        expect(parsed.error?.issues, operation).toBeUndefined();
        expect(parsed.data, operation).toEqual(definition);
        expect(() => ajv.compile(definition.inputSchema), operation).not.toThrow();
        if (definition.outputSchema) {
          expect(() => ajv.compile(definition.outputSchema!), operation).not.toThrow();
        }
        expect(JSON.stringify(definition), operation).not.toMatch(
          /"\$ref"|"nullable"|"discriminator"/,
        );
      }
    },
  );

  it('validates real inputs against a converted input schema', async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const tools = byName(await convertOpenApi(fixture('crm-api.yaml'), baseOptions));
    const validate = ajv.compile(tool(tools, 'update_customer').inputSchema);
    const id = '7d0c7c5e-2b0a-4a43-9a55-3f6b9f1d2c11';
    expect(validate({ customer_id: id, body: { email: null, status: null } })).toBe(true);
    expect(validate({ customer_id: id, body: { status: 'lead' } })).toBe(true);
    expect(validate({ customer_id: id, body: { status: 'unknown' } })).toBe(false);
    expect(validate({ customer_id: id, body: {}, extra: 1 })).toBe(false);
  });
});

describe('re-import: crm-api-v2.yaml', () => {
  it('adds one operation, changes one, removes one and leaves the rest identical', async () => {
    const before = byName(await convertOpenApi(fixture('crm-api.yaml'), baseOptions));
    const after = byName(await convertOpenApi(fixture('crm-api-v2.yaml'), baseOptions));
    const added = [...after.keys()].filter((name) => !before.has(name));
    const removed = [...before.keys()].filter((name) => !after.has(name));
    const common = [...after.keys()].filter((name) => before.has(name));
    const changed = common.filter(
      (name) => JSON.stringify(before.get(name)) !== JSON.stringify(after.get(name)),
    );
    expect(added).toEqual(['list_contacts']);
    expect(removed).toEqual(['delete_note']);
    expect(changed).toEqual(['get_customer']);
    expect(common).toHaveLength(11);
    expect(tool(after, 'get_customer').binding).toMatchObject({
      parameters: [
        { field: 'customer_id', in: 'path' },
        { field: 'expand', in: 'query' },
        { field: 'fields', in: 'query', name: 'fields', required: false },
      ],
    });
  });
});

describe('convertOpenApi: inputs and options', () => {
  const minimal = (extra: Record<string, unknown> = {}) => ({
    openapi: '3.1.0',
    info: { title: 'Inventory', version: '1' },
    servers: [{ url: 'https://inventory.example.com/' }],
    paths: {
      '/items': {
        get: { operationId: 'listItems', responses: { '200': { description: 'ok' } } },
      },
    },
    ...extra,
  });

  it('accepts an already-parsed object and leaves it untouched', async () => {
    const document = minimal();
    const copy = structuredClone(document);
    const [op] = await convertOpenApi(document, baseOptions);
    expect(op?.definition.name).toBe('list_items');
    expect(document).toEqual(copy);
  });

  it('parses JSON text and YAML text alike', async () => {
    const json = await convertOpenApi(JSON.stringify(minimal()), baseOptions);
    const yaml = await convertOpenApi(toYaml(minimal()), baseOptions);
    expect(json).toEqual(yaml);
  });

  it('refuses bad options with pointers to them', async () => {
    const issues = await issuesOf(
      convertOpenApi(minimal(), {
        ...baseOptions,
        baseUrl: 'ftp://files.example.com',
        namePrefix: 'Bad Prefix',
      }),
    );
    expect(issues.map((issue) => issue.pointer).sort()).toEqual(['/baseUrl', '/namePrefix']);
  });

  it('prefixes and truncates names to 64 characters', async () => {
    const document = minimal({
      paths: {
        '/items': {
          get: {
            operationId: 'listEveryItemInEveryWarehouseIncludingTheArchivedOnesAndTheDeletedOnes',
            responses: { '200': { description: 'ok' } },
          },
        },
      },
    });
    const [op] = await convertOpenApi(document, { ...baseOptions, namePrefix: 'inv_' });
    expect(op?.definition.name).toBe(
      'inv_list_every_item_in_every_warehouse_including_the_archived_on',
    );
    expect(op?.definition.name).toHaveLength(64);
  });

  it('replaces server variables by their defaults', async () => {
    const document = minimal({
      servers: [
        {
          url: 'https://{region}.inventory.example.com:{port}/{base}',
          variables: {
            region: { default: 'eu', enum: ['eu', 'us'] },
            port: { default: '8443' },
            base: { default: 'api/v3' },
          },
        },
      ],
    });
    const [op] = await convertOpenApi(document, baseOptions);
    expect(op?.definition.binding).toMatchObject({
      baseUrl: 'https://eu.inventory.example.com:8443/api/v3',
    });
  });

  it('lets an operation parameter override a path-level one of the same name and place', async () => {
    const document = minimal({
      paths: {
        '/items/{id}': {
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'lang', in: 'query', schema: { type: 'string' } },
          ],
          get: {
            operationId: 'getItem',
            parameters: [
              {
                name: 'id',
                in: 'path',
                required: true,
                description: 'Numeric id',
                schema: { type: 'integer' },
              },
              { name: 'id', in: 'query', schema: { type: 'boolean' } },
            ],
            responses: { '200': { description: 'ok' } },
          },
        },
      },
    });
    const [op] = await convertOpenApi(document, baseOptions);
    expect(op?.definition.binding).toMatchObject({
      parameters: [
        { field: 'id', in: 'path', name: 'id', required: true },
        { field: 'lang', in: 'query', name: 'lang', required: false },
        { field: 'id_query', in: 'query', name: 'id', required: false },
      ],
    });
    expect(props(op?.definition.inputSchema)['id']).toEqual({
      type: 'integer',
      description: 'Numeric id',
    });
  });

  it('refuses a first security requirement that combines two schemes', async () => {
    const document = minimal({
      security: [{ appId: [], appKey: [] }],
      components: {
        securitySchemes: {
          appId: { type: 'apiKey', in: 'header', name: 'X-App-Id' },
          appKey: { type: 'apiKey', in: 'header', name: 'X-App-Key' },
        },
      },
    });
    const issues = await issuesOf(convertOpenApi(document, baseOptions));
    expect(issues).toEqual([
      {
        pointer: '/security/0',
        message: expect.stringContaining('combines the schemes "appId" and "appKey"'),
      },
    ]);
  });

  it('refuses an unsupported http scheme and mutualTLS', async () => {
    const document = minimal({
      paths: {
        '/items': {
          get: {
            operationId: 'listItems',
            security: [{ digest: [] }],
            responses: { '200': { description: 'ok' } },
          },
          post: {
            operationId: 'createItem',
            security: [{ mtls: [] }],
            responses: { '201': { description: 'ok' } },
          },
        },
      },
      components: {
        securitySchemes: {
          digest: { type: 'http', scheme: 'digest' },
          mtls: { type: 'mutualTLS' },
        },
      },
    });
    const issues = await issuesOf(convertOpenApi(document, baseOptions));
    expect(issues).toEqual([
      {
        pointer: '/components/securitySchemes/digest/scheme',
        message: expect.stringContaining('"digest"'),
      },
      {
        pointer: '/components/securitySchemes/mtls',
        message: expect.stringContaining('"mutualTLS" is not supported'),
      },
    ]);
  });

  it('never fetches an external $ref', async () => {
    const fetchSpy = vi.fn(() => Promise.reject(new Error('no network in this test')));
    vi.stubGlobal('fetch', fetchSpy);
    const document = minimal({
      paths: {
        '/items': {
          get: {
            operationId: 'listItems',
            responses: {
              '200': {
                description: 'ok',
                content: {
                  'application/json': { schema: { $ref: 'https://schemas.example.com/item.json' } },
                },
              },
            },
          },
        },
      },
    });
    const issues = await issuesOf(convertOpenApi(document, baseOptions));
    expect(issues[0]?.message).toContain('external $ref "https://schemas.example.com/item.json"');
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('reports a document without operations', async () => {
    const issues = await issuesOf(convertOpenApi(minimal({ paths: {} }), baseOptions));
    expect(issues).toEqual([
      { pointer: '/paths', message: expect.stringContaining('no operations') },
    ]);
  });

  it('refuses a path parameter missing from the template', async () => {
    const document = minimal({
      paths: {
        '/items': {
          get: {
            operationId: 'listItems',
            parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
            responses: { '200': { description: 'ok' } },
          },
        },
      },
    });
    const issues = await issuesOf(convertOpenApi(document, baseOptions));
    expect(issues).toEqual([
      {
        pointer: '/paths/~1items/get/parameters/0',
        message:
          'operation GET /items: path parameter "id" is declared but not in the path template',
      },
    ]);
  });
});
