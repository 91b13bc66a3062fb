/**
 * The HTTP side of `imagewatch run`: `GET /healthz`, `GET /metrics` (Prometheus text) and,
 * when a hook secret is set, `POST /hooks/registry` (hooks-route.ts).
 * `buildServer` only builds (tests use `app.inject`); the CLI listens and shuts down.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { type HooksRouteOptions, hooksRoute } from './hooks-route.js';
import type { Metrics } from './metrics.js';
import type { Watcher } from './watcher.js';

export interface ServerDeps {
  watcher: Pick<Watcher, 'health'>;
  metrics: Metrics;
  /** Registry notifications; the route exists only when one of the two secrets is set. */
  hooks?: HooksRouteOptions;
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({ logger: false });

  const { hooks } = deps;
  if (hooks !== undefined && (hooks.hookToken !== undefined || hooks.githubSecret !== undefined)) {
    app.register(hooksRoute, hooks);
  }

  app.get(
    '/healthz',
    {
      schema: {
        response: {
          200: healthSchema,
          503: healthSchema,
        },
      },
    },
    async (_request, reply) => {
      const health = deps.watcher.health();
      const body = {
        status: health.healthy ? 'ok' : 'unhealthy',
        lastSuccessfulTick:
          health.lastSuccessAt === undefined ? null : new Date(health.lastSuccessAt).toISOString(),
        lastTick:
          health.lastTickAt === undefined ? null : new Date(health.lastTickAt).toISOString(),
        ticking: health.ticking,
      };
      return reply.code(health.healthy ? 200 : 503).send(body);
    },
  );

  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(text);
  });

  return app;
}

const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'unhealthy'] },
    lastSuccessfulTick: { type: ['string', 'null'] },
    lastTick: { type: ['string', 'null'] },
    ticking: { type: 'boolean' },
  },
} as const;
