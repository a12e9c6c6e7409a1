import {
  type FieldIssue,
  HttpBinding,
  type HttpParameterBinding,
  OpenApiImportRequest,
  RegisterToolRequest,
  type ToolAnnotations,
} from '@toolbus/contracts';
import { isObject, type OpenApiVersion, parseAndValidate } from './document-validation.js';
import { nameFromPath, normalizeTag, toolName, uniqueField } from './naming.js';
import { childPointer, OpenApiImportError, pointerOf } from './openapi-import-error.js';
import { RefResolver } from './ref-resolver.js';
import { convertSchema, type SchemaDirection } from './schema-conversion.js';
import { operationSecurity } from './security-mapping.js';

/** How the registry's import service wants the tools of one document made. */
export interface ConvertOptions {
  /** Import name, e.g. "crm-api"; also the area of scopes that name none. */
  source: string;
  /** Overrides the document's servers[0]. */
  baseUrl?: string;
  credentialsSecret?: string;
  owner: string;
  region: string;
  /** Prepended to every tool name, e.g. "billing_". */
  namePrefix?: string;
  tags: string[];
  timeoutMs: number;
  /** e.g. "tool_requests.http-executor". */
  executorTopic: string;
}

/** The definition of one imported operation: everything but the version, which the registry assigns. */
export interface ConvertedOperation {
  /** "GET /customers/{id}" */
  operation: string;
  /** Where the operation is in the document, e.g. "/paths/~1customers~1{id}/get". */
  pointer: string;
  definition: Omit<RegisterToolRequest, 'version'>;
}

const DefinitionWithoutVersion = RegisterToolRequest.omit({ version: true });

/** Option fields checked here; the import request schema is their source of truth. */
const OptionsSchema = OpenApiImportRequest.pick({
  source: true,
  baseUrl: true,
  credentialsSecret: true,
  owner: true,
  region: true,
  namePrefix: true,
  tags: true,
  timeoutMs: true,
  executorTopic: true,
});

/** Path item keys that are operations. TRACE has no HttpMethod in Toolbus and is skipped. */
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Method = (typeof METHODS)[number];

/** OpenAPI says these header parameters are ignored (the client sets them). */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

const MAX_TAGS = 32;
const MAX_TITLE = 200;
const MAX_DESCRIPTION = 10_000;

/**
 * Parses (JSON or YAML text, or an already-parsed object), validates against the official
 * OpenAPI 3.0 / 3.1 schema, resolves internal `$ref`s (external ones are refused, never
 * fetched) and converts every operation into a tool definition for the HTTP executor.
 * Throws {@link OpenApiImportError} listing every problem found, each with a JSON pointer
 * into the document (or to the option, e.g. `/baseUrl`).
 *
 * An operation may set `x-toolbus-readonly: true` to be annotated read-only, non-destructive
 * and idempotent whatever its method (a search done with POST, say). TRACE operations are
 * skipped (Toolbus has no such method), as are the `Accept`, `Content-Type` and
 * `Authorization` header parameters (OpenAPI says they are ignored) and a parameter that the
 * operation's API key scheme already sends.
 */
export async function convertOpenApi(
  document: string | Record<string, unknown>,
  options: ConvertOptions,
): Promise<ConvertedOperation[]> {
  checkOptions(options);
  const { document: doc, version } = parseAndValidate(document);
  return new Conversion(doc, version, options).run();
}

function checkOptions(options: ConvertOptions): void {
  const parsed = OptionsSchema.safeParse(options);
  if (parsed.success) return;
  throw new OpenApiImportError(
    parsed.error.issues.map((issue) => ({
      pointer: pointerOf(...issue.path.map((token) => String(token))),
      message: `import option: ${issue.message}`,
    })),
  );
}

/** One operation found under `paths`. */
interface OperationRef {
  method: Exclude<Method, 'trace'>;
  path: string;
  pointer: string;
  operation: Record<string, unknown>;
  pathItem: Record<string, unknown>;
  pathItemPointer: string;
  label: string;
}

interface Candidate {
  ref: OperationRef;
  name: string;
  namePointer: string;
  definition: Record<string, unknown>;
}

class Conversion {
  private readonly issues: FieldIssue[] = [];
  private readonly resolver: RefResolver;

