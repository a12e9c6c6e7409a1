import { randomUUID } from 'node:crypto';
import {
  CatalogSnapshot,
  Messages,
  RegistryPaths,
  Topics,
  type CatalogEntry,
  type RegistryChanged,
  type ToolDefinition,
} from '@toolbus/contracts';
import type { MessageBus, Subscription } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';

/** The version of a tool that callers get, and whether it is deprecated (serve with a warning). */
export interface ServedTool {
  definition: ToolDefinition;
  deprecated: boolean;
}

export type CatalogListener = (name: string, tool: ServedTool | undefined) => void;

export interface RegistryViewOptions {
  /** Registry base URL, for the start-up snapshot. */
  registryUrl: string;
  /** Bearer token with registry:read. */
  token?: string;
  bus: MessageBus;
  /** Names this reader's consumer group: `<service>.registry-view.<random>`. */
  service: string;
  logger: Logger;
  /** Give up on the snapshot after this long (default 10 s); start() then rejects. */
  snapshotTimeoutMs?: number;
}

/**
 * A cached, current view of the served catalog: approved and deprecated versions of every tool.
 * It is filled from the registry's snapshot at start-up and kept current by the change events
 * on `toolbus.registry.changes`, never by polling. Each instance reads the compacted topic from
 * its start in a group of its own, so no change is missed between the snapshot and the first
 * event; a per-tool revision makes replays and overlaps harmless (newer state wins).
 */
export class RegistryView {
  private readonly entries = new Map<string, CatalogEntry>();
  private readonly listeners = new Set<CatalogListener>();
  private subscription?: Subscription;

  private constructor(private readonly logger?: Logger) {}

  /** Subscribes to the change events, loads the snapshot, and resolves once the view is filled. */
  static async start(options: RegistryViewOptions): Promise<RegistryView> {
    const view = new RegistryView(options.logger);
    view.subscription = await options.bus.subscribe<RegistryChanged>(
      {
        topic: Topics.registryChanges,
        groupId: `${options.service}.registry-view.${randomUUID().slice(0, 8)}`,
        schema: Messages.registryChanged.schema,
        types: [Messages.registryChanged.type],
        fromBeginning: true,
        concurrency: 1,
      },
      async (message) => {
        view.apply({
          name: message.value.name,
          revision: message.value.revision,
          served: message.value.served,
        });
      },
    );
    try {
      const snapshot = await fetchSnapshot(options);
      for (const entry of snapshot.tools) view.apply(entry);
      options.logger.info(
        { tools: snapshot.tools.length, revision: snapshot.revision },
        'registry snapshot loaded',
      );
    } catch (error) {
      await view.close();
      throw error;
    }
    return view;
  }

  /** A fixed view (the embedded mode without a registry, and tests of the executors). */
  static of(definitions: ToolDefinition[]): RegistryView {
    const view = new RegistryView();
    const byName = new Map<string, ToolDefinition[]>();
    for (const d of definitions) byName.set(d.name, [...(byName.get(d.name) ?? []), d]);
    for (const [name, served] of byName) view.apply({ name, revision: 1, served });
    return view;
  }

  /**
   * The version a caller gets for `name`: the newest approved one, else the newest deprecated
   * one (flagged). Retired and draft versions are never served.
   */
  get(name: string, version?: string): ServedTool | undefined {
    const served = this.entries.get(name)?.served ?? [];
    const definition = version
      ? served.find((d) => d.version === version)
      : (served.find((d) => d.status === 'approved') ?? served[0]);
    return definition && { definition, deprecated: definition.status === 'deprecated' };
  }

  /** Every tool's served version (as {@link get} picks it). */
  list(): ServedTool[] {
    return [...this.entries.keys()].flatMap((name) => {
      const tool = this.get(name);
      return tool ? [tool] : [];
    });
  }

  /** Revision of the newest change seen. */
  get revision(): number {
    let max = 0;
    for (const e of this.entries.values()) max = Math.max(max, e.revision);
    return max;
  }

  /** Called after every change that altered a tool; returns the unsubscribe function. */
  onChange(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = undefined;
  }

  private apply(entry: CatalogEntry): void {
    const known = this.entries.get(entry.name);
    if (known && known.revision >= entry.revision) return;
    if (entry.served.length === 0) this.entries.delete(entry.name);
    else this.entries.set(entry.name, { ...entry, served: sortNewestFirst(entry.served) });
    const tool = this.get(entry.name);
    for (const listener of this.listeners) {
      try {
        listener(entry.name, tool);
      } catch (error) {
        this.logger?.error({ err: error, tool: entry.name }, 'registry view listener failed');
      }
    }
  }
}

async function fetchSnapshot(options: RegistryViewOptions): Promise<CatalogSnapshot> {
  const url = new URL(RegistryPaths.catalog, options.registryUrl);
  const response = await fetch(url, {
    headers: {
      accept: 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    signal: AbortSignal.timeout(options.snapshotTimeoutMs ?? 10_000),
  });
  if (!response.ok) {
    const body = (await response.text()).slice(0, 300);
    throw new Error(`registry snapshot ${url.href} answered ${response.status}: ${body}`);
  }
  const parsed = CatalogSnapshot.safeParse(await response.json());
  if (!parsed.success)
    throw new Error(`registry snapshot ${url.href} is malformed: ${parsed.error.message}`);
  return parsed.data;
}

/** Semantic versions, newest first; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2) as [string, string | undefined];
    return { nums: core.split('.').map((n) => Number(n)), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre.localeCompare(y.pre, 'en', { numeric: true });
}

function sortNewestFirst(defs: ToolDefinition[]): ToolDefinition[] {
  return [...defs].sort((a, b) => compareVersions(b.version, a.version));
}
