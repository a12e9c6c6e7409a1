import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';

/** Tools, their immutable versions, import and upstream sources, and the outbox. */
export class CreateRegistry1764028800000 implements MigrationInterface {
  name = 'CreateRegistry1764028800000';

  async up(q: QueryRunner): Promise<void> {
    // One row per tool name: who owns the name, and the revision of its latest change.
    await q.query(`
      CREATE TABLE tools (
        name text PRIMARY KEY CONSTRAINT tools_name_format CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$'),
        owner text NOT NULL,
        revision bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE SEQUENCE registry_revision');
    await q.query(`
      CREATE TABLE tool_versions (
        name text NOT NULL REFERENCES tools (name),
        version text NOT NULL,
        -- Sorts like semantic versions: zero-padded numbers; a release after its pre-releases.
        version_key text NOT NULL,
        definition jsonb NOT NULL,
        hash text NOT NULL CONSTRAINT tool_versions_hash_format CHECK (hash ~ '^[0-9a-f]{64}$'),
        status text NOT NULL DEFAULT 'draft'
          CONSTRAINT tool_versions_status CHECK (status IN ('draft', 'approved', 'deprecated', 'retired')),
        author text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        approved_by text,
        approved_at timestamptz,
        status_changed_at timestamptz NOT NULL DEFAULT now(),
        status_reason text,
        source jsonb NOT NULL DEFAULT '{"kind":"api"}',
        search text NOT NULL,
        PRIMARY KEY (name, version),
        -- Four eyes, held by the database too: nobody approves their own version.
        CONSTRAINT tool_versions_four_eyes CHECK (approved_by IS NULL OR approved_by <> author)
      )`);
    await q.query('CREATE INDEX tool_versions_status ON tool_versions (status, name)');
    await q.query(`
      CREATE TABLE sources (
        name text PRIMARY KEY,
        kind text NOT NULL CONSTRAINT sources_kind CHECK (kind IN ('openapi', 'mcp')),
        config jsonb NOT NULL DEFAULT '{}',
        -- Per tool name: the operation and the hash of the definition last imported.
        tools jsonb NOT NULL DEFAULT '{}',
        document_hash text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_sync_at timestamptz,
        last_sync_error text
      )`);
    // Events commit with the change they describe; the relay publishes them afterwards.
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        key text NOT NULL,
        type text NOT NULL,
        event_id uuid NOT NULL UNIQUE,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query('CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE outbox');
    await q.query('DROP TABLE sources');
    await q.query('DROP TABLE tool_versions');
    await q.query('DROP SEQUENCE registry_revision');
    await q.query('DROP TABLE tools');
  }
}
