export {
  type AdminClient,
  type AdminClientOptions,
  createAdminClient,
  type RefreshResult,
  type WorkspaceImage,
} from './admin-client.js';
export { runCli, USAGE } from './cli.js';
export {
  EnvSchema,
  type ImagewatchConfig,
  loadConfig,
  parseDuration,
  syntheticTargets,
  type WatchTarget,
} from './config.js';
export {
  type Decision,
  type DecisionInput,
  decide,
  digestToRecord,
  type LocalObservation,
  type RemoteObservation,
  shortDigest,
} from './decide.js';
export { AdminApiError, ConfigError, ImagewatchError, type ImagewatchErrorCode } from './errors.js';
export { createLogger } from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
export { buildServer } from './server.js';
export {
  createRegistryClientFor,
  createService,
  type Service,
  type ServiceOptions,
} from './service.js';
export { createStateStore, type StateStore } from './state-store.js';
export {
  type CheckResult,
  createWatcher,
  type TickReport,
  type Watcher,
  type WatcherDeps,
} from './watcher.js';
