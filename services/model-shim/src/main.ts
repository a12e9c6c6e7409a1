import './tracing.js';
import { runService } from '@toolbus/service-kit';
import { modelShimService } from './model-shim.service.js';

runService(modelShimService);
