export { loadOrchestratorConfig, orchestratorConfig, type OrchestratorConfig } from './config.js';
export { orchestratorService } from './orchestrator.service.js';
export { callKey } from './asks/agent-loop.js';
export { askBinding, invocationBinding, toolListBinding } from './edge/edge-trust.js';
