/** One place a model alias can be served: a configured provider and its model id. */
export interface RouteTarget {
  provider: string;
  model: string;
}

/**
 * Ordered provider lists per model alias, optionally per tenant, from MODEL_ROUTES:
 *
 *   default=anthropic:claude-sonnet-4-5,vllm:Qwen/Qwen2.5-7B-Instruct;fast=vllm:Qwen/Qwen2.5-7B-Instruct;acme/default=vllm:Qwen/Qwen2.5-7B-Instruct
 *
 * `<alias>=` applies to every tenant; `<tenant>/<alias>=` overrides it for one tenant. Targets
 * are tried in order (failover). Model ids may contain `/` and `:`; only the first `:` splits.
 */
export class RouteTable {
  private constructor(private readonly routes: Map<string, RouteTarget[]>) {}

  static parse(spec: string, knownProviders: readonly string[]): RouteTable {
    const routes = new Map<string, RouteTarget[]>();
    const entries = spec
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
    if (entries.length === 0)
      throw new Error('MODEL_ROUTES is empty: give at least default=<provider>:<model>');
    for (const entry of entries) {
      const eq = entry.indexOf('=');
      if (eq <= 0)
        throw new Error(`route "${entry}" has no alias: expected <alias>=<provider>:<model>[,...]`);
      const key = entry.slice(0, eq).trim();
      if (!/^([a-z0-9][a-z0-9_-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(key)) {
        throw new Error(
          `route key "${key}" is invalid: expected <alias> or <tenant>/<alias> in lower case`,
        );
      }
      const targets = entry
        .slice(eq + 1)
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .map((t) => {
          const colon = t.indexOf(':');
          if (colon <= 0 || colon === t.length - 1)
            throw new Error(`route target "${t}" for ${key} must look like <provider>:<model>`);
          const provider = t.slice(0, colon);
          if (!knownProviders.includes(provider)) {
            throw new Error(
              `route ${key} names provider "${provider}", which is not configured (configured: ${knownProviders.join(', ')})`,
            );
          }
          return { provider, model: t.slice(colon + 1) };
        });
      if (targets.length === 0) throw new Error(`route ${key} lists no provider`);
      if (routes.has(key)) throw new Error(`route ${key} is given twice`);
      routes.set(key, targets);
    }
    return new RouteTable(routes);
  }

  /** The targets for a tenant's alias: its own route, else the shared one; undefined when unknown. */
  resolve(tenant: string, alias: string): RouteTarget[] | undefined {
    return this.routes.get(`${tenant}/${alias}`) ?? this.routes.get(alias);
  }

  aliases(): string[] {
    return [...this.routes.keys()];
  }
}
