import type { FastifyPluginAsync } from 'fastify';
import type { Watcher } from '../watch/watcher.js';

export interface HealthRouteOptions {
  readonly watcher: Pick<Watcher, 'health'>;
}

const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'unhealthy'] },
    lastSuccessfulTick: { type: ['string', 'null'] },
    lastTick: { type: ['string', 'null'] },
    ticking: { type: 'boolean' },
  },
  required: ['status'],
} as const;

/** `GET /healthz`: 200 while ticks succeed, 503 after `UNHEALTHY_AFTER_INTERVALS` without one. */
export const healthRoute: FastifyPluginAsync<HealthRouteOptions> = async (app, { watcher }) => {
  app.get(
    '/healthz',
    { schema: { response: { 200: healthSchema, 503: healthSchema } } },
    async (_request, reply) => {
      const health = watcher.health();
      const iso = (at: number | undefined) =>
        at === undefined ? null : new Date(at).toISOString();
      return reply.code(health.healthy ? 200 : 503).send({
        status: health.healthy ? 'ok' : 'unhealthy',
        lastSuccessfulTick: iso(health.lastSuccessAt),
        lastTick: iso(health.lastTickAt),
        ticking: health.ticking,
      });
    },
  );
};
