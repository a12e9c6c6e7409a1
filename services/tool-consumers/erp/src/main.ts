import './tracing.js';
import { runService } from '@toolbus/service-kit';
import { erpService } from './erp.service.js';

runService(erpService);
