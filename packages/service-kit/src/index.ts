export { isBearerAuthorized, parseBearerToken, safeEqual } from './bearer.js';
export { ConfigError, isConfigError } from './config-error.js';
export {
  createDeadline,
  createSharedAbortController,
  type Deadline,
  sleep,
  withDeadline,
} from './deadline.js';
export { formatDuration, parseDuration } from './env/duration.js';
export { type Env, loadEnv } from './env/load-env.js';
export {
  booleanVariable,
  choiceVariable,
  durationVariable,
  httpUrlProblem,
  httpUrlVariable,
  integerVariable,
  LOG_LEVELS,
  type LogLevel,
  logLevelVariable,
  optionalText,
  secretVariable,
} from './env/variables.js';
export { bearerAuthHook } from './http/bearer-hook.js';
export { createHttpApp, type HttpAppOptions, markShuttingDown } from './http/create-http-app.js';
export {
  type ClassifyError,
  errorBodySchema,
  type HttpErrorBody,
  registerErrorHandlers,
} from './http/error-handlers.js';
export {
  defineHttpErrors,
  type HttpError,
  type HttpErrorOptions,
} from './http/http-errors.js';
export { type MetricsRouteOptions, metricsRoute } from './http/metrics-route.js';
export { createServiceApp, type ServiceAppOptions } from './http/service-app.js';
export { createLimiter, type Limiter, mapLimit } from './limiter.js';
export {
  createLogger,
  LOGGED_QUERY_KEYS,
  type Logger,
  type LoggerOptions,
  REDACT_PATHS,
  REDACTED,
  redactUrl,
  serializeRequest,
} from './logger.js';
export { fromPackageConfig } from './package-config.js';
export {
  cancelMarginMs,
  type RunningServer,
  type ServeOptions,
  serve,
  waitForSignal,
} from './server/serve.js';
