import './tracing.js';
import { runService } from '@toolbus/service-kit';
import { mcpBridgeService } from './mcp-bridge.service.js';

runService(mcpBridgeService);
