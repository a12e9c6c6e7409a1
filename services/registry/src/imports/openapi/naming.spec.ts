import { describe, expect, it } from 'vitest';
import {
  nameFromPath,
  normalizeScope,
  normalizeTag,
  schemeScope,
  snakeCase,
  toolName,
  uniqueField,
} from './naming.js';

describe('snakeCase', () => {
  it.each([
    ['listCustomers', 'list_customers'],
    ['GetHTTPStatus', 'get_http_status'],
    ['Tickets.List', 'tickets_list'],
    ['get-customer-by-id', 'get_customer_by_id'],
    ['X-Request-Id', 'x_request_id'],
    ['page[size]', 'page_size'],
    ['__weird__Name__', 'weird_name'],
    ['Übersicht', 'bersicht'],
    ['---', ''],
  ])('%s → %s', (input, expected) => {
    expect(snakeCase(input)).toBe(expected);
  });
});

describe('toolName', () => {
  it('applies the prefix', () => {
    expect(toolName('listInvoices', 'billing_')).toBe('billing_list_invoices');
  });

  it('puts op_ before a name that would start with a digit', () => {
    expect(toolName('2faVerify')).toBe('op_2fa_verify');
    expect(toolName('2faVerify', 'auth_')).toBe('auth_2fa_verify');
  });

  it('is undefined when nothing usable is left', () => {
    expect(toolName('---')).toBeUndefined();
    expect(toolName('', 'billing_')).toBeUndefined();
  });

  it('truncates to 64 characters without a trailing underscore', () => {
    const name = toolName(`${'a'.repeat(63)}_b_c`);
    expect(name).toBe('a'.repeat(63));
    expect(toolName('x'.repeat(100))).toHaveLength(64);
  });
});

describe('nameFromPath', () => {
  it('turns path parameters into by_<name>', () => {
    expect(snakeCase(nameFromPath('get', '/customers/{customerId}/notes'))).toBe(
      'get_customers_by_customer_id_notes',
    );
    expect(nameFromPath('head', '/')).toBe('head');
    expect(snakeCase(nameFromPath('delete', '/v1.0/files/{file.id}'))).toBe(
      'delete_v1_0_files_by_file_id',
    );
  });
});

describe('uniqueField', () => {
  it('keeps names unique, naming the location on a clash', () => {
    const taken = new Set<string>();
    expect(uniqueField('id', 'path', taken)).toBe('id');
    expect(uniqueField('id', 'query', taken)).toBe('id_query');
    expect(uniqueField('ID', 'query', taken)).toBe('id_query_2');
    expect(uniqueField('$', 'header', taken)).toBe('header_parameter');
    expect([...taken]).toEqual(['id', 'id_query', 'id_query_2', 'header_parameter']);
  });
});

describe('scopes', () => {
  it.each([
    ['crm.read', 'crm_api:crm_read'],
    ['read', 'crm_api:read'],
    ['customers:write', 'customers:write'],
    ['Payments:Refund:Partial', 'payments:refund:partial'],
    ['admin:*', 'admin:*'],
    ['*:read', 'crm_api:*_read'],
    ['9lives:read', 'crm_api:9lives_read'],
    ['https://www.example.com/auth/drive.readonly', 'crm_api:auth_drive_readonly'],
    ['a::b', 'a:b'],
  ])('%s → %s', (scope, expected) => {
    expect(normalizeScope(scope, 'crm-api')).toBe(expected);
  });

  it('gives up on a scope with nothing usable', () => {
    expect(normalizeScope('!!!', 'crm-api')).toBeUndefined();
    expect(normalizeScope('', 'crm-api')).toBeUndefined();
  });

  it('names a non-OAuth scheme under the source', () => {
    expect(schemeScope('bearerAuth', 'crm-api')).toBe('crm_api:bearer_auth');
    expect(schemeScope('api-key', 'billing')).toBe('billing:api_key');
    expect(schemeScope('???', 'billing')).toBeUndefined();
  });
});

describe('normalizeTag', () => {
  it('lower-cases and joins words with -', () => {
    expect(normalizeTag('Sales Pipeline')).toBe('sales-pipeline');
    expect(normalizeTag('tax_rates')).toBe('tax-rates');
    expect(normalizeTag('  ')).toBe('');
    expect(normalizeTag('x'.repeat(70))).toHaveLength(64);
  });
});
