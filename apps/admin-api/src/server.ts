/**
 * The process side of admin-api: the logger, metrics and the engine connection, the app,
 * listening, and a shutdown bounded by `ADMIN_API_SHUTDOWN_GRACE` (waiting refreshes answered
 * 503 `SHUTTING_DOWN`, the running one finished or cancelled cleanly, exit 0).
 */
import type { Writable } from 'node:stream';
import { createCredentialResolver, createRegistryClient } from '@molecule/registry-client';
import { createLogger, serve } from '@molecule/service-kit';
import { buildApp } from './app.js';
import { type Config, describeConfig } from './config.js';
import { connectEngine } from './engine/connect.js';
import { createMetrics } from './metrics.js';

export interface ServerIo {
  readonly stdout: Writable;
  /** The service stops when this resolves. Default: the first SIGTERM or SIGINT. */
  readonly stop?: Promise<string>;
}

export async function runServer(config: Config, io: ServerIo): Promise<number> {
  const logger = createLogger({
    service: 'admin-api',
    level: config.logLevel,
    destination: io.stdout as never,
  });
  const credentials = createCredentialResolver({ settings: config.registry });
  // The signed-image gate reads the registry itself (tag digests, signatures).
  const registry =
    config.signatures.mode === 'off'
      ? undefined
      : createRegistryClient({ settings: config.registry, credentials });
  try {
    const engine = await connectEngine(config.docker);
    const { http, refreshService } = await buildApp(config, {
      docker: engine.docker,
      credentials,
      ...(registry === undefined ? {} : { registry }),
      logger,
      metrics: createMetrics(),
      ...(engine.apiVersion ? { engineApiVersion: engine.apiVersion } : {}),
    });
    logger.info(
      { config: describeConfig(config), engineApiVersion: engine.apiVersion ?? 'unversioned' },
      'starting admin-api',
    );
    const server = await serve({
      app: http,
      host: config.host,
      port: config.port,
      logger,
      graceMs: config.shutdownGraceMs,
      drain: (signal, cancelAt) => refreshService.drain(signal, cancelAt),
      ...(io.stop === undefined ? {} : { stop: io.stop }),
    });
    return await server.done;
  } catch (error) {
    logger.error({ err: error }, 'admin-api failed');
    return 1;
  } finally {
    await registry?.close();
    logger.flush();
  }
}
