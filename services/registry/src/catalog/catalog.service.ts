import {
  Messages,
  Topics,
  type CatalogSnapshot,
  type LifecycleAction,
  type Principal,
  type RegisterToolRequest,
  type RegisterToolResponse,
  type RegistryChanged,
  type ToolSource,
  type ToolStatus,
  type ToolVersionRecord,
} from '@toolbus/contracts';
import { Counter, metric } from '@toolbus/observability';
import type { EntityManager } from '@toolbus/persistence';
import type { RegistryChangeSigner } from '@toolbus/registry-client';
import type { CredentialOrigins } from '@toolbus/security';
import { ProblemError } from '@toolbus/service-kit';
import { auditEvent } from '../events/audit.js';
import { enqueue, type OutboxRelay } from '../events/outbox.js';
import { hashOf } from './canonical.js';
import { checkRegistration, isReviewer, seesWholeCatalog, visible } from './catalog-access.js';
import { auditingRefusals, Refusal } from './refusal.js';
import { servedDefinition, stateHash, ToolStore, type SearchFilters } from './tool-store.js';

export { isReviewer } from './catalog-access.js';

const TRANSITIONS: Record<LifecycleAction, { from: ToolStatus[]; to: ToolStatus }> = {
  approve: { from: ['draft'], to: 'approved' },
  deprecate: { from: ['approved'], to: 'deprecated' },
  retire: { from: ['draft', 'approved', 'deprecated'], to: 'retired' },
};

const changes = () =>
  metric(
    'toolbus_registry_changes_total',
    (r) =>
      new Counter({
        name: 'toolbus_registry_changes_total',
        help: 'Tool version changes, by action and outcome',
        labelNames: ['action', 'outcome'],
        registers: [r],
      }),
  );

export interface SearchQuery {
  q?: string;
  tags: string[];
  owner?: string;
  region?: string;
  status?: ToolStatus[];
  limit: number;
  cursor?: string;
}

/**
 * The catalog's rules: immutable versions, names owned by one team whose members alone publish
 * them, the lifecycle with four eyes, and for every change an audit event and (for
 * served-state changes) a signed change event, written in the same transaction as the change.
 */
export class CatalogService {
  constructor(
    readonly store: ToolStore,
    private readonly relay: OutboxRelay,
    private readonly signer: Pick<RegistryChangeSigner, 'sign'>,
    private readonly origins: CredentialOrigins,
  ) {}

  /**
   * Creates a draft version; an identical existing version is a no-op, a different one a 409.
   * `author` is whom the draft is recorded as written by (four eyes): the actor, except for an
   * upstream's syncs, whose drafts are the registrant's.
   */
  async register(
    actor: Principal,
    definition: RegisterToolRequest,
    source: ToolSource = { kind: 'api' },
    em?: EntityManager,
    author: Principal = actor,
  ): Promise<RegisterToolResponse> {
    const run = async (tx: EntityManager) => {
      checkRegistration(actor, definition, source, this.origins);
      const hash = hashOf(definition);
      const owner = await this.store.claimName(tx, definition.name, definition.owner);
      if (owner !== definition.owner)
        throw new Refusal(
          409,
          'name_taken',
          `tool name "${definition.name}" belongs to team "${owner}"; choose another name`,
          {
            actor,
            action: 'registry.create_version',
            resource: { kind: 'tool_version', id: `${definition.name}@${definition.version}` },
            region: definition.region,
          },
          { issues: [{ pointer: '/name', message: `belongs to team "${owner}"` }] },
        );
      const existing = await this.store.find(tx, definition.name, definition.version, true);
      if (existing) {
        if (existing.hash === hash)
          return {
            name: definition.name,
            version: definition.version,
            status: existing.status,
            created: false,
          };
        throw new ProblemError(
          409,
          'version_immutable',
          `${definition.name}@${definition.version} already exists with a different definition; versions are immutable, publish a new version`,
          { issues: [{ pointer: '/version', message: 'already exists with another definition' }] },
        );
      }
      const record = await this.store.insert(tx, definition, hash, author.subject, source);
      await enqueue(tx, [
        auditEvent({
          actor,
          action: 'registry.create_version',
          resource: { kind: 'tool_version', id: `${definition.name}@${definition.version}` },
          outcome: 'succeeded',
          region: definition.region,
          hashAfter: stateHash(record),
          details: {
            source,
            definitionHash: hash,
            ...(author.subject !== actor.subject ? { author: author.subject } : {}),
          },
        }),
      ]);
      return {
        name: definition.name,
        version: definition.version,
        status: record.status,
        created: true,
      };
    };
    if (em) return run(em);
    const result = await auditingRefusals(this.store.db, () => this.store.db.transaction(run));
    changes().inc({ action: 'create', outcome: result.created ? 'created' : 'unchanged' });
    this.relay.kick();
    return result;
  }

