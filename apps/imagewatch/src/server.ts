/**
 * `imagewatch run`: the process side. Builds the logger, metrics and real clients, builds the
 * app, listens, and on SIGTERM/SIGINT shuts down inside `IMAGE_WATCH_SHUTDOWN_GRACE` (the
 * running tick may finish, then its calls are aborted; state is flushed). Exit code 0 on a
 * clean shutdown, 1 when the service failed or had to be cut off.
 */
import type { Writable } from 'node:stream';
import { createLogger, serve } from '@molecule/service-kit';
import { buildApp } from './app.js';
import type { ImagewatchConfig } from './config.js';
import { createDeps } from './deps.js';
import { createMetrics } from './metrics.js';

export interface ServerIo {
  readonly stdout: Writable;
  /** The service stops when this resolves. Default: the first SIGTERM or SIGINT. */
  readonly stop?: Promise<string>;
  /** Called once it listens (tests read the port). */
  readonly onListening?: (address: { host: string; port: number }) => void;
}

export async function runServer(config: ImagewatchConfig, io: ServerIo): Promise<number> {
  const logger = createLogger({
    service: 'imagewatch',
    level: config.logLevel,
    destination: io.stdout as never,
  });
  const metrics = createMetrics();
  const deps = createDeps(config, { logger, metrics });
  try {
    const app = await buildApp(config, deps);
    const server = await serve({
      app: app.http,
      host: config.host,
      port: config.port,
      logger,
      graceMs: config.shutdownGraceMs,
      drain: (signal) => app.drain(signal),
      ...(io.stop === undefined ? {} : { stop: io.stop }),
    });
    logger.info(
      {
        host: config.host,
        port: server.address.port,
        registry: config.registry.prefix,
        references: config.targets.length,
        intervalMs: config.intervalMs,
        autoRefresh: config.autoRefresh,
        store: deps.store.describe(),
        leaderRetryMs: config.databaseUrl === undefined ? undefined : config.leaderRetryMs,
        hosts: config.hosts.map((host) => host.name),
        waves: config.waves,
        // Which notification sources POST /hooks/registry accepts (never the secrets).
        hooks: {
          distribution: config.hookToken !== undefined,
          github: config.githubSecret !== undefined,
        },
      },
      config.autoRefresh ? 'imagewatch started' : 'imagewatch started (monitor-only)',
    );
    io.onListening?.(server.address);
    await app.start();
    const code = await server.done;
    logger.info({ store: deps.store.describe() }, 'state flushed, bye');
    return code;
  } catch (error) {
    logger.error({ err: error }, 'imagewatch failed');
    return 1;
  } finally {
    await deps.close();
    logger.flush();
  }
}
