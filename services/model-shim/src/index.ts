export { modelShimConfig, loadModelShimConfig, type ModelShimConfig } from './config.js';
export { modelShimService } from './model-shim.service.js';
