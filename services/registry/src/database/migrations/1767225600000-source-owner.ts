import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';

/**
 * The team that owns each import source: only its members re-import the source or sync the
 * upstream. Existing sources get the owner their import options or registration named.
 */
export class SourceOwner1767225600000 implements MigrationInterface {
  name = 'SourceOwner1767225600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sources ADD COLUMN owner text');
    await q.query(
      `UPDATE sources SET owner = COALESCE(config->>'owner', config->'upstream'->>'owner', '')`,
    );
    await q.query('ALTER TABLE sources ALTER COLUMN owner SET NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sources DROP COLUMN owner');
  }
}
