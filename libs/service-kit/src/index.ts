export { busFromConfig, runMain } from './bootstrap.js';
export {
  commonConfig,
  ConfigError,
  configSourceFile,
  configTable,
  env,
  loadConfig,
  type ConfigOf,
  type ConfigSpec,
  type ConfigVar,
} from './config.js';
export { DATA_SOURCE, LOGGER, SERVICE_CONFIG, SERVICE_CONTEXT } from './context.js';
export { urlDatabase, type DatabaseConnector, type DatabaseRequest } from './database.js';
export { kafkaSecurityFromConfig, type KafkaSecurityConfig } from './kafka-config.js';
export { Draining, Readiness, type ReadinessCheck } from './health.js';
export { startManagementServer, type ManagementServer } from './management.js';
export { mtlsFromConfig, TlsFiles, type MtlsSettings } from './tls.js';
export { PinoNestLogger } from './logger.js';
export { invalidInput, ProblemError, ProblemFilter, sendProblem } from './problem.js';
export {
  defineService,
  runService,
  startService,
  type RunningService,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceHost,
  type Worker,
} from './service.js';
export { Public, PUBLIC_ROUTE } from './public.decorator.js';
