import './tracing.js';
import { runService } from '@toolbus/service-kit';
import { httpExecutorService } from './http-executor.service.js';

runService(httpExecutorService);
