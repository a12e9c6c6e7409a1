import { BusinessError, classify } from '@toolbus/tool-sdk';
import { describe, expect, it } from 'vitest';
import { httpTool, type BindingSpec } from '../../test/http-tools.js';
import {
  mapRequest,
  NO_CREDENTIALS,
  wireText,
  type AppliedCredentials,
} from './request-mapping.js';

const bindingOf = (spec: BindingSpec) => {
  const binding = httpTool('map_test', spec).binding;
  if (binding?.kind !== 'http') throw new Error('not an http binding');
  return binding;
};

const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BusinessError);
    return classify(error).safe;
  }
  throw new Error('expected an error');
};

describe('mapRequest', () => {
  it('substitutes and percent-encodes path parameters under the base URL path', () => {
    const binding = bindingOf({
      method: 'GET',
      baseUrl: 'https://api.acme.example/v2/',
      path: '/customers/{id}/orders/{order}',
      parameters: [
        { field: 'customer_id', in: 'path', name: 'id', required: true },
        { field: 'order_ids', in: 'path', name: 'order', required: true },
      ],
    });
    const request = mapRequest('map_test', binding, {
      customer_id: 'a b/c?d#e%',
      order_ids: [7, 'x/y'],
    });
    expect(request.url.href).toBe(
      'https://api.acme.example/v2/customers/a%20b%2Fc%3Fd%23e%25/orders/7,x%2Fy',
    );
    expect(request.method).toBe('GET');
    expect(request.body).toBeUndefined();
  });

  it('refuses a missing path value, and one that would climb out of the path', () => {
    const binding = bindingOf({
      method: 'GET',
      baseUrl: 'https://api.acme.example',
      path: '/customers/{id}',
      parameters: [{ field: 'customer_id', in: 'path', name: 'id', required: true }],
    });
    expect(errorOf(() => mapRequest('map_test', binding, {}))).toEqual({
      class: 'validation',
      code: 'invalid_input',
      message: 'invalid input for map_test: /customer_id is required (path {id})',
      retryable: false,
    });
    for (const value of ['..', '.', ''])
      expect(errorOf(() => mapRequest('map_test', binding, { customer_id: value })).message).toBe(
        'invalid input for map_test: /customer_id must be a non-empty path segment other than "." or ".."',
      );
    // Encoded, "%2e%2e" is "%252e%252e": a literal segment, not a dot segment.
    expect(mapRequest('map_test', binding, { customer_id: '%2e%2e' }).url.pathname).toBe(
      '/customers/%252e%252e',
    );
  });

  it('says which placeholder has no binding: a definition error, not the caller’s', () => {
    const binding = bindingOf({ method: 'GET', baseUrl: 'https://a.example', path: '/x/{id}' });
    expect(errorOf(() => mapRequest('map_test', binding, { id: 1 }))).toMatchObject({
      class: 'business',
      code: 'tool_definition_invalid',
      message:
        'map_test cannot be called: path parameter {id} is not bound to a field; its definition must be fixed in the registry',
    });
  });

  it('repeats arrays in the query, stringifies scalars, JSON-encodes objects, skips nulls', () => {
    const binding = bindingOf({
      method: 'GET',
      baseUrl: 'https://api.acme.example/search?fixed=1',
      path: '/items',
      parameters: [
        { field: 'tags', in: 'query', name: 'tag', required: false },
        { field: 'limit', in: 'query', name: 'limit', required: false },
        { field: 'active', in: 'query', name: 'active', required: false },
        { field: 'filter', in: 'query', name: 'filter', required: false },
        { field: 'cursor', in: 'query', name: 'cursor', required: false },
        { field: 'missing', in: 'query', name: 'missing', required: false },
      ],
    });
    const request = mapRequest('map_test', binding, {
      tags: ['red', 'blue & green', null],
      limit: 20,
      active: false,
      filter: { min: 1, name: 'x' },
      cursor: null,
    });
    expect(request.url.pathname).toBe('/search/items');
    expect([...request.url.searchParams]).toEqual([
      ['fixed', '1'],
      ['tag', 'red'],
      ['tag', 'blue & green'],
      ['limit', '20'],
      ['active', 'false'],
      ['filter', '{"min":1,"name":"x"}'],
    ]);
  });

  it('requires required query and header values', () => {
    const binding = bindingOf({
      method: 'GET',
      baseUrl: 'https://a.example',
      path: '/x',
      parameters: [{ field: 'tenant', in: 'header', name: 'X-Tenant', required: true }],
    });
    expect(errorOf(() => mapRequest('map_test', binding, {})).message).toBe(
      'invalid input for map_test: /tenant is required (header X-Tenant)',
    );
  });

  it('sets headers, refusing values with line breaks', () => {
    const binding = bindingOf({
      method: 'GET',
      baseUrl: 'https://a.example',
      path: '/x',
      parameters: [
        { field: 'tenant', in: 'header', name: 'X-Tenant', required: false },
        { field: 'langs', in: 'header', name: 'Accept-Language', required: false },
      ],
    });
    const request = mapRequest('map_test', binding, { tenant: 'acme', langs: ['de', 'en'] });
    expect(request.headers.get('x-tenant')).toBe('acme');
    expect(request.headers.get('accept-language')).toBe('de, en');
    expect(request.headers.get('accept')).toBe('application/json, */*;q=0.8');
    expect(
      errorOf(() => mapRequest('map_test', binding, { tenant: 'acme\r\nX-Evil: 1' })).message,
    ).toBe('invalid input for map_test: /tenant contains characters a header cannot carry');
  });

  it('sends the body as JSON or as a form', () => {
    const json = bindingOf({
      method: 'POST',
      baseUrl: 'https://a.example',
      path: '/orders',
      body: { field: 'order', contentType: 'application/json', required: true },
    });
    const request = mapRequest('map_test', json, { order: { sku: 'A-1', qty: 2 } });
    expect(request.body).toBe('{"sku":"A-1","qty":2}');
    expect(request.headers.get('content-type')).toBe('application/json');
    expect(errorOf(() => mapRequest('map_test', json, {})).message).toBe(
      'invalid input for map_test: /order is required (request body)',
    );

    const form = bindingOf({
      method: 'POST',
      baseUrl: 'https://a.example',
      path: '/orders',
      body: { field: 'order', contentType: 'application/x-www-form-urlencoded', required: false },
    });
    const sent = mapRequest('map_test', form, {
      order: { sku: 'A 1', qty: 2, rush: true, tags: ['a', 'b'], meta: { k: 1 } },
    });
    expect(sent.body).toBe('sku=A+1&qty=2&rush=true&tags=a&tags=b&meta=%7B%22k%22%3A1%7D');
    expect(sent.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(mapRequest('map_test', form, {}).body).toBeUndefined();
    expect(errorOf(() => mapRequest('map_test', form, { order: [1, 2] })).message).toBe(
      'invalid input for map_test: /order must be an object to be sent as a form',
    );
  });

  it('never lets input set Authorization or the API key: the credentials are applied last', () => {
    const binding = bindingOf({
      method: 'GET',
      baseUrl: 'https://a.example',
      path: '/x',
      parameters: [
        { field: 'auth', in: 'header', name: 'Authorization', required: false },
        { field: 'proxy', in: 'header', name: 'Proxy-Authorization', required: false },
        { field: 'key_header', in: 'header', name: 'x-api-key', required: false },
        { field: 'key_query', in: 'query', name: 'api_key', required: false },
        { field: 'host', in: 'header', name: 'Host', required: false },
      ],
    });
    const input = {
      auth: 'Bearer forged',
      proxy: 'Basic forged',
      key_header: 'forged',
      key_query: ['forged', 'again'],
      host: 'evil.example',
    };
    const credentials: AppliedCredentials = {
      headers: { 'X-API-Key': 'real-key' },
      query: { api_key: 'real-query-key' },
      secrets: [],
    };
    const request = mapRequest('map_test', binding, input, credentials);
    expect(request.headers.get('x-api-key')).toBe('real-key');
    expect(request.url.searchParams.getAll('api_key')).toEqual(['real-query-key']);
    expect(request.headers.has('authorization')).toBe(false);
    expect(request.headers.has('proxy-authorization')).toBe(false);
    expect(request.headers.has('host')).toBe(false);

    const bearer = mapRequest('map_test', binding, input, {
      ...NO_CREDENTIALS,
      headers: { authorization: 'Bearer real' },
    });
    expect(bearer.headers.get('authorization')).toBe('Bearer real');
  });

  it('refuses a body on GET as a definition error', () => {
    const binding = bindingOf({
      method: 'GET',
      baseUrl: 'https://a.example',
      path: '/x',
      body: { field: 'q', contentType: 'application/json', required: false },
    });
    expect(errorOf(() => mapRequest('map_test', binding, { q: 1 })).code).toBe(
      'tool_definition_invalid',
    );
  });
});

describe('wireText', () => {
  it('keeps strings, stringifies numbers and booleans, JSON-encodes the rest', () => {
    expect(wireText('a b')).toBe('a b');
    expect(wireText(1.5)).toBe('1.5');
    expect(wireText(true)).toBe('true');
    expect(wireText({ a: [1] })).toBe('{"a":[1]}');
    expect(wireText([1, 'x'])).toBe('[1,"x"]');
  });
});
