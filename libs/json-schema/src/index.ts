export {
  anonymousSchema,
  createAjv,
  DIALECT_URIS,
  JSON_SCHEMA_DIALECTS,
  type CreateAjvOptions,
  type JsonSchemaAjv,
  type JsonSchemaDialect,
} from './create-ajv.js';
export {
  errorPath,
  pointerFrom,
  validationIssues,
  type ValidationIssue,
} from './validation-issues.js';
export type { ErrorObject, ValidateFunction } from 'ajv';
