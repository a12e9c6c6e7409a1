export { loadRegistryConfig, registryConfig, type RegistryConfig } from './config.js';
export { registryService, startRegistry, type RunningRegistry } from './registry.service.js';
