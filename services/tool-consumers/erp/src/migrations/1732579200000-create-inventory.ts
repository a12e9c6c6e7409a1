import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';

/**
 * Products, stock per warehouse and reservations. The checks on `inventory` are the last line
 * of defence: whatever a tool does, the database refuses to reserve more than is on hand.
 */
export class CreateInventory1732579200000 implements MigrationInterface {
  name = 'CreateInventory1732579200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE products (
        sku text PRIMARY KEY CONSTRAINT products_sku_format CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{2,31}$'),
        name text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE inventory (
        sku text NOT NULL REFERENCES products (sku),
        warehouse text NOT NULL
          CONSTRAINT inventory_warehouse_format CHECK (warehouse ~ '^[a-z][a-z0-9_-]{1,31}$'),
        on_hand integer NOT NULL CONSTRAINT inventory_on_hand_not_negative CHECK (on_hand >= 0),
        reserved integer NOT NULL DEFAULT 0
          CONSTRAINT inventory_reserved_not_negative CHECK (reserved >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sku, warehouse),
        CONSTRAINT inventory_reserved_within_on_hand CHECK (reserved <= on_hand)
      )`);
    await q.query(`
      CREATE TABLE reservations (
        id serial PRIMARY KEY,
        sku text NOT NULL,
        warehouse text NOT NULL,
        quantity integer NOT NULL CONSTRAINT reservations_quantity_positive CHECK (quantity > 0),
        order_id text NOT NULL,
        idempotency_key text NOT NULL CONSTRAINT reservations_idempotency_key_key UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (sku, warehouse) REFERENCES inventory (sku, warehouse)
      )`);
    await q.query('CREATE INDEX reservations_order ON reservations (order_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE reservations');
    await q.query('DROP TABLE inventory');
    await q.query('DROP TABLE products');
  }
}
