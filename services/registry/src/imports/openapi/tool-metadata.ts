import type { ToolAnnotations } from '@toolbus/contracts';
import { text, type Method, type OperationRef } from './conversion-context.js';
import { normalizeTag } from './naming.js';

const MAX_TAGS = 32;
const MAX_TITLE = 200;
const MAX_DESCRIPTION = 10_000;

/**
 * The title (summary, else operationId, else `GET /path`) and the description (description,
 * else summary, else `GET /path`), cut to what a definition holds.
 */
export function toolTexts(
  ref: OperationRef,
  operationId: string | undefined,
): { title: string; description: string } {
  const fallback = `${ref.method.toUpperCase()} ${ref.path}`;
  const summary = text(ref.operation['summary']);
  return {
    title: (summary ?? operationId ?? fallback).slice(0, MAX_TITLE),
    description: (text(ref.operation['description']) ?? summary ?? fallback).slice(
      0,
      MAX_DESCRIPTION,
    ),
  };
}

/** The import's tags, then the operation's in lower case with `-`; unique, at most 32. */
export function toolTags(importTags: string[], operationTags: unknown): string[] {
  const own = Array.isArray(operationTags)
    ? operationTags.filter((tag): tag is string => typeof tag === 'string').map(normalizeTag)
    : [];
  return [...new Set([...importTags, ...own].filter((tag) => tag !== ''))].slice(0, MAX_TAGS);
}

/**
 * Read-only, non-destructive and idempotent for GET, HEAD and OPTIONS (and for an operation
 * that says `x-toolbus-readonly: true`); destructive otherwise, idempotent for PUT and DELETE.
 */
export function toolAnnotations(method: Method, readOnlyExtension: boolean): ToolAnnotations {
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
