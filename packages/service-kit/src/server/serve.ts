/**
 * The process side of a service, the same for both: listen, wait for SIGTERM/SIGINT, then
 * shut down inside one bounded grace period:
 *
 * 1. new requests get 503 `SHUTTING_DOWN` with `Connection: close`; the listener closes;
 * 2. the app drains (`drain(signal)`): in-flight work finishes, and `signal` aborts when the
 *    grace is nearly over so the app cancels what is left cleanly and still answers;
 * 3. idle keep-alive connections are closed as soon as they are idle, busy ones once their
 *    response is written; at the end of the grace whatever is left is cut.
 *
 * The exit code is 0 when everything closed inside the grace, 1 when it had to be cut or the
 * app failed. fastify's `pluginTimeout` (10 s) bounds close hooks, so the drain runs here
 * rather than in a `preClose` hook, where a long refresh made shutdown fail at 10 s.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { markShuttingDown } from '../http/create-http-app.js';

export interface ServeOptions {
  readonly app: FastifyInstance;
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  /** The whole shutdown's bound, from the signal to the last connection closed. */
  readonly graceMs: number;
  /**
   * Stops taking work and lets in-flight work end; cancels what is left when `signal` aborts,
   * which it does at `cancelAt` (epoch ms), a margin before the grace ends.
   */
  readonly drain?: (signal: AbortSignal, cancelAt: number) => Promise<void>;
  /** Resolves when the service should stop. Default: the first SIGTERM or SIGINT. */
  readonly stop?: Promise<string>;
}

export interface RunningServer {
  /** Where it listens (the port the OS chose for port 0). */
  readonly address: { readonly host: string; readonly port: number };
  /** Resolves with the exit code once the service has shut down. */
  readonly done: Promise<number>;
  /** Shuts down now; resolves with the exit code. */
  shutdown(reason: string): Promise<number>;
}

/** How much of the grace is kept for cancelling and answering after the drain signal. */
export function cancelMarginMs(graceMs: number): number {
  return Math.min(3_000, Math.max(250, Math.round(graceMs * 0.2)));
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { app, logger, graceMs } = options;
  await app.listen({ host: options.host, port: options.port });
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;

  let shutdownPromise: Promise<number> | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });

  async function runShutdown(reason: string): Promise<number> {
    const started = Date.now();
    logger.info({ reason, graceMs }, 'shutting down');
    markShuttingDown(app);
    const cancel = new AbortController();
    const cancelInMs = Math.max(0, graceMs - cancelMarginMs(graceMs));
    const cancelTimer = setTimeout(() => cancel.abort(), cancelInMs);
    let cut = false;
    let hardTimer: NodeJS.Timeout | undefined;
    const hardDeadline = new Promise<void>((resolve) => {
      hardTimer = setTimeout(() => {
        cut = true;
        resolve();
      }, graceMs);
    });
    // Connections that were busy become idle once their response is written: close them then.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
    let failed = false;
    const closing = app.close().catch((error: unknown) => {
      failed = true;
      logger.error({ err: error }, 'closing the HTTP server failed');
    });
    try {
      await Promise.race([
        (options.drain?.(cancel.signal, started + cancelInMs) ?? Promise.resolve()).catch(
          (error: unknown) => {
            failed = true;
            logger.error({ err: error }, 'draining in-flight work failed');
          },
        ),
        hardDeadline,
      ]);
      await Promise.race([closing, hardDeadline]);
      if (cut) {
        logger.warn({ graceMs }, 'grace period over: closing the remaining connections');
        app.server.closeAllConnections();
        await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      }
    } finally {
      clearTimeout(cancelTimer);
      clearTimeout(hardTimer);
      clearInterval(sweep);
    }
    const code = failed || cut ? 1 : 0;
    logger.info({ durationMs: Date.now() - started, exitCode: code }, 'shut down');
    resolveDone(code);
    return code;
  }

  const running: RunningServer = {
    address: { host: options.host, port },
    done,
    shutdown(reason) {
      shutdownPromise ??= runShutdown(reason);
      return shutdownPromise;
    },
  };
  (options.stop ?? waitForSignal()).then((reason) => running.shutdown(reason));
  return running;
}

/** The first SIGTERM or SIGINT. A second one ends the process at once (the default action). */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
