import { HttpBinding } from '@toolbus/contracts';
import {
  describeOperation,
  METHODS,
  type ConversionContext,
  type OperationRef,
} from './conversion-context.js';
import { isObject } from './document-validation.js';
import { childPointer, pointerOf } from './openapi-import-error.js';

/** Every operation under `paths`, in document order; other path item keys are ignored. */
export function findOperations(ctx: ConversionContext): OperationRef[] {
  const paths = ctx.doc['paths'];
  if (!isObject(paths)) return [];
  const found: OperationRef[] = [];
  for (const [path, rawItem] of Object.entries(paths)) {
    if (path.startsWith('x-')) continue;
    const item = ctx.resolver.follow(rawItem, pointerOf('paths', path), ctx.issues);
    if (!item || !isObject(item.value)) continue;
    const pathItem = item.value;
    for (const key of Object.keys(pathItem)) {
      const method = METHODS.find((m) => m === key);
      if (method === undefined || method === 'trace') continue;
      const operation = pathItem[method];
      if (!isObject(operation)) continue;
      found.push({
        method,
        path,
        pointer: childPointer(item.pointer, method),
        operation,
        pathItem,
        pathItemPointer: item.pointer,
        label: `operation ${method.toUpperCase()} ${path}: `,
      });
    }
  }
  return found;
}

/** An operationId used twice is an issue at its second use. */
export function checkOperationIds(ctx: ConversionContext, operations: OperationRef[]): void {
  const seen = new Map<string, OperationRef>();
  for (const ref of operations) {
    const id = ref.operation['operationId'];
    if (typeof id !== 'string') continue;
    const first = seen.get(id);
    if (first) {
      ctx.issues.push({
        pointer: childPointer(ref.pointer, 'operationId'),
        message: `duplicate operationId "${id}": ${describeOperation(ref)} and ${describeOperation(first)} both use it`,
      });
    } else seen.set(id, ref);
  }
}

/** options.baseUrl, else servers[0].url with its variables at their defaults; no trailing /. */
export function documentBaseUrl(ctx: ConversionContext): string | undefined {
  if (ctx.options.baseUrl !== undefined) return ctx.options.baseUrl.replace(/\/+$/, '');
  const servers = ctx.doc['servers'];
  const server: unknown = Array.isArray(servers) ? servers[0] : undefined;
  if (!isObject(server) || typeof server['url'] !== 'string') {
    ctx.issues.push({
      pointer: '/servers',
      message: 'the document names no server and no baseUrl was given: pass baseUrl',
    });
    return undefined;
  }
  const url = expandServerVariables(ctx, server);
  if (url === undefined) return undefined;
  const trimmed = url.replace(/\/+$/, '');
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    ctx.issues.push({
      pointer: '/servers/0/url',
      message: `server URL "${String(server['url'])}" is relative: pass baseUrl with the API's absolute URL`,
    });
    return undefined;
  }
  if (!HttpBinding.shape.baseUrl.safeParse(trimmed).success) {
    ctx.issues.push({
      pointer: '/servers/0/url',
      message: `server URL "${url}" is not an absolute http or https URL: pass baseUrl`,
    });
    return undefined;
  }
  return trimmed;
}

/** The server's URL with each `{variable}` at its default; undefined (an issue) when one has none. */
function expandServerVariables(
  ctx: ConversionContext,
  server: Record<string, unknown>,
): string | undefined {
  const variables = isObject(server['variables']) ? server['variables'] : {};
  let missing: string | undefined;
  const url = String(server['url']).replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const variable = variables[name];
    if (isObject(variable) && typeof variable['default'] === 'string') return variable['default'];
    missing ??= name;
    return '';
  });
  if (missing === undefined) return url;
  ctx.issues.push({
    pointer: '/servers/0/url',
    message: `server variable "${missing}" is used in the URL but has no default`,
  });
  return undefined;
}
