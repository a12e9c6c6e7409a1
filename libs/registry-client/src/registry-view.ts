import { hostname } from 'node:os';
import {
  CatalogSnapshot,
  Messages,
  RegistryChanged,
  RegistryPaths,
  Topics,
  type CatalogEntry,
  type ToolDefinition,
} from '@toolbus/contracts';
import type { MessageBus, Subscription } from '@toolbus/messaging';
import { Counter, metric, type Logger } from '@toolbus/observability';
import { z } from 'zod';
import { CatalogKeys } from './catalog-keys.js';
import { signatureProblem } from './change-signature.js';

/** The version of a tool that callers get, and whether it is deprecated (serve with a warning). */
export interface ServedTool {
  definition: ToolDefinition;
  deprecated: boolean;
}

export type CatalogListener = (name: string, tool: ServedTool | undefined) => void;

export interface RegistryViewOptions {
  /** Registry base URL, for the start-up snapshot (and, by default, its keys). */
  registryUrl: string;
  /** Bearer token with registry:read and registry:catalog (the whole catalog). */
  token?: string;
  bus: MessageBus;
  /** Names this reader's consumer group: `<service>.registry-view.<instance>`. */
  service: string;
  /** This reader's part of the group name; default the host name (a pod's name). */
  instance?: string;
  logger: Logger;
  /** Give up on the snapshot after this long (default 10 s); start() then rejects. */
  snapshotTimeoutMs?: number;
  /** The registry's public keys; default `<registryUrl>/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** A mounted JWKS file instead of the URL. */
  jwksFile?: string;
  /**
   * A change whose revision runs further ahead of the newest known one (the snapshot's, then
   * each applied change's) is refused: default 10 000.
   */
  maxRevisionAhead?: number;
  /** Least time between two loads of the registry's keys (default 1 s). */
  keyReloadCooldownMs?: number;
}

/** Why a change event was not applied (the metric's `reason`). */
export type RefusalReason =
  | 'malformed'
  | 'unsigned'
  | 'malformed_signature'
  | 'unknown_key'
  | 'bad_signature'
  | 'revision_ahead';

const refused = () =>
  metric(
    'toolbus_registry_view_refused_total',
    (r) =>
      new Counter({
        name: 'toolbus_registry_view_refused_total',
        help: 'Catalog change events a registry view refused (not applied), by reason',
        labelNames: ['reason'],
        registers: [r],
      }),
  );

/** Any JSON object: the signature is checked over the event as it was sent, before parsing. */
const AnyEvent = z.record(z.string(), z.unknown());

/** Unknown-kid events held for the next key reload, at most this many (newest per tool). */
const MAX_DEFERRED = 1000;

/**
 * The consumer group of one reader: every instance reads the whole topic (each keeps its own
 * view), so the group is per service and instance; a group shared by the replicas would split
 * the partitions between them and each would miss the others' changes.
 */
function groupId(service: string, instance = hostname()): string {
  return `${service}.registry-view.${instance.replace(/[^A-Za-z0-9._-]/g, '-')}`;
}

/**
 * A cached, current view of the served catalog: approved and deprecated versions of every tool.
 * It is filled from the registry's snapshot at start-up and kept current by the change events
 * on `toolbus.registry.changes`, never by polling. Each change is applied only when the
 * registry's signature over it holds (keys from its JWKS) and its revision is within a bound of
 * the newest known; anything else is refused, logged and counted, and the view stays as it was.
 * Each instance reads the compacted topic in a consumer group of its own, stable across
 * restarts (offsets committed as it goes); a per-tool revision makes replays and overlaps with
 * the snapshot harmless (newer state wins).
 */
