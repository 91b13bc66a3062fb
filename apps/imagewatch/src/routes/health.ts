import type { FastifyPluginAsync } from 'fastify';
import type { StoreHealth } from '../store/watch-store.js';
import type { Watcher } from '../watch/watcher.js';

export interface HealthRouteOptions {
  readonly watcher: Pick<Watcher, 'health'>;
  /** The state store's health: a write that keeps failing makes the service `degraded`. */
  readonly store: { health(): StoreHealth };
}

const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'unhealthy'] },
    state: {
      type: 'object',
      properties: { ok: { type: 'boolean' }, reason: { type: 'string' } },
      required: ['ok'],
    },
    lastSuccessfulTick: { type: ['string', 'null'] },
    lastTick: { type: ['string', 'null'] },
    ticking: { type: 'boolean' },
  },
  required: ['status'],
} as const;

/**
 * `GET /healthz`: 200 while ticks succeed (`degraded` when the state cannot be persisted: it
 * works, but a restart would forget), 503 after `UNHEALTHY_AFTER_INTERVALS` without a good tick.
 */
export const healthRoute: FastifyPluginAsync<HealthRouteOptions> = async (
  app,
  { watcher, store },
) => {
  app.get(
    '/healthz',
    { schema: { response: { 200: healthSchema, 503: healthSchema } } },
    async (_request, reply) => {
      const health = watcher.health();
      const state = store.health();
      const iso = (at: number | undefined) =>
        at === undefined ? null : new Date(at).toISOString();
      return reply.code(health.healthy ? 200 : 503).send({
        status: !health.healthy ? 'unhealthy' : state.ok ? 'ok' : 'degraded',
        state,
        lastSuccessfulTick: iso(health.lastSuccessAt),
        lastTick: iso(health.lastTickAt),
        ticking: health.ticking,
      });
    },
  );
};
