/**
 * The fastify instance both services start from: the kit's logger (one request log line per
 * request, query values redacted; probes at debug so health checks do not flood the log),
 * no request timeout (a refresh may take minutes; the app bounds its own work), and a
 * `503 SHUTTING_DOWN` answer with `Connection: close` for requests that arrive once shutdown
 * has begun (fastify's own 503 has no `code`).
 */
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';

export interface HttpAppOptions {
  readonly logger: Logger;
  /** Routes logged at debug instead of info (health probes, scrapes). */
  readonly quietPaths?: readonly string[];
  readonly bodyLimit?: number;
}

const DEFAULT_QUIET_PATHS = ['/healthz', '/readyz', '/metrics'];
const shuttingDown = new WeakSet<FastifyInstance>();

export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // Our onResponse hook writes the one line per request (fastify's would log the raw URL).
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 0,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
  }) as unknown as FastifyInstance;
  const quiet = new Set(options.quietPaths ?? DEFAULT_QUIET_PATHS);

  app.addHook('onRequest', async (_request, reply) => {
    if (!shuttingDown.has(app)) return;
    reply.header('connection', 'close');
    await reply.code(503).send({ error: 'service is shutting down', code: 'SHUTTING_DOWN' });
  });
  app.addHook('onResponse', async (request, reply) => {
    const fields = {
      req: request,
      res: { statusCode: reply.statusCode },
      responseTime: Math.round(reply.elapsedTime * 10) / 10,
    };
    const path = request.url.split('?')[0] ?? '';
    if (quiet.has(path) && reply.statusCode < 400) request.log.debug(fields, 'request completed');
    else request.log.info(fields, 'request completed');
  });
  return app;
}

/** From now on `app` answers new requests with 503 `SHUTTING_DOWN` (serve() calls it). */
export function markShuttingDown(app: FastifyInstance): void {
  shuttingDown.add(app);
}
