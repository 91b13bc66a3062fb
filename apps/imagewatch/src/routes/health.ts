import type { FastifyPluginAsync } from 'fastify';
import type { StoreHealth } from '../store/watch-store.js';
import type { Watcher } from '../watch/watcher.js';

export interface HealthRouteOptions {
  readonly watcher: Pick<Watcher, 'health'>;
  /** The state store's health: a write that keeps failing makes the service `degraded`. */
  readonly store: { health(): StoreHealth };
  /** Leader or follower, and the leadership's own health (database reachable, a pooler in the way). */
  readonly leadership: { isLeader(): boolean; health(): StoreHealth };
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
    role: { type: 'string', enum: ['leader', 'follower'] },
    leadership: {
      type: 'object',
      properties: { ok: { type: 'boolean' }, reason: { type: 'string' } },
      required: ['ok'],
    },
  },
  required: ['status'],
} as const;

/**
 * `GET /healthz`: 200 while ticks succeed (`degraded` when the state cannot be persisted: it
 * works, but a restart would forget); 503 `unhealthy` on the leader after
 * `UNHEALTHY_AFTER_INTERVALS` without a good tick, and on any replica whose leadership is in
 * trouble (the database unreachable, a pooler in the way, a newer epoch downstream). A
 * follower never ticks, so tick age does not count there. The process keeps serving and
 * retrying either way: use it for readiness and alerts; restarting does not fix a database.
 */
export const healthRoute: FastifyPluginAsync<HealthRouteOptions> = async (
  app,
  { watcher, store, leadership },
) => {
  app.get(
    '/healthz',
    { schema: { response: { 200: healthSchema, 503: healthSchema } } },
    async (_request, reply) => {
      const health = watcher.health();
      const state = store.health();
      const leader = leadership.isLeader();
      const role = leadership.health();
      // A leadership in trouble (the database unreachable, a pooler in the way, a newer epoch
      // downstream) means no replica here may act: unhealthy, whichever role.
      const healthy = role.ok && (!leader || health.healthy);
      const iso = (at: number | undefined) =>
        at === undefined ? null : new Date(at).toISOString();
      return reply.code(healthy ? 200 : 503).send({
        status: !healthy ? 'unhealthy' : state.ok ? 'ok' : 'degraded',
        role: leader ? 'leader' : 'follower',
        leadership: role,
        state,
        lastSuccessfulTick: iso(health.lastSuccessAt),
        lastTick: iso(health.lastTickAt),
        ticking: health.ticking,
      });
    },
  );
};
