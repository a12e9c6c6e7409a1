import type { HttpParameterBinding } from '@toolbus/contracts';
import {
  asObjectSchema,
  operationSchema,
  text,
  type ConversionContext,
  type OperationRef,
  type ToolInput,
} from './conversion-context.js';
import { isObject } from './document-validation.js';
import { uniqueField } from './naming.js';
import { childPointer } from './openapi-import-error.js';

/** OpenAPI says these header parameters are ignored (the client sets them). */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

/** The order parameters become input properties in. */
const LOCATION_ORDER = ['path', 'query', 'header'];

type Location = HttpParameterBinding['in'];

/** A parameter as declared, with where the operation uses it. */
interface DeclaredParameter {
  parameter: Record<string, unknown>;
  /** In the list of the path item or the operation, so an issue names where it is used. */
  pointer: string;
}

/** The API key scheme of the operation, whose parameter the executor sends itself. */
export type ApiKeyLocation = { in: string; name: string } | undefined;

/**
 * Path-level and operation-level parameters (the operation's win on the same name and
 * location) as input properties, path first, then query, then header; issues for cookie
 * parameters and for path parameters missing from the template or from the declarations.
 */
export function convertParameters(
  ctx: ConversionContext,
  ref: OperationRef,
  apiKey: ApiKeyLocation,
  input: ToolInput,
): HttpParameterBinding[] {
  const templateNames = [...ref.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
  const declaredPath = new Set<string>();
  const bindings: HttpParameterBinding[] = [];
  for (const declared of mergedParameters(ctx, ref)) {
    const where = locationOf(ctx, ref, declared);
    if (where === 'path') declaredPath.add(String(declared.parameter['name']));
    if (where === undefined || !templateHas(ctx, ref, declared, where, templateNames)) continue;
    if (sentByExecutor(where, String(declared.parameter['name']), apiKey)) continue;
    const binding = bindParameter(ctx, ref, declared, where, input);
    if (binding) bindings.push(binding);
  }
  for (const name of templateNames) {
    if (!declaredPath.has(name)) {
      ctx.issues.push({
        pointer: ref.pointer,
        message: `${ref.label}path parameter "${name}" is in the template but not declared`,
      });
    }
  }
  return bindings;
}

/** The path item's parameters overridden by the operation's, sorted by location. */
function mergedParameters(ctx: ConversionContext, ref: OperationRef): DeclaredParameter[] {
  const merged = new Map<string, DeclaredParameter>();
  const add = (list: unknown, listPointer: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((raw, index) => {
      const located = ctx.resolver.follow(raw, childPointer(listPointer, index), ctx.issues);
      if (!located || !isObject(located.value)) return;
      const parameter = located.value;
      const where = String(parameter['in']);
      const name = String(parameter['name']);
      // The pointer stays at the operation's list so the issue names where it is used.
      const key = `${where}:${where === 'header' ? name.toLowerCase() : name}`;
      merged.delete(key);
      merged.set(key, { parameter, pointer: childPointer(listPointer, index) });
    });
  };
  add(ref.pathItem['parameters'], childPointer(ref.pathItemPointer, 'parameters'));
  add(ref.operation['parameters'], childPointer(ref.pointer, 'parameters'));
  return [...merged.values()].sort(
    (a, b) =>
      LOCATION_ORDER.indexOf(String(a.parameter['in'])) -
      LOCATION_ORDER.indexOf(String(b.parameter['in'])),
  );
}

/** Where the parameter goes; undefined for a location the executor cannot send (cookie: an issue). */
function locationOf(
  ctx: ConversionContext,
  ref: OperationRef,
  { parameter, pointer }: DeclaredParameter,
): Location | undefined {
  const where = String(parameter['in']);
  if (where === 'cookie') {
    ctx.issues.push({
      pointer,
      message: `${ref.label}cookie parameter "${String(parameter['name'])}" is not supported: the HTTP executor sends path, query and header parameters only`,
    });
    return undefined;
  }
  return where === 'path' || where === 'query' || where === 'header' ? where : undefined;
}

/** A path parameter must be in the template (an issue otherwise); other locations always pass. */
function templateHas(
  ctx: ConversionContext,
  ref: OperationRef,
  { parameter, pointer }: DeclaredParameter,
  where: Location,
  templateNames: string[],
): boolean {
  const name = String(parameter['name']);
  if (where !== 'path' || templateNames.includes(name)) return true;
  ctx.issues.push({
    pointer,
    message: `${ref.label}path parameter "${name}" is declared but not in the path template`,
  });
  return false;
}

/** Headers the client sets, and the parameter carrying the API key from the credentials secret. */
function sentByExecutor(where: Location, name: string, apiKey: ApiKeyLocation): boolean {
  if (where === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) return true;
  if (!apiKey || apiKey.in !== where) return false;
  return where === 'header'
    ? apiKey.name.toLowerCase() === name.toLowerCase()
    : apiKey.name === name;
}

/** The parameter as an input property (required when it is a path one or says so) and its binding. */
function bindParameter(
  ctx: ConversionContext,
  ref: OperationRef,
  { parameter, pointer }: DeclaredParameter,
  where: Location,
  input: ToolInput,
): HttpParameterBinding | undefined {
  const schema = parameterSchema(ctx, ref, parameter, pointer);
  if (schema === undefined) return undefined;
  const name = String(parameter['name']);
  const field = uniqueField(name, where, input.taken);
  const isRequired = where === 'path' || parameter['required'] === true;
  input.properties[field] = schema;
  if (isRequired) input.required.push(field);
  return { field, in: where, name, required: isRequired };
}

/** The parameter's `schema` (or its first `content` type's), with its description and example. */
function parameterSchema(
  ctx: ConversionContext,
  ref: OperationRef,
  parameter: Record<string, unknown>,
  pointer: string,
): Record<string, unknown> | undefined {
  let schema: unknown = parameter['schema'];
  let schemaPointer = childPointer(pointer, 'schema');
  const content = parameter['content'];
  if (schema === undefined && isObject(content)) {
    const [mediaType, media] = Object.entries(content)[0] ?? [];
    if (mediaType !== undefined && isObject(media)) {
      schema = media['schema'];
      schemaPointer = childPointer(pointer, 'content', mediaType, 'schema');
    }
  }
  if (schema === undefined) {
    ctx.issues.push({
      pointer,
      message: `${ref.label}parameter "${String(parameter['name'])}" has no schema (neither "schema" nor "content")`,
    });
    return undefined;
  }
  const converted = operationSchema(ctx, ref, schema, schemaPointer, 'input');
  if (converted === undefined) return undefined;
  const out = asObjectSchema(converted);
  const description = text(parameter['description']);
  if (description !== undefined) out['description'] = description;
  if (parameter['example'] !== undefined && out['examples'] === undefined) {
    out['examples'] = [structuredClone(parameter['example'])];
  }
  return out;
}
