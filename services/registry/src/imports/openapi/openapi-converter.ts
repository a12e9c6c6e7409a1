import {
  type FieldIssue,
  type HttpBinding,
  OpenApiImportRequest,
  RegisterToolRequest,
} from '@toolbus/contracts';
import { convertBody } from './body-conversion.js';
import {
  describeOperation,
  type ConversionContext,
  type ConvertOptions,
  type OperationRef,
  type ToolInput,
} from './conversion-context.js';
import { type OpenApiVersion, parseAndValidate } from './document-validation.js';
import { nameFromPath, toolName } from './naming.js';
import { checkOperationIds, documentBaseUrl, findOperations } from './operation-discovery.js';
import { childPointer, OpenApiImportError, pointerOf } from './openapi-import-error.js';
import { convertOutput } from './output-conversion.js';
import { convertParameters } from './parameter-conversion.js';
import { RefResolver } from './ref-resolver.js';
import { operationSecurity, type OperationSecurity } from './security-mapping.js';
import { toolAnnotations, toolTags, toolTexts } from './tool-metadata.js';

export type { ConvertOptions } from './conversion-context.js';

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

interface Candidate {
  ref: OperationRef;
  name: string;
  namePointer: string;
  definition: Record<string, unknown>;
}

/** One document's conversion: its steps share the context and add to one list of issues. */
class Conversion {
  private readonly ctx: ConversionContext;

  constructor(doc: Record<string, unknown>, version: OpenApiVersion, options: ConvertOptions) {
    this.ctx = { doc, version, options, resolver: new RefResolver(doc), issues: [] };
  }

  private get issues(): FieldIssue[] {
    return this.ctx.issues;
  }

  run(): ConvertedOperation[] {
    this.ctx.resolver.checkAll(this.issues);
    this.throwIfIssues();
    const baseUrl = documentBaseUrl(this.ctx);
    const operations = findOperations(this.ctx);
    if (operations.length === 0 && this.issues.length === 0) {
      this.issues.push({ pointer: '/paths', message: 'the document has no operations to import' });
    }
    checkOperationIds(this.ctx, operations);
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
          `tool name "${candidate.name}" of ${describeOperation(candidate.ref)} collides with ` +
          `${describeOperation(first.ref)}: give one of them a different operationId`,
      });
    }
  }

  /** The operation as a tool definition; undefined when it has issues (they are recorded). */
  private convertOperation(ref: OperationRef, baseUrl: string): Candidate | undefined {
    const before = this.issues.length;
    const operationId =
      typeof ref.operation['operationId'] === 'string' ? ref.operation['operationId'] : undefined;
    const namePointer =
      operationId !== undefined ? childPointer(ref.pointer, 'operationId') : ref.pointer;
    const name = this.toolName(ref, operationId, namePointer);
    const security = this.security(ref);
    const input: ToolInput = { properties: {}, required: [], taken: new Set() };
    const parameters = convertParameters(this.ctx, ref, security.apiKey, input);
    const body = convertBody(this.ctx, ref, input);
    const outputSchema = convertOutput(this.ctx, ref);
    if (this.issues.length > before || name === undefined) return undefined;
    const binding: HttpBinding = {
      kind: 'http',
      method: ref.method.toUpperCase() as HttpBinding['method'],
      baseUrl,
      path: ref.path,
      parameters,
      ...(body ? { body } : {}),
      ...(security.auth ? { auth: security.auth } : {}),
      ...(security.auth && this.ctx.options.credentialsSecret
        ? { credentialsSecret: this.ctx.options.credentialsSecret }
        : {}),
    };
    const definition = this.definition(ref, operationId, name, input, outputSchema, security);
    return { ref, name, namePointer, definition: { ...definition, binding } };
  }

  /** The operationId (or method and path) as a tool name, with the import's prefix. */
  private toolName(
    ref: OperationRef,
    operationId: string | undefined,
    namePointer: string,
  ): string | undefined {
    const name = toolName(
      operationId ?? nameFromPath(ref.method, ref.path),
      this.ctx.options.namePrefix,
    );
    if (name === undefined) {
      this.issues.push({
        pointer: namePointer,
        message: `${ref.label}operationId "${operationId ?? ''}" gives an empty tool name: it needs a letter or digit`,
      });
    }
    return name;
  }

  /** The operation's own security requirements, else the document's. */
  private security(ref: OperationRef): OperationSecurity {
    const declared = ref.operation['security'] !== undefined;
    return operationSecurity(
      declared ? ref.operation['security'] : this.ctx.doc['security'],
      declared ? childPointer(ref.pointer, 'security') : '/security',
      this.ctx.doc,
      this.ctx.resolver,
      this.ctx.options.source,
      this.issues,
    );
  }

  /** Everything of the definition but its binding, in the order definitions are written. */
  private definition(
    ref: OperationRef,
    operationId: string | undefined,
    name: string,
    input: ToolInput,
    outputSchema: Record<string, unknown> | undefined,
    security: OperationSecurity,
  ): Record<string, unknown> {
    const { options } = this.ctx;
    const { properties, required } = input;
    return {
      name,
      ...toolTexts(ref, operationId),
      inputSchema: { type: 'object', properties, required, additionalProperties: false },
      ...(outputSchema ? { outputSchema } : {}),
      annotations: toolAnnotations(ref.method, ref.operation['x-toolbus-readonly'] === true),
      owner: options.owner,
      scopes: security.scopes,
      timeoutMs: options.timeoutMs,
      cacheTtlSeconds: 0,
      transport: { kind: 'kafka', topic: options.executorTopic },
      sync: false,
      region: options.region,
      tags: toolTags(options.tags, ref.operation['tags']),
    };
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