  /** Approves, deprecates or retires a version. */
  async transition(
    actor: Principal,
    name: string,
    version: string,
    action: LifecycleAction,
    reason?: string,
  ): Promise<ToolVersionRecord> {
    const rule = TRANSITIONS[action];
    let denied: Denial | undefined;
    try {
      const record = await this.store.db.transaction(async (tx) => {
        const before = await this.store.find(tx, name, version, true);
        if (!before) throw notFound(name, version);
        checkTransition(before, action, rule);
        denied = fourEyesDenial(actor, before, action);
        if (denied) throw new ProblemError(403, 'four_eyes', denied.reason);
        const after = await this.store.setStatus(
          tx,
          name,
          version,
          rule.to,
          reason ?? null,
          action === 'approve' ? actor.subject : undefined,
        );
        await this.publishTransition(tx, actor, action, before, after, reason);
        return after;
      });
      changes().inc({ action, outcome: 'succeeded' });
      return record;
    } catch (error) {
      changes().inc({ action, outcome: 'refused' });
      if (denied) await this.auditDenial(actor, action, denied);
      throw error;
    } finally {
      this.relay.kick();
    }
  }

  /**
   * In the transaction of the change: the name's next revision, a change event with every
   * version it now serves, and the audit event with the states before and after.
   */
  private async publishTransition(
    tx: EntityManager,
    actor: Principal,
    action: LifecycleAction,
    before: ToolVersionRecord,
    after: ToolVersionRecord,
    reason: string | undefined,
  ): Promise<void> {
    const { name, version } = after;
    const revision = await this.store.bumpRevision(tx, name);
    const served = await this.store.served(tx, name);
    const change = Messages.registryChanged.schema.parse({
      name,
      revision,
      change: { version, status: after.status as RegistryChanged['change']['status'] },
      served: served.map(servedDefinition),
      actor: actor.subject,
      at: new Date().toISOString(),
    } satisfies RegistryChanged);
    // Signed as stored: readers verify the event exactly as the relay will publish it.
    const signature = await this.signer.sign(change);
    await enqueue(tx, [
      {
        topic: Topics.registryChanges,
        key: name,
        type: Messages.registryChanged.type,
        payload: { ...change, signature },
      },
      auditEvent({
        actor,
        action: `registry.${action}`,
        resource: { kind: 'tool_version', id: `${name}@${version}` },
        outcome: 'succeeded',
        region: after.region,
        reason,
        hashBefore: stateHash(before),
        hashAfter: stateHash(after),
        details: { from: before.status, to: after.status, revision },
      }),
    ]);
  }

  /** The refusal is audited too, in a transaction of its own (the change rolled back). */
  private async auditDenial(
    actor: Principal,
    action: LifecycleAction,
    denied: Denial,
  ): Promise<void> {
    const { record } = denied;
    await this.store.db.transaction((tx) =>
      enqueue(tx, [
        auditEvent({
          actor,
          action: `registry.${action}`,
          resource: { kind: 'tool_version', id: `${record.name}@${record.version}` },
          outcome: 'denied',
          region: record.region,
          reason: denied.reason,
          hashBefore: stateHash(record),
        }),
      ]),
    );
  }

