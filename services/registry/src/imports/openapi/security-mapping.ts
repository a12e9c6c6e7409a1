import type { FieldIssue, HttpAuth } from '@toolbus/contracts';
import { isObject } from './document-validation.js';
import { normalizeScope, schemeScope } from './naming.js';
import { childPointer, pointerOf } from './openapi-import-error.js';
import type { RefResolver } from './ref-resolver.js';

/** Toolbus accepts at most this many scopes per tool. */
const MAX_SCOPES = 32;

export interface OperationSecurity {
  scopes: string[];
  auth?: HttpAuth;
  /** The `in`/`name` of an API key the executor adds itself (a parameter of that name is dropped). */
  apiKey?: { in: string; name: string };
}

/**
 * Scopes and executor auth of one operation, from its `security` (or the document's; an empty
 * `security: []` or a first requirement `{}` means none).
 *
 * Only the FIRST security requirement object is used. In OpenAPI the requirement objects are
 * alternatives (OR) and the schemes inside one object are all needed (AND); Toolbus scopes on
 * a tool are AND-ed, so the alternatives cannot be expressed and the first one is the
 * contract. Its schemes all contribute scopes; the executor presents one credential, so a
 * first requirement that combines several schemes is refused.
 */
export function operationSecurity(
  security: unknown,
  securityPointer: string,
  document: Record<string, unknown>,
  resolver: RefResolver,
  source: string,
  issues: FieldIssue[],
): OperationSecurity {
  if (!Array.isArray(security) || security.length === 0) return { scopes: [] };
  const schemes = isObject(document['components'])
    ? document['components']['securitySchemes']
    : undefined;

  // Every alternative must at least name defined schemes, or a typo goes unnoticed.
  security.forEach((requirement, index) => {
    if (!isObject(requirement)) return;
    for (const name of Object.keys(requirement)) {
      if (!isObject(schemes) || !Object.hasOwn(schemes, name)) {
        issues.push({
          pointer: childPointer(securityPointer, index, name),
          message: `security scheme "${name}" is not defined in components.securitySchemes`,
        });
      }
    }
  });

  const first: unknown = security[0];
  if (!isObject(first) || !isObject(schemes)) return { scopes: [] };
  const names = Object.keys(first);
  if (names.length === 0) return { scopes: [] };
  const firstPointer = childPointer(securityPointer, 0);
  if (names.length > 1) {
    issues.push({
      pointer: firstPointer,
      message:
        `the first security requirement combines the schemes ${names.map((n) => `"${n}"`).join(' and ')}; ` +
        'the HTTP executor presents one credential, so list a single scheme first',
    });
    return { scopes: [] };
  }
  const name = names[0] as string;
  if (!Object.hasOwn(schemes, name)) return { scopes: [] };
  const schemePointer = pointerOf('components', 'securitySchemes', name);
  const located = resolver.follow(schemes[name], schemePointer, issues);
  if (!located || !isObject(located.value)) return { scopes: [] };
  const scheme = located.value;
  const requested = Array.isArray(first[name]) ? (first[name] as unknown[]) : [];

  const scopes: string[] = [];
  let auth: HttpAuth | undefined;
  let apiKey: OperationSecurity['apiKey'];
  const type = scheme['type'];
  if (type === 'oauth2' || type === 'openIdConnect') {
    auth = { kind: 'bearer' };
    requested.forEach((scope, index) => {
      const normalized = typeof scope === 'string' ? normalizeScope(scope, source) : undefined;
      if (normalized) scopes.push(normalized);
      else {
        issues.push({
          pointer: childPointer(firstPointer, name, index),
          message: `scope ${JSON.stringify(scope)} cannot be expressed as a Toolbus scope (area:action)`,
        });
      }
    });
  } else if (type === 'http' || type === 'apiKey') {
    const scope = schemeScope(name, source);
    if (scope) scopes.push(scope);
    else {
      issues.push({
        pointer: schemePointer,
        message: `security scheme name "${name}" gives no scope; use letters or digits in it`,
      });
    }
    if (type === 'http') {
      const httpScheme = String(scheme['scheme'] ?? '').toLowerCase();
      if (httpScheme === 'bearer') auth = { kind: 'bearer' };
      else if (httpScheme === 'basic') auth = { kind: 'basic' };
      else {
        issues.push({
          pointer: childPointer(located.pointer, 'scheme'),
          message: `HTTP authentication scheme "${String(scheme['scheme'])}" of security scheme "${name}" is not supported; use bearer or basic`,
        });
      }
    } else {
      const where = scheme['in'];
      const keyName = scheme['name'];
      if ((where === 'header' || where === 'query') && typeof keyName === 'string') {
        auth = { kind: 'api_key', in: where, name: keyName };
        apiKey = { in: where, name: keyName };
      } else {
        issues.push({
          pointer: located.pointer,
          message: `security scheme "${name}" puts its API key in a ${String(where)}, which is not supported; the HTTP executor sends API keys in a header or the query`,
        });
      }
    }
  } else {
    issues.push({
      pointer: located.pointer,
      message: `security scheme "${name}" of type "${String(type)}" is not supported; use http (bearer or basic), apiKey (header or query), oauth2 or openIdConnect`,
    });
  }

  const unique = [...new Set(scopes)].sort();
  if (unique.length > MAX_SCOPES) {
    issues.push({
      pointer: firstPointer,
      message: `the first security requirement needs ${unique.length} scopes; Toolbus allows at most ${MAX_SCOPES} per tool`,
    });
  }
  return { scopes: unique, ...(auth ? { auth } : {}), ...(apiKey ? { apiKey } : {}) };
}
