import type { FastifyPluginAsync } from 'fastify';
import type { RefreshService } from '../refresh/service.js';

export interface HealthRoutesOptions {
  readonly service: RefreshService;
}

/** `/healthz`: the process answers. `/readyz`: the engine answers `_ping` too. */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { service }) => {
  const status = {
    type: 'object',
    properties: { status: { type: 'string' } },
    required: ['status'],
  } as const;

  app.get('/healthz', {
    schema: { summary: 'Process liveness', response: { 200: status } },
    handler: async () => ({ status: 'ok' }),
  });

  app.get('/readyz', {
    schema: {
      summary: 'Readiness: the Docker engine answers ping',
      response: { 200: status, 503: status },
    },
    handler: async (_request, reply) => {
      if (await service.ping()) return { status: 'ready' };
      return reply.code(503).send({ status: 'engine unreachable' });
    },
  });
};
