export { busFromConfig, runMain, startService, type ServiceOptions } from './bootstrap.js';
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
export { kafkaSecurityFromConfig, type KafkaSecurityConfig } from './kafka-config.js';
export {
  HealthController,
  HealthModule,
  HealthService,
  READINESS_CHECKS,
  type ReadinessCheck,
} from './health.js';
export { PinoNestLogger } from './logger.js';
export { invalidInput, ProblemError, ProblemFilter } from './problem.js';
