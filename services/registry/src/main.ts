import './tracing.js';
import { runService } from '@toolbus/service-kit';
import { registryService } from './registry.service.js';

runService(registryService);