  /**
   * The version `name` resolves to for this caller: the newest approved one, else the newest
   * deprecated one (flagged). Tools the caller lacks the scopes or region for do not exist.
   */
  async resolve(caller: Principal, name: string): Promise<ToolVersionRecord> {
    const served = (await this.store.served(this.store.db, name)).filter((r) => visible(caller, r));
    const record = served.find((r) => r.status === 'approved') ?? served[0];
    if (!record) throw new ProblemError(404, 'not_found', `no approved version of tool "${name}"`);
    return record;
  }

  /** One version: served ones for everybody allowed; drafts and retired ones for reviewers. */
  async version(caller: Principal, name: string, version: string): Promise<ToolVersionRecord> {
    const record = await this.store.find(this.store.db, name, version);
    if (!record || !visible(caller, record)) throw notFound(name, version);
    if (record.status === 'draft' && !isReviewer(caller)) throw notFound(name, version);
    return record;
  }

  async versions(caller: Principal, name: string): Promise<ToolVersionRecord[]> {
    const all = (await this.store.versions(name)).filter((r) => visible(caller, r));
    const shown = isReviewer(caller)
      ? all
      : all.filter((r) => r.status === 'approved' || r.status === 'deprecated');
    if (shown.length === 0) throw new ProblemError(404, 'not_found', `no tool "${name}"`);
    return shown;
  }

  async search(
    caller: Principal,
    query: SearchQuery,
  ): Promise<{ items: ToolVersionRecord[]; nextCursor: string | null }> {
    if (query.status?.some((s) => s === 'draft' || s === 'retired') && !isReviewer(caller))
      throw new ProblemError(
        403,
        'missing_scope',
        'listing drafts or retired versions needs registry:write or registry:approve',
      );
    const filters: SearchFilters = {
      q: query.q,
      tags: query.tags,
      owner: query.owner,
      region: query.region,
      statuses: query.status,
      ...(seesWholeCatalog(caller)
        ? {}
        : { callerScopes: caller.scopes, callerRegions: caller.regions }),
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit,
    };
    const rows = await this.store.search(filters);
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > query.limit && last ? encodeCursor(ToolStore.keyOf(last)) : null,
    };
  }

  /**
   * Every served tool with its revision: all of them for reviewers and registry:catalog
   * holders (the executors), else only the versions the caller may use.
   */
  async snapshot(caller: Principal): Promise<CatalogSnapshot> {
    const snapshot = await this.store.snapshot();
    const whole = seesWholeCatalog(caller);
    return {
      revision: snapshot.revision,
      tools: snapshot.tools.flatMap((t) => {
        const served = whole ? t.served : t.served.filter((r) => visible(caller, r));
        return served.length
          ? [{ name: t.name, revision: t.revision, served: served.map(servedDefinition) }]
          : [];
      }),
    };
  }
}

/** Why an actor may not make a transition, and the version as it was. */
interface Denial {
  reason: string;
  record: ToolVersionRecord;
}

/** A 409 unless the version's status is one the action starts from. */
function checkTransition(
  before: ToolVersionRecord,
  action: LifecycleAction,
  rule: { from: ToolStatus[] },
): void {
  if (!rule.from.includes(before.status))
    throw new ProblemError(
      409,
      'invalid_transition',
      `cannot ${action} ${before.name}@${before.version}: it is ${before.status} (only ${rule.from.join(' or ')} versions can be)`,
    );
}

/** Four eyes: the author of a version may not approve it (the database holds this rule too). */
function fourEyesDenial(
  actor: Principal,
  before: ToolVersionRecord,
  action: LifecycleAction,
): Denial | undefined {
  if (action !== 'approve' || before.author !== actor.subject) return undefined;
  return {
    reason: `four eyes: ${actor.subject} wrote ${before.name}@${before.version} and cannot approve it; another approver must`,
    record: before,
  };
}

function notFound(name: string, version: string): ProblemError {
  return new ProblemError(404, 'not_found', `no version ${version} of tool "${name}"`);
}

function encodeCursor(key: [string, string]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === 2 && key.every((k) => typeof k === 'string'))
      return key as [string, string];
  } catch {
    // falls through to the 422
  }
  throw new ProblemError(422, 'invalid_cursor', 'cursor is not one this API returned', {
    issues: [{ pointer: '/cursor', message: 'is not a cursor this API returned' }],
  });
}
