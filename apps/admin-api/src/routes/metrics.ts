import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.js';

export interface MetricsRoutesOptions {
  readonly metrics: Metrics;
}

export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { metrics }) => {
  app.get('/metrics', {
    schema: { summary: 'Prometheus metrics', produces: ['text/plain'] },
    handler: async (_request, reply) => {
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    },
  });
};
