export { type App, type AppDeps, buildApp, REDACTED_PATHS } from './app.js';
export { createBearerAuthHook, createTokenCheck } from './auth.js';
export {
  type Config,
  configSchema,
  type DockerConnection,
  describeConfig,
  loadConfig,
  parseDuration,
} from './config.js';
export { chooseApiVersion, connectEngine, createDocker, MAX_API_VERSION } from './engine.js';
export {
  AdminApiError,
  type AdminApiErrorCode,
  ConfigError,
  isAdminApiError,
} from './errors.js';
export { createMetrics, type Metrics } from './metrics.js';
export { type PullOutcome, type PullProgress, pullImage } from './refresh/pull.js';
export {
  createRefreshService,
  type RefreshEvent,
  type RefreshOutcome,
  type RefreshRequest,
  type RefreshResult,
  type RefreshService,
} from './refresh/refresh-service.js';
