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
export {
  HARBOR_CLOUDEVENTS_PUSH_TYPE,
  HARBOR_PUSH_TYPE,
  HarborCloudEvent,
  HarborEventData,
  HarborRepository,
  HarborResource,
  HarborWebhook,
  parseHarborCloudEvent,
  parseHarborWebhook,
} from './harbor-events.js';
export {
  isBearerAuthorized,
  isGitHubSignatureValid,
  safeEqual,
  signGitHubPayload,
} from './hook-auth.js';
export {
  createHookDispatcher,
  DEFAULT_HOOK_COALESCE_MS,
  type HookDispatcher,
  type HookDispatcherOptions,
} from './hook-dispatcher.js';
export {
  createHookMatcher,
  DistributionEnvelope,
  DistributionEvent,
  GitHubPackage,
  GitHubPackageEvent,
  GitHubRegistryPackageEvent,
  type HookMatcher,
  type HookParseResult,
  type HookSource,
  type HookVerdict,
  type IgnoreReason,
  type PushNotice,
  parseDistributionEnvelope,
  parseGitHubDelivery,
} from './hook-events.js';
export { type BearerFormat, bearerFormatOf, parseBearerDelivery } from './hook-formats.js';
export {
  DEFAULT_HOOK_BODY_LIMIT,
  HOOKS_PATH,
  type HookOutcome,
  type HooksRouteOptions,
  hooksRoute,
} from './hooks-route.js';
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
