import type { Tool } from '@toolbus/tool-sdk';
import { getInventoryTool } from './get-inventory.tool.js';
import { reserveStockTool } from './reserve-stock.tool.js';

export { getInventoryTool, reserveStockTool };
export { reserveStockInput } from './reserve-stock.tool.js';

/** The ERP's tools. */
export const erpTools: Tool[] = [getInventoryTool, reserveStockTool];
