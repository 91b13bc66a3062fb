/**
 * The HTTP app both services start from, with what both always have: the kit's fastify
 * instance (request log, 503 on shutdown), the app's one error and not-found handler, and
 * `GET /metrics`.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createHttpApp } from './create-http-app.js';
import { type ClassifyError, registerErrorHandlers } from './error-handlers.js';
import { metricsRoute } from './metrics-route.js';

export interface ServiceAppOptions {
  readonly logger: Logger;
  readonly classifyError: ClassifyError;
  readonly metrics: Registry;
  /** Registered before any route, e.g. an OpenAPI generator that must see every route. */
  readonly first?: (http: FastifyInstance) => Promise<void>;
}

export async function createServiceApp(options: ServiceAppOptions): Promise<FastifyInstance> {
  const http = createHttpApp({ logger: options.logger });
  registerErrorHandlers(http, options.classifyError);
  await options.first?.(http);
  await http.register(metricsRoute, { registry: options.metrics });
  return http;
}
