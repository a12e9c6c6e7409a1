import type { FieldIssue } from '@toolbus/contracts';
import { isObject } from './document-validation.js';
import { childPointer, pointerOf } from './openapi-import-error.js';

/** A value found in the document, with the pointer where it actually lives. */
export interface Located {
  value: unknown;
  pointer: string;
}

/** Subtrees that hold example data, not OpenAPI objects: a `$ref` there is just data. */
const DATA_KEYS = new Set(['example', 'examples', 'default', 'enum', 'const']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);

/**
 * Resolves internal `$ref`s (`#/components/...`) against the document itself. Nothing is ever
 * read from a file or a URL: an external reference is refused (no SSRF, no local file reads).
 */
export class RefResolver {
  constructor(private readonly root: Record<string, unknown>) {}

  /**
   * Follows `node` through any chain of Reference Objects to the object it names. Pushes an
   * issue and returns undefined for an external, broken or looping reference.
   */
  follow(node: unknown, pointer: string, issues: FieldIssue[]): Located | undefined {
    let current: Located = { value: node, pointer };
    const visited: string[] = [];
    while (isObject(current.value) && typeof current.value['$ref'] === 'string') {
      const ref = current.value['$ref'];
      const refPointer = childPointer(current.pointer, '$ref');
      if (visited.includes(ref)) {
        issues.push({
          pointer: refPointer,
          message: `circular $ref: ${[...visited, ref].join(' → ')}`,
        });
        return undefined;
      }
      visited.push(ref);
      const target = this.target(ref, refPointer, issues);
      if (!target) return undefined;
      current = target;
    }
    return current;
  }

  /** The value a single `$ref` names (not followed further). */
  target(ref: string, refPointer: string, issues: FieldIssue[]): Located | undefined {
    const external = externalRefProblem(ref);
    if (external) {
      issues.push({ pointer: refPointer, message: external });
      return undefined;
    }
    let tokens: string[];
    try {
      tokens = refTokens(ref);
    } catch {
      issues.push({ pointer: refPointer, message: `$ref "${ref}" is not a valid JSON pointer` });
      return undefined;
    }
    let value: unknown = this.root;
    for (const token of tokens) {
      const next = Array.isArray(value)
        ? /^(0|[1-9]\d*)$/.test(token)
          ? value[Number(token)]
          : undefined
        : isObject(value) && Object.hasOwn(value, token)
          ? value[token]
          : undefined;
      if (next === undefined) {
        issues.push({
          pointer: refPointer,
          message: `$ref "${ref}" does not resolve: nothing at ${pointerOf(...tokens)} in this document`,
        });
        return undefined;
      }
      value = next;
    }
    return { value, pointer: pointerOf(...tokens) };
  }

  /**
   * Every `$ref` of the document that is external or does not resolve, wherever it is (also
   * in components no operation uses), so a broken document is refused as a whole.
   */
  checkAll(issues: FieldIssue[]): void {
    const walk = (node: unknown, pointer: string, parentKey: string | undefined): void => {
      if (Array.isArray(node)) {
        node.forEach((item, index) => walk(item, childPointer(pointer, index), undefined));
        return;
      }
      if (!isObject(node)) return;
      const inSchemaMap = parentKey !== undefined && SCHEMA_MAPS.has(parentKey);
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && !inSchemaMap) {
          this.target(value, childPointer(pointer, key), issues);
        } else if (inSchemaMap || !DATA_KEYS.has(key)) {
          walk(value, childPointer(pointer, key), key);
        }
      }
    };
    walk(this.root, '', undefined);
  }
}

/** Why a `$ref` is refused as external, or undefined for an internal `#...` reference. */
function externalRefProblem(ref: string): string | undefined {
  if (ref.startsWith('#')) return undefined;
  const kind = /^https?:/i.test(ref)
    ? 'a URL'
    : /^file:/i.test(ref)
      ? 'a file URL'
      : /^[a-z][a-z0-9+.-]*:/i.test(ref)
        ? 'a URI'
        : 'a file';
  return (
    `external $ref "${ref}" (${kind}) is not allowed: only references inside the document ` +
    '("#/components/...") are resolved; bundle the document first'
  );
}

/** `#/components/schemas/A~1B` → ["components", "schemas", "A/B"]; throws on a non-pointer. */
function refTokens(ref: string): string[] {
  const fragment = decodeURIComponent(ref.slice(1));
  if (fragment === '') return [];
  if (!fragment.startsWith('/')) throw new Error('not a JSON pointer');
  return fragment
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}
