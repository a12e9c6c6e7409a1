import type { FieldIssue } from '@toolbus/contracts';

/** SafeError carries at most 100 issues; more would only bury the first ones anyway. */
const MAX_ISSUES = 100;

/**
 * Thrown for any problem with an imported document (or the import options). Each issue's
 * pointer is an RFC 6901 JSON pointer into the document, e.g.
 * `/paths/~1customers~1{id}/get/parameters/0`, or `/baseUrl` etc. for an option; `/` is the
 * whole document. The registry answers it with a 422 listing the issues.
 */
export class OpenApiImportError extends Error {
  readonly issues: FieldIssue[];

  constructor(issues: FieldIssue[]) {
    const unique = dedupeIssues(issues).slice(0, MAX_ISSUES);
    const first = unique[0];
    const summary = first ? `${first.pointer}: ${first.message}` : 'unknown problem';
    const more = unique.length > 1 ? ` (and ${unique.length - 1} more)` : '';
    super(`The OpenAPI document cannot be imported: ${summary}${more}`);
    this.name = 'OpenApiImportError';
    this.issues = unique;
  }
}

function dedupeIssues(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.pointer}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Escapes one reference token (`/` → `~1`, `~` → `~0`). */
export function escapeToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A JSON pointer from reference tokens; no tokens → `/` (the whole document). */
export function pointerOf(...tokens: (string | number)[]): string {
  return tokens.length === 0 ? '/' : `/${tokens.map(escapeToken).join('/')}`;
}

/** Appends tokens to a pointer (`/` counts as the root). */
export function childPointer(base: string, ...tokens: (string | number)[]): string {
  const prefix = base === '/' ? '' : base;
  return `${prefix}/${tokens.map(escapeToken).join('/')}`;
}