  constructor(
    private readonly doc: Record<string, unknown>,
    private readonly version: OpenApiVersion,
    private readonly options: ConvertOptions,
  ) {
    this.resolver = new RefResolver(doc);
  }

  run(): ConvertedOperation[] {
    this.resolver.checkAll(this.issues);
    this.throwIfIssues();
    const baseUrl = this.baseUrl();
    const operations = this.operations();
    if (operations.length === 0 && this.issues.length === 0) {
      this.issues.push({ pointer: '/paths', message: 'the document has no operations to import' });
    }
    this.checkOperationIds(operations);
    // Without a base URL the import fails anyway; the operations are still converted so the
    // answer lists their problems too.
    const candidates = operations.flatMap((ref) => {
      const candidate = this.convertOperation(ref, baseUrl ?? 'https://base-url.invalid');
      return candidate ? [candidate] : [];
    });
    this.checkNameCollisions(candidates);
    this.throwIfIssues();
    const results = candidates.map((candidate) => this.finish(candidate));
    this.throwIfIssues();
    return results;
  }

  private throwIfIssues(): void {
    if (this.issues.length > 0) throw new OpenApiImportError(this.issues);
  }

  /** options.baseUrl, else servers[0].url with its variables at their defaults; no trailing /. */
  private baseUrl(): string | undefined {
    if (this.options.baseUrl !== undefined) return this.options.baseUrl.replace(/\/+$/, '');
    const servers = this.doc['servers'];
    const server: unknown = Array.isArray(servers) ? servers[0] : undefined;
    if (!isObject(server) || typeof server['url'] !== 'string') {
      this.issues.push({
        pointer: '/servers',
        message: 'the document names no server and no baseUrl was given: pass baseUrl',
      });
      return undefined;
    }
    const variables = isObject(server['variables']) ? server['variables'] : {};
    let missing: string | undefined;
    const url = server['url'].replace(/\{([^}]+)\}/g, (_match, name: string) => {
      const variable = variables[name];
      if (isObject(variable) && typeof variable['default'] === 'string') return variable['default'];
      missing ??= name;
      return '';
    });
    if (missing !== undefined) {
      this.issues.push({
        pointer: '/servers/0/url',
        message: `server variable "${missing}" is used in the URL but has no default`,
      });
      return undefined;
    }
    const trimmed = url.replace(/\/+$/, '');
    if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) {
      this.issues.push({
        pointer: '/servers/0/url',
        message: `server URL "${server['url']}" is relative: pass baseUrl with the API's absolute URL`,
      });
      return undefined;
    }
    if (!HttpBinding.shape.baseUrl.safeParse(trimmed).success) {
      this.issues.push({
        pointer: '/servers/0/url',
        message: `server URL "${url}" is not an absolute http or https URL: pass baseUrl`,
      });
      return undefined;
    }
    return trimmed;
  }

  /** Every operation under `paths`, in document order; other path item keys are ignored. */
  private operations(): OperationRef[] {
    const paths = this.doc['paths'];
    if (!isObject(paths)) return [];
    const found: OperationRef[] = [];
    for (const [path, rawItem] of Object.entries(paths)) {
      if (path.startsWith('x-')) continue;
      const item = this.resolver.follow(rawItem, pointerOf('paths', path), this.issues);
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

  private checkOperationIds(operations: OperationRef[]): void {
    const seen = new Map<string, OperationRef>();
    for (const ref of operations) {
      const id = ref.operation['operationId'];
      if (typeof id !== 'string') continue;
      const first = seen.get(id);
      if (first) {
        this.issues.push({
          pointer: childPointer(ref.pointer, 'operationId'),
          message: `duplicate operationId "${id}": ${describe(ref)} and ${describe(first)} both use it`,
        });
      } else seen.set(id, ref);
    }
  }

  private checkNameCollisions(candidates: Candidate[]): void {
    const seen = new Map<string, Candidate>();
    for (const candidate of candidates) {
      const first = seen.get(candidate.name);
      if (!first) {
        seen.set(candidate.name, candidate);
        continue;
      }
      const id = candidate.ref.operation['operationId'];
      if (typeof id === 'string' && id === first.ref.operation['operationId']) continue;
      this.issues.push({
        pointer: candidate.namePointer,
        message:
          `tool name "${candidate.name}" of ${describe(candidate.ref)} collides with ` +
          `${describe(first.ref)}: give one of them a different operationId`,
      });
    }
  }

  private convertOperation(ref: OperationRef, baseUrl: string): Candidate | undefined {
    const before = this.issues.length;
    const { operation, method, path } = ref;
    const operationId =
      typeof operation['operationId'] === 'string' ? operation['operationId'] : undefined;
    const namePointer =
      operationId !== undefined ? childPointer(ref.pointer, 'operationId') : ref.pointer;
    const name = toolName(operationId ?? nameFromPath(method, path), this.options.namePrefix);
    if (name === undefined) {
      this.issues.push({
        pointer: namePointer,
        message: `${ref.label}operationId "${operationId ?? ''}" gives an empty tool name: it needs a letter or digit`,
      });
    }

    const securityDeclared = operation['security'] !== undefined;
    const security = operationSecurity(
      securityDeclared ? operation['security'] : this.doc['security'],
      securityDeclared ? childPointer(ref.pointer, 'security') : '/security',
      this.doc,
      this.resolver,
      this.options.source,
      this.issues,
    );

    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    const taken = new Set<string>();
    const parameters = this.parameters(ref, security.apiKey, properties, required, taken);
    const body = this.body(ref, properties, required, taken);
    const outputSchema = this.output(ref);
    if (this.issues.length > before || name === undefined) return undefined;

    const upper = method.toUpperCase() as Uppercase<typeof method>;
    const fallback = `${upper} ${path}`;
    const summary = text(operation['summary']);
    const title = (summary ?? operationId ?? fallback).slice(0, MAX_TITLE);
    const description = (text(operation['description']) ?? summary ?? fallback).slice(
      0,
      MAX_DESCRIPTION,
    );
    const definition: Record<string, unknown> = {
      name,
      title,
      description,
      inputSchema: { type: 'object', properties, required, additionalProperties: false },
      ...(outputSchema ? { outputSchema } : {}),
      annotations: annotations(method, operation['x-toolbus-readonly'] === true),
      owner: this.options.owner,
      scopes: security.scopes,
      timeoutMs: this.options.timeoutMs,
      cacheTtlSeconds: 0,
      transport: { kind: 'kafka', topic: this.options.executorTopic },
      sync: false,
      region: this.options.region,
      tags: this.tags(operation['tags']),
      binding: {
        kind: 'http',
        method: upper,
        baseUrl,
        path,
        parameters,
        ...(body ? { body } : {}),
        ...(security.auth ? { auth: security.auth } : {}),
        ...(security.auth && this.options.credentialsSecret
          ? { credentialsSecret: this.options.credentialsSecret }
          : {}),
      },
    };
    return { ref, name, namePointer, definition };
  }

  /**
   * Path-level and operation-level parameters (the operation's win on the same name and
   * location) as input properties, path first, then query, then header.
   */
  private parameters(
    ref: OperationRef,
    apiKey: { in: string; name: string } | undefined,
    properties: Record<string, unknown>,
    required: string[],
    taken: Set<string>,
  ): HttpParameterBinding[] {
    const merged = new Map<string, { parameter: Record<string, unknown>; pointer: string }>();
    const add = (list: unknown, listPointer: string) => {
      if (!Array.isArray(list)) return;
      list.forEach((raw, index) => {
        const located = this.resolver.follow(raw, childPointer(listPointer, index), this.issues);
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

    const templateNames = [...ref.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
    const declaredPath = new Set<string>();
    const bindings: HttpParameterBinding[] = [];
    const order = ['path', 'query', 'header'];
    const entries = [...merged.values()].sort(
      (a, b) => order.indexOf(String(a.parameter['in'])) - order.indexOf(String(b.parameter['in'])),
    );
    for (const { parameter, pointer } of entries) {
      const where = String(parameter['in']);
      const name = String(parameter['name']);
      if (where === 'cookie') {
        this.issues.push({
          pointer,
          message: `${ref.label}cookie parameter "${name}" is not supported: the HTTP executor sends path, query and header parameters only`,
        });
        continue;
      }
      if (where !== 'path' && where !== 'query' && where !== 'header') continue;
      if (where === 'path') {
        declaredPath.add(name);
        if (!templateNames.includes(name)) {
          this.issues.push({
            pointer,
            message: `${ref.label}path parameter "${name}" is declared but not in the path template`,
          });
          continue;
        }
      }
      if (where === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) continue;
      if (
        apiKey &&
        apiKey.in === where &&
        (where === 'header'
          ? apiKey.name.toLowerCase() === name.toLowerCase()
          : apiKey.name === name)
      ) {
        continue; // the executor adds the API key from the credentials secret
      }
      const schema = this.parameterSchema(ref, parameter, pointer);
      if (schema === undefined) continue;
      const field = uniqueField(name, where, taken);
      const isRequired = where === 'path' || parameter['required'] === true;
      properties[field] = schema;
      if (isRequired) required.push(field);
      bindings.push({ field, in: where, name, required: isRequired });
    }
    for (const name of templateNames) {
      if (!declaredPath.has(name)) {
        this.issues.push({
          pointer: ref.pointer,
          message: `${ref.label}path parameter "${name}" is in the template but not declared`,
        });
      }
    }
    return bindings;
  }

  private parameterSchema(
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
      this.issues.push({
        pointer,
        message: `${ref.label}parameter "${String(parameter['name'])}" has no schema (neither "schema" nor "content")`,
      });
      return undefined;
    }
    const converted = this.schema(schema, schemaPointer, 'input', ref);
    if (converted === undefined) return undefined;
    const out = asObjectSchema(converted);
    const description = text(parameter['description']);
    if (description !== undefined) out['description'] = description;
    if (parameter['example'] !== undefined && out['examples'] === undefined) {
      out['examples'] = [structuredClone(parameter['example'])];
    }
    return out;
  }

  /** The request body as the `body` property (JSON preferred, then form-urlencoded). */
  private body(
    ref: OperationRef,
    properties: Record<string, unknown>,
    required: string[],
    taken: Set<string>,
  ): HttpBinding['body'] | undefined {
    if (ref.operation['requestBody'] === undefined) return undefined;
    const located = this.resolver.follow(
      ref.operation['requestBody'],
      childPointer(ref.pointer, 'requestBody'),
      this.issues,
    );
    if (!located || !isObject(located.value)) return undefined;
    const requestBody = located.value;
    const content = isObject(requestBody['content']) ? requestBody['content'] : {};
    const isRequired = requestBody['required'] === true;
    const entries = Object.entries(content).map(([mediaType, media]) => ({
      mediaType,
      media,
      essence: mediaType.split(';')[0]?.trim().toLowerCase() ?? '',
    }));
    const chosen =
      entries.find((entry) => entry.essence === 'application/json') ??
      entries.find((entry) => isJsonMediaType(entry.essence)) ??
      entries.find((entry) => entry.essence === 'application/x-www-form-urlencoded');
    if (!chosen) {
      if (isRequired) {
        const found = entries.map((entry) => entry.mediaType).join(', ') || 'none';
        this.issues.push({
          pointer: childPointer(located.pointer, 'content'),
          message: `${ref.label}the required request body has no supported media type (found ${found}); the HTTP executor sends application/json or application/x-www-form-urlencoded`,
        });
      }
      // An optional body in an unsupported format is left out: the tool calls without it.
      return undefined;
    }
    const media = isObject(chosen.media) ? chosen.media : {};
    let schema: Record<string, unknown> = {};
    if (media['schema'] !== undefined) {
      const converted = this.schema(
        media['schema'],
        childPointer(located.pointer, 'content', chosen.mediaType, 'schema'),
        'input',
        ref,
      );
      if (converted === undefined) return undefined;
      schema = asObjectSchema(converted);
    }
    const description = text(requestBody['description']);
    if (description !== undefined) schema['description'] = description;
    const field = !taken.has('body')
      ? 'body'
      : !taken.has('request_body')
        ? 'request_body'
        : uniqueField('request_body', 'body', taken);
    taken.add(field);
    properties[field] = schema;
    if (isRequired) required.push(field);
    const contentType =
      chosen.essence === 'application/x-www-form-urlencoded'
        ? 'application/x-www-form-urlencoded'
        : 'application/json';
    return { field, contentType, required: isRequired };
  }

  /**
   * The JSON schema of the first 2xx response (200, 201, … 299, then 2XX) with JSON content;
   * none for HEAD, for 204 and other bodiless responses, and for non-JSON bodies.
   */
  private output(ref: OperationRef): Record<string, unknown> | undefined {
    if (ref.method === 'head') return undefined;
    const responses = ref.operation['responses'];
    if (!isObject(responses)) return undefined;
    const codes = Object.keys(responses)
      .filter((code) => /^2\d\d$/.test(code))
      .sort();
    codes.push(...Object.keys(responses).filter((code) => /^2xx$/i.test(code)));
    for (const code of codes) {
      const pointer = childPointer(ref.pointer, 'responses', code);
      const located = this.resolver.follow(responses[code], pointer, this.issues);
      if (!located || !isObject(located.value) || !isObject(located.value['content'])) continue;
      const content = located.value['content'];
      const mediaType =
        Object.keys(content).find((type) => mediaEssence(type) === 'application/json') ??
        Object.keys(content).find((type) => isJsonMediaType(mediaEssence(type)));
      const media = mediaType !== undefined ? content[mediaType] : undefined;
      if (mediaType === undefined || !isObject(media) || media['schema'] === undefined) continue;
      const converted = this.schema(
        media['schema'],
        childPointer(located.pointer, 'content', mediaType, 'schema'),
        'output',
        ref,
      );
      return converted === undefined ? undefined : asObjectSchema(converted);
    }
    return undefined;
  }

  private schema(
    schema: unknown,
    pointer: string,
    direction: SchemaDirection,
    ref: OperationRef,
  ): Record<string, unknown> | boolean | undefined {
    return convertSchema(schema, pointer, {
      resolver: this.resolver,
      version: this.version,
      direction,
      issues: this.issues,
      label: ref.label,
    });
  }

  /** The import's tags, then the operation's in lower case with `-`; unique, at most 32. */
  private tags(operationTags: unknown): string[] {
    const own = Array.isArray(operationTags)
      ? operationTags.filter((tag): tag is string => typeof tag === 'string').map(normalizeTag)
      : [];
    return [...new Set([...this.options.tags, ...own].filter((tag) => tag !== ''))].slice(
      0,
      MAX_TAGS,
    );
  }

  /**
   * The contracts schema has the last word, so a definition of the wrong shape is reported
   * here with its operation. Whether its schemas compile is the registry's validator's call
   * (SourceSync), the one check every source's definitions pass.
   */
  private finish(candidate: Candidate): ConvertedOperation {
    const { ref } = candidate;
    const operation = `${ref.method.toUpperCase()} ${ref.path}`;
    const parsed = DefinitionWithoutVersion.safeParse(candidate.definition);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        this.issues.push({
          pointer: ref.pointer,
          message: `${ref.label}the tool definition would be invalid at ${issue.path.join('.')}: ${issue.message}`,
        });
      }
      return {
        operation,
        pointer: ref.pointer,
        definition: candidate.definition as ConvertedOperation['definition'],
      };
    }
    return { operation, pointer: ref.pointer, definition: parsed.data };
  }
}

function describe(ref: OperationRef): string {
  return `${ref.method.toUpperCase()} ${ref.path} (${ref.pointer})`;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function mediaEssence(mediaType: string): string {
  return mediaType.split(';')[0]?.trim().toLowerCase() ?? '';
}

function isJsonMediaType(essence: string): boolean {
  return essence === 'application/json' || /^application\/[^/]+\+json$/.test(essence);
}

/** A boolean schema as an object one, so a description can be added to it. */
function asObjectSchema(schema: Record<string, unknown> | boolean): Record<string, unknown> {
  if (schema === true) return {};
  if (schema === false) return { not: {} };
  return schema;
}

function annotations(
  method: Exclude<Method, 'trace'>,
  readOnlyExtension: boolean,
): ToolAnnotations {
  if (readOnlyExtension || method === 'get' || method === 'head' || method === 'options') {
    return {
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    };
  }
  const idempotent = method === 'put' || method === 'delete';
  return {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: idempotent,
    openWorldHint: true,
  };
}
