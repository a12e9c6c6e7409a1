export { busFromConfig, runMain, startService, type ServiceOptions } from './bootstrap.js';
export {
  commonConfig,
  ConfigError,
  configTable,
  env,
  loadConfig,
  type ConfigOf,
  type ConfigSpec,
  type ConfigVar,
} from './config.js';
export {
  HealthController,
  HealthModule,
  HealthService,
  READINESS_CHECKS,
  type ReadinessCheck,
} from './health.js';
export { PinoNestLogger } from './logger.js';
export { invalidInput, ProblemError, ProblemFilter } from './problem.js';
export { Public, PUBLIC_ROUTE } from './public.decorator.js';
