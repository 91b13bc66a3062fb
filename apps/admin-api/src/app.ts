/**
 * `buildApp(config, deps)`: admin-api's routes and the refresh service, wired. Pure wiring:
 * the engine client and the credential resolver come in through `deps`, nothing listens and
 * nothing reads the environment (server.ts listens; config.ts reads the environment).
 */
import swagger from '@fastify/swagger';
import { createSignatureVerifier, type SignatureVerifier } from '@molecule/image-signatures';
import type { CredentialResolver, RegistryClient } from '@molecule/registry-client';
import { bearerAuthHook, createServiceApp, type Logger } from '@molecule/service-kit';
import type Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import packageJson from '../package.json' with { type: 'json' };
import type { Config } from './config.js';
import { classifyError } from './errors.js';
import type { Metrics } from './metrics.js';
import { createRefreshService, type RefreshService } from './refresh/service.js';
import { healthRoutes } from './routes/health.js';
import { imagesRoutes } from './routes/images.js';
import { refreshRoutes } from './routes/refresh.js';

export interface AppDeps {
  readonly docker: Docker;
  readonly credentials: CredentialResolver;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * Reads the registry for the signed-image gate (tag digests, signatures); required unless
   * `MOLECULE_IMAGE_SIGNATURES` is off.
   */
  readonly registry?: Pick<
    RegistryClient,
    'getManifestDigest' | 'getManifest' | 'getBlob' | 'getReferrers'
  >;
  /** Engine API version negotiated at start, shown in the OpenAPI description. */
  readonly engineApiVersion?: string;
}

export interface AdminApp {
  readonly http: FastifyInstance;
  readonly refreshService: RefreshService;
}

/**
 * @example
 * const { http } = await buildApp(loadConfig(), { docker, credentials, logger, metrics });
 * await http.inject({ method: 'GET', url: '/healthz' });
 */
/** The gate's verifier when signatures are checked (mode warn or enforce). */
function signatureVerifier(
  config: Config,
  registry: AppDeps['registry'],
): SignatureVerifier | undefined {
  if (config.signatures.mode === 'off') return undefined;
  if (registry === undefined) {
    throw new Error('signature checks need a registry client (AppDeps.registry)');
  }
  return createSignatureVerifier({ client: registry, policy: config.signatures });
}

export async function buildApp(config: Config, deps: AppDeps): Promise<AdminApp> {
  const { logger, metrics } = deps;
  const http = await createServiceApp({
    logger,
    classifyError,
    metrics: metrics.registry,
    // First, so the OpenAPI document sees every route.
    first: async (app) => {
      await app.register(swagger, {
        openapi: {
          openapi: '3.0.3',
          info: {
            title: '@molecule/admin-api',
            description:
              'Pulls workspace template images through the Docker engine and recreates ws-* ' +
              `containers. Registry: ${config.registry.prefix}` +
              (deps.engineApiVersion ? `; Engine API v${deps.engineApiVersion}.` : '.'),
            version: packageJson.version,
          },
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        },
      });
    },
  });
  const verifier = signatureVerifier(config, deps.registry);
  const verification =
    verifier === undefined || deps.registry === undefined
      ? {}
      : { verifier, registry: deps.registry };
  const refreshService = createRefreshService({
    docker: deps.docker,
    credentials: deps.credentials,
    registryHost: config.registry.host,
    platform: config.registry.platform,
    env: config.registry.env,
    stopGraceSeconds: config.stopGraceSeconds,
    pullTimeoutMs: config.pullTimeoutMs,
    pullConcurrency: config.pullConcurrency,
    queueLimit: config.refreshQueueLimit,
    metrics,
    logger,
    ...verification,
  });

  http.addHook('onResponse', async (request, reply) => {
    metrics.requestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  await http.register(healthRoutes, { service: refreshService });
  await http.register(async (admin) => {
    // Authentication first, on every /admin/* route, before parsing or validation.
    admin.addHook('onRequest', bearerAuthHook(config.adminToken, 'admin-api'));
    await admin.register(refreshRoutes, { service: refreshService });
    await admin.register(imagesRoutes, { service: refreshService });
  });
  http.get('/openapi.json', { schema: { hide: true } }, async () => http.swagger());
  await http.ready();
  return { http, refreshService };
}