export class RegistryView {
  private readonly entries = new Map<string, CatalogEntry>();
  private readonly listeners = new Set<CatalogListener>();
  private subscription?: Subscription;
  /** The newest revision known: the snapshot's, then every applied change's. */
  private newest = 0;
  private readonly deferred = new Map<string, Record<string, unknown>>();
  private retryTimer?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly logger?: Logger,
    private readonly guard?: { keys: CatalogKeys; maxAhead: number },
  ) {}

  /** Subscribes to the change events, loads the snapshot, and resolves once the view is filled. */
  static async start(options: RegistryViewOptions): Promise<RegistryView> {
    const keys = new CatalogKeys({
      url: options.jwksUrl ?? new URL(RegistryPaths.jwks, options.registryUrl).href,
      file: options.jwksFile,
      cooldownMs: options.keyReloadCooldownMs,
      logger: options.logger,
    });
    const view = new RegistryView(options.logger, {
      keys,
      maxAhead: options.maxRevisionAhead ?? 10_000,
    });
    let loaded!: () => void;
    const snapshotLoaded = new Promise<void>((resolve) => (loaded = resolve));
    view.subscription = await options.bus.subscribe<Record<string, unknown>>(
      {
        topic: Topics.registryChanges,
        groupId: groupId(options.service, options.instance),
        schema: AnyEvent,
        types: [Messages.registryChanged.type],
        fromBeginning: true,
        concurrency: 1,
      },
      async (message) => {
        // The revision bound counts from the snapshot's revision: changes wait for it.
        await snapshotLoaded;
        await view.receive(message.value);
      },
    );
    try {
      await keys.load();
      const snapshot = await fetchSnapshot(options);
      view.newest = snapshot.revision;
      for (const entry of snapshot.tools) view.apply(entry);
      options.logger.info(
        { tools: snapshot.tools.length, revision: snapshot.revision, keys: keys.source },
        'registry snapshot loaded',
      );
    } catch (error) {
      await view.close();
      throw error;
    } finally {
      loaded();
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

  /**
   * Every served version of every tool, newest first per tool: where one tool is served in
   * several regions (a version each), a caller is routed to the one its region allows.
   */
  servedVersions(): ToolDefinition[] {
    return [...this.entries.values()].flatMap((e) => e.served);
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
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.deferred.clear();
    await this.subscription?.stop();
    this.subscription = undefined;
  }

  /** Applies a change event when its signature holds and its revision is within the bound. */
  private async receive(raw: Record<string, unknown>, retried = false): Promise<void> {
    if (this.closed || !this.guard) return;
    const parsed = RegistryChanged.safeParse(raw);
    if (!parsed.success) return this.refuse(raw, 'malformed', parsed.error.issues[0]?.message);
    const event = parsed.data;
    const { keys, maxAhead } = this.guard;
    const couldReload = keys.canReload();
    const problem = await signatureProblem(raw, (kid) => keys.get(kid));
    if (problem?.problem === 'unknown_key' && !couldReload && !retried)
      return this.defer(event.name, raw);
    if (problem) return this.refuse(raw, problem.problem, problem.kid && `kid ${problem.kid}`);
    if (event.revision > this.newest + maxAhead)
      return this.refuse(
        raw,
        'revision_ahead',
        `revision ${event.revision} is more than ${maxAhead} ahead of ${this.newest}`,
      );
    this.newest = Math.max(this.newest, event.revision);
    this.apply(event);
  }

  private refuse(raw: Record<string, unknown>, reason: RefusalReason, detail?: string): void {
    refused().inc({ reason });
    this.logger?.warn(
      { tool: raw['name'], revision: raw['revision'], reason, detail },
      'registry change refused: not applied',
    );
  }

  /**
   * An unknown kid while the keys may not be reloaded yet: the registry may have rotated its
   * key just after the last reload, so the event is checked again once a reload is allowed
   * instead of being lost. The newest such event per tool is kept, a bounded number in all.
   */
  private defer(name: string, raw: Record<string, unknown>): void {
    this.deferred.delete(name);
    if (this.deferred.size >= MAX_DEFERRED) {
      const [oldest] = this.deferred.keys();
      const dropped = this.deferred.get(oldest!)!;
      this.deferred.delete(oldest!);
      this.refuse(dropped, 'unknown_key', 'too many events wait for a key reload');
    }
    this.deferred.set(name, raw);
    if (this.retryTimer) return;
    const delay = Math.max(0, this.guard!.keys.nextReloadAt() - Date.now()) + 10;
    this.retryTimer = setTimeout(() => void this.retryDeferred(), delay);
    this.retryTimer.unref();
  }

  private async retryDeferred(): Promise<void> {
    this.retryTimer = undefined;
    const waiting = [...this.deferred.values()].sort(
      (a, b) => Number(a['revision']) - Number(b['revision']),
    );
    this.deferred.clear();
    for (const raw of waiting) await this.receive(raw, true);
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
