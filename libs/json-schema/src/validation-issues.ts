import type { ErrorObject } from 'ajv';

/** One way a value fails its schema, located the way Toolbus issues are. */
export interface ValidationIssue {
  /** RFC 6901 pointer to the value at fault; `/` is the whole value. */
  pointer: string;
  /** The same place as unescaped tokens (a zod issue's `path`). */
  path: string[];
  /** e.g. "is required", "is not allowed here", "must be integer". */
  message: string;
}

/** A property an error names rather than the object it is in: the one missing or not allowed. */
function namedProperty(error: ErrorObject): string | undefined {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return String(params['missingProperty']);
    case 'additionalProperties':
      return String(params['additionalProperty']);
    case 'unevaluatedProperties':
      return String(params['unevaluatedProperty']);
    default:
      return undefined;
  }
}

/**
 * Where an Ajv error is, as tokens: its instance path, plus the property for `required`,
 * `additionalProperties` and `unevaluatedProperties` (Ajv places those at the enclosing object,
 * but the property is what the reader must fix).
 */
export function errorPath(error: ErrorObject): string[] {
  const path =
    error.instancePath === ''
      ? []
      : error.instancePath
          .split('/')
          .slice(1)
          .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  const property = namedProperty(error);
  if (property !== undefined) path.push(property);
  return path;
}

/** An RFC 6901 pointer from tokens; no tokens is the whole value, `/`. */
export function pointerFrom(path: readonly string[]): string {
  if (path.length === 0) return '/';
  return path.map((token) => `/${token.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Ajv's errors (`validate.errors`) as issues a caller (or a model) can act on: located at the
 * property they are about, "is required" for a missing one, "is not allowed here" for one the
 * schema does not allow, Ajv's own message otherwise.
 */
export function validationIssues(
  errors: readonly ErrorObject[] | null | undefined,
): ValidationIssue[] {
  return (errors ?? []).map((error) => {
    const path = errorPath(error);
    const message =
      error.keyword === 'required'
        ? 'is required'
        : error.keyword === 'additionalProperties' || error.keyword === 'unevaluatedProperties'
          ? 'is not allowed here'
          : (error.message ?? 'is invalid');
    return { pointer: pointerFrom(path), path, message };
  });
}
