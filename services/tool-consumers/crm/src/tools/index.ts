import type { Tool } from '@toolbus/tool-sdk';
import type { CrmConfig } from '../config.js';
import { findCustomerTool } from './find-customer.tool.js';
import { getCreditLimitTool } from './get-credit-limit.tool.js';
import { updateCreditLimitTool } from './update-credit-limit.tool.js';

export { findCustomerTool, getCreditLimitTool, updateCreditLimitTool };
export { updateCreditLimitInput } from './update-credit-limit.tool.js';

/** The CRM's tools, with the settings they depend on. */
export function crmTools(config: Pick<CrmConfig, 'CRM_MAX_CREDIT_LIMIT'>): Tool[] {
  return [
    findCustomerTool,
    getCreditLimitTool,
    updateCreditLimitTool({ maxCreditLimit: config.CRM_MAX_CREDIT_LIMIT }),
  ];
}
