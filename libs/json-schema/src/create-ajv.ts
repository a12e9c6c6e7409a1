import { Ajv as AjvDraft07 } from 'ajv';
import type * as AjvCore from 'ajv/dist/core.js';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is typed against its own copy of ajv's classes; any of ours fits at run time.
const addFormats = addFormatsModule as unknown as (ajv: JsonSchemaAjv) => void;

/** An Ajv instance of any dialect, as {@link createAjv} returns it. */
export type JsonSchemaAjv = AjvCore.default;

/** The JSON Schema dialects Toolbus compiles. */
export const JSON_SCHEMA_DIALECTS = ['draft-07', '2019-09', '2020-12'] as const;
export type JsonSchemaDialect = (typeof JSON_SCHEMA_DIALECTS)[number];

/** The `$schema` URI of each dialect, as schemas that name theirs write it. */
export const DIALECT_URIS: Readonly<Record<JsonSchemaDialect, string>> = {
  'draft-07': 'http://json-schema.org/draft-07/schema#',
  '2019-09': 'https://json-schema.org/draft/2019-09/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

export interface CreateAjvOptions {
  /** Which draft the schemas are read as; default 2020-12, the dialect of tool definitions. */
  dialect?: JsonSchemaDialect;
  /**
   * Where Ajv's warnings go (an unknown format, say); `false` silences them, for fixed schemas
   * whose warnings are known and harmless. Default: Ajv's own, the console.
   */
  logger?: false;
}

const CLASSES: Record<JsonSchemaDialect, new (options: object) => JsonSchemaAjv> = {
  'draft-07': AjvDraft07,
  '2019-09': Ajv2019,
  '2020-12': Ajv2020,
};

/**
 * The one Ajv set-up of the workspace: the dialect's meta-schema and vocabularies, the
 * ajv-formats formats (checked), every error reported (`allErrors`), and `strict: false`,
 * because real-world OpenAPI and MCP schemas carry annotation keywords (x-*, example) that
 * strict mode refuses while the meta-schema still refuses malformed schemas. A remote `$ref`
 * is never loaded: no `loadSchema` is set, so compiling a schema that needs one throws
 * (Ajv's MissingRefError) instead of reaching the network.
 *
 * An instance caches what it compiles (keyed by schema and `$id`): share one per purpose, and
 * remove schemas that are compiled once, or compile {@link anonymousSchema} copies.
 */
export function createAjv(options: CreateAjvOptions = {}): JsonSchemaAjv {
  const dialect = options.dialect ?? '2020-12';
  const Dialect = CLASSES[dialect];
  if (!Dialect)
    throw new Error(
      `unknown JSON Schema dialect "${String(dialect)}"; use ${JSON_SCHEMA_DIALECTS.join(', ')}`,
    );
  const ajv = new Dialect({
    strict: false,
    allErrors: true,
    validateFormats: true,
    ...(options.logger === false ? { logger: false } : {}),
  });
  addFormats(ajv);
  return ajv;
}

/**
 * The schema without `$schema` and `$id`. For schemas whose dialect was checked where they
 * came from (the registry's validator): a `$schema` naming another draft would make Ajv look
 * for that meta-schema, and an `$id` seen twice (two versions of one tool) would make its
 * cache refuse the second schema.
 */
export function anonymousSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}
