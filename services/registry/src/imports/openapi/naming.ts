/** Tool names, input field names, tags and scopes derived from an OpenAPI document. */

const MAX_TOOL_NAME = 64;
const MAX_FIELD = 128;
const MAX_TAG = 64;
const SCOPE = /^[a-z][a-z0-9_-]*(:[a-z0-9_*-]+)+$/;

/**
 * snake_case in lower case with only [a-z0-9_]: camelCase and PascalCase words are split
 * (`getHTTPStatus` → `get_http_status`), every other character becomes `_`, runs of `_`
 * collapse and leading or trailing ones go. May return an empty string.
 */
export function snakeCase(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** `GET /customers/{id}/notes` without an operationId → `get_customers_by_id_notes`. */
export function nameFromPath(method: string, path: string): string {
  const segments = path
    .split('/')
    .filter((segment) => segment.length > 0)
    .map((segment) => segment.replace(/\{([^}]*)\}/g, (_match, param: string) => `by_${param}`));
  return [method.toLowerCase(), ...segments].join('_');
}

/**
 * The registry tool name for an operation, or undefined when nothing usable is left. A name
 * whose first character is not a letter (an operationId such as `2faVerify`, with no prefix)
 * gets `op_` in front rather than losing characters.
 */
export function toolName(base: string, namePrefix = ''): string | undefined {
  const core = snakeCase(base);
  if (core === '') return undefined;
  let name = `${namePrefix}${core}`;
  if (!/^[a-z]/.test(name)) name = `op_${name}`;
  return name.slice(0, MAX_TOOL_NAME).replace(/_+$/, '');
}

/**
 * A property name of the tool input for a parameter or the body, unique among `taken`
 * (which it then joins): `X-Request-Id` → `x_request_id`; a second `id` (say in the query
 * after one in the path) → `id_query`, then `id_query_2`, …
 */
export function uniqueField(wireName: string, location: string, taken: Set<string>): string {
  const base = (snakeCase(wireName) || `${location}_parameter`).slice(0, MAX_FIELD);
  const candidates = [base, `${base}_${location}`.slice(0, MAX_FIELD)];
  let field = candidates.find((candidate) => !taken.has(candidate));
  for (let n = 2; field === undefined; n++) {
    const candidate = `${candidates[1]}_${n}`;
    if (!taken.has(candidate)) field = candidate;
  }
  taken.add(field);
  return field;
}

/** Tag normalisation: `Customer Notes` → `customer-notes` (empty when nothing is left). */
export function normalizeTag(tag: string): string {
  return tag
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_TAG)
    .replace(/-+$/, '');
}

/** The scope area used for schemes and scopes that name none: `crm-api` → `crm_api`. */
export function scopeArea(source: string): string {
  return source.replace(/-/g, '_');
}

/**
 * An OAuth2 / OpenID Connect scope in the Toolbus format `area:action`: lower case, characters
 * outside [a-z0-9_*-] become `_` (per `:`-separated segment), empty segments go, and a scope
 * without an area (`read`, `crm.read`) or with an unusable one is put under the import's:
 * `crm-api` + `crm.read` → `crm_api:crm_read`. A URL scope keeps only its path
 * (`https://x.io/auth/drive.readonly` → `crm_api:auth_drive_readonly`). Undefined when
 * nothing is left.
 */
export function normalizeScope(scope: string, source: string): string | undefined {
  // URL scopes (`https://api.acme.com/auth/crm.readonly`) keep only their path.
  const withoutOrigin = scope.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*\/?/i, '');
  const segments = withoutOrigin
    .toLowerCase()
    .split(':')
    .map((segment) => segment.replace(/[^a-z0-9_*-]/g, '_'))
    .filter((segment) => segment !== '' && !/^_+$/.test(segment));
  if (segments.length === 0) return undefined;
  const [area, ...rest] = segments as [string, ...string[]];
  const result =
    rest.length > 0 && /^[a-z][a-z0-9_-]*$/.test(area)
      ? [area, ...rest].join(':')
      : `${scopeArea(source)}:${segments.join('_')}`;
  return SCOPE.test(result) ? result : undefined;
}

/** The scope standing for a non-OAuth scheme (http, apiKey): `<source>:<scheme_name>`. */
export function schemeScope(schemeName: string, source: string): string | undefined {
  const action = snakeCase(schemeName);
  if (action === '') return undefined;
  const result = `${scopeArea(source)}:${action}`;
  return SCOPE.test(result) ? result : undefined;
}
