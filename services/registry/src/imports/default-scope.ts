/**
 * The scope of an imported tool that declares none: IMPORT_DEFAULT_SCOPE with `{source}` as
 * the import's scope area (its name, `-` as `_`, as the OpenAPI import names scopes). A tool
 * without scopes could be called by anyone who can call tools at all.
 */
export function defaultScope(template: string, source: string): string {
  return template.replaceAll('{source}', source.replace(/-/g, '_'));
}
