import './tracing.js';
import { runService } from '@toolbus/service-kit';
import { crmService } from './crm.service.js';

runService(crmService);
