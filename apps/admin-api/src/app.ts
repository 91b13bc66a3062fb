import swagger from '@fastify/swagger';
import type { CredentialResolver } from '@molecule/registry-client';
import type Docker from 'dockerode';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createBearerAuthHook } from './auth.js';
import type { Config } from './config.js';
import { isAdminApiError } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createRefreshService, type RefreshService } from './refresh/refresh-service.js';
import { healthRoutes } from './routes/health.js';
import { imagesRoutes } from './routes/images.js';
import { metricsRoutes } from './routes/metrics.js';
import { refreshRoutes } from './routes/refresh.js';

export interface AppDeps {
  readonly docker: Docker;
  readonly credentials: CredentialResolver;
  readonly metrics?: Metrics;
  /** Where JSON logs go (default stdout); tests pass a sink to inspect them. */
  readonly logStream?: { write(line: string): void };
  /** How long close() lets a running refresh finish before aborting its pulls. */
  readonly shutdownTimeoutMs?: number;
  /** Engine API version negotiated at start, shown in the OpenAPI description. */
  readonly engineApiVersion?: string;
}

/** Header and field names whose values never reach the logs. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-registry-auth"]',
  'headers.authorization',
  'headers["x-registry-auth"]',
  '*.authorization',
  '*["x-registry-auth"]',
  '*.password',
  '*.identityToken',
  '*.registryAuth',
  '*.adminToken',
  '*.token',
];

export type App = FastifyInstance & { readonly refreshService: RefreshService };

/**
 * Build the app: logger, metrics, the refresh service and the routes. Pure wiring: it never
 * listens and never reads the environment (main.ts does both).
 *
 * @example
 * const app = await buildApp(loadConfig(), { docker, credentials });
 * await app.inject({ method: 'GET', url: '/healthz' });
 */
export async function buildApp(config: Config, deps: AppDeps): Promise<App> {
  const logger: FastifyServerOptions['logger'] = {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(deps.logStream ? { stream: deps.logStream } : {}),
  };
  const app = Fastify({
    logger,
    // A refresh may legitimately run for minutes (pull timeout × runtimes / concurrency).
    requestTimeout: 0,
  });
  const metrics = deps.metrics ?? createMetrics();
  const service = createRefreshService({
    docker: deps.docker,
    credentials: deps.credentials,
    registryHost: config.registryHost,
    platform: config.platform,
    env: config.env,
    stopGraceSeconds: config.stopGraceSeconds,
    pullTimeoutMs: config.pullTimeoutMs,
    pullConcurrency: config.pullConcurrency,
    queueLimit: config.refreshQueueLimit,
    metrics,
    logger: app.log,
  });
  app.decorate('refreshService', service);

  app.setErrorHandler((error, request, reply) => {
    const err = error as Error & { statusCode?: number; validation?: unknown; code?: string };
    if (err.validation) {
      return reply.code(400).send({ error: err.message, code: 'BAD_REQUEST' });
    }
    if (isAdminApiError(err)) {
      if (err.statusCode >= 500)
        request.log.warn({ code: err.code, err: err.message }, 'request failed');
      return reply.code(err.statusCode).send({ error: err.message, code: err.code });
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status < 500) return reply.code(status).send({ error: err.message });
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ error: 'internal error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));

  app.addHook('onResponse', async (request, reply) => {
    metrics.requestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.addHook('preClose', async () => {
    await service.close(deps.shutdownTimeoutMs ?? 30_000);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: '@molecule/admin-api',
        description:
          'Pulls workspace template images through the Docker engine and recreates ws-* ' +
          `containers. Registry: ${config.registryPrefix}` +
          (deps.engineApiVersion ? `; Engine API v${deps.engineApiVersion}.` : '.'),
        version: '0.1.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  await app.register(healthRoutes, { service });
  await app.register(metricsRoutes, { metrics });
  await app.register(async (admin) => {
    // Authentication first, on every /admin/* route, before parsing or validation.
    admin.addHook('onRequest', createBearerAuthHook(config.adminToken));
    await admin.register(refreshRoutes, { service });
    await admin.register(imagesRoutes, { service });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app as unknown as App;
}
