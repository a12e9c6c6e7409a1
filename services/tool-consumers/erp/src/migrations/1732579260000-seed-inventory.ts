import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';

/** Demo products: what the examples, the offline planner and the tests talk about. */
export const SEED_PRODUCTS = [
  { sku: 'BRK-PAD-220', name: 'Ceramic brake pad set, front axle' },
  { sku: 'BAT-18650-30', name: '18650 lithium-ion cell, 3000 mAh' },
  { sku: 'MTR-NEMA17', name: 'NEMA 17 stepper motor, 0.45 Nm' },
  { sku: 'CBL-USBC-2M', name: 'USB-C to USB-C cable, 2 m' },
  { sku: 'SNS-TEMP-01', name: 'Digital temperature sensor module' },
  { sku: 'PCB-CTRL-V3', name: 'Motion controller board, revision 3' },
  { sku: 'FAN-120-PWM', name: '120 mm PWM case fan' },
] as const;

/** Stock per warehouse; a SKU missing from a warehouse is not stocked there. */
export const SEED_INVENTORY = [
  { sku: 'BRK-PAD-220', warehouse: 'berlin', onHand: 340, reserved: 40 },
  { sku: 'BRK-PAD-220', warehouse: 'austin', onHand: 120, reserved: 0 },
  { sku: 'BRK-PAD-220', warehouse: 'tokyo', onHand: 75, reserved: 75 },
  { sku: 'BAT-18650-30', warehouse: 'berlin', onHand: 5000, reserved: 1200 },
  { sku: 'BAT-18650-30', warehouse: 'austin', onHand: 2500, reserved: 300 },
  { sku: 'BAT-18650-30', warehouse: 'tokyo', onHand: 8000, reserved: 500 },
  { sku: 'MTR-NEMA17', warehouse: 'berlin', onHand: 60, reserved: 12 },
  { sku: 'MTR-NEMA17', warehouse: 'austin', onHand: 0, reserved: 0 },
  { sku: 'MTR-NEMA17', warehouse: 'tokyo', onHand: 25, reserved: 5 },
  { sku: 'CBL-USBC-2M', warehouse: 'berlin', onHand: 1500, reserved: 0 },
  { sku: 'CBL-USBC-2M', warehouse: 'austin', onHand: 900, reserved: 100 },
  { sku: 'CBL-USBC-2M', warehouse: 'tokyo', onHand: 2200, reserved: 0 },
  { sku: 'SNS-TEMP-01', warehouse: 'berlin', onHand: 400, reserved: 25 },
  { sku: 'SNS-TEMP-01', warehouse: 'tokyo', onHand: 150, reserved: 0 },
  { sku: 'PCB-CTRL-V3', warehouse: 'berlin', onHand: 18, reserved: 3 },
  { sku: 'PCB-CTRL-V3', warehouse: 'austin', onHand: 7, reserved: 7 },
  { sku: 'FAN-120-PWM', warehouse: 'austin', onHand: 650, reserved: 50 },
  { sku: 'FAN-120-PWM', warehouse: 'tokyo', onHand: 300, reserved: 20 },
] as const;

export class SeedInventory1732579260000 implements MigrationInterface {
  name = 'SeedInventory1732579260000';

  async up(q: QueryRunner): Promise<void> {
    for (const p of SEED_PRODUCTS)
      await q.query('INSERT INTO products (sku, name) VALUES ($1, $2)', [p.sku, p.name]);
    for (const i of SEED_INVENTORY)
      await q.query(
        'INSERT INTO inventory (sku, warehouse, on_hand, reserved) VALUES ($1, $2, $3, $4)',
        [i.sku, i.warehouse, i.onHand, i.reserved],
      );
  }

  async down(q: QueryRunner): Promise<void> {
    const skus = SEED_PRODUCTS.map((p) => p.sku);
    await q.query('DELETE FROM reservations WHERE sku = ANY($1)', [skus]);
    await q.query('DELETE FROM inventory WHERE sku = ANY($1)', [skus]);
    await q.query('DELETE FROM products WHERE sku = ANY($1)', [skus]);
  }
}
