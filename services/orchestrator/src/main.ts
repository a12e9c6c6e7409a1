import './tracing.js';
import { runService } from '@toolbus/service-kit';
import { orchestratorService } from './orchestrator.service.js';

runService(orchestratorService);
