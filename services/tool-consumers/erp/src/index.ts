export { erpConfig, loadErpConfig, type ErpConfig } from './config.js';
export { erpMigrations, SEED_INVENTORY, SEED_PRODUCTS } from './migrations/index.js';
export { erpTools, getInventoryTool, reserveStockInput, reserveStockTool } from './tools/index.js';
export { erpService } from './erp.service.js';
