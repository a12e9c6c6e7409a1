export { crmConfig, crmOwnConfig, loadCrmConfig, type CrmConfig } from './config.js';
export { crmMigrations, SEED_ACCOUNTS } from './migrations/index.js';
export {
  crmTools,
  findCustomerTool,
  getCreditLimitTool,
  updateCreditLimitInput,
  updateCreditLimitTool,
} from './tools/index.js';
export { crmService } from './crm.service.js';
