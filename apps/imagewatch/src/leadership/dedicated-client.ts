/**
 * A connection of its own (never from a pool): the leader's lock lives as long as its
 * session, and LISTEN only hears on the session that ran it. Both notice a dead peer quickly:
 * TCP keepalive from the first second, a bound on every query (the server's
 * statement_timeout and the client's read timeout), a bound on connecting.
 */
import type pg from 'pg';
import { pgModule } from '../store/pg-module.js';

export interface DedicatedClientOptions {
  readonly url: string;
  readonly queryTimeoutMs: number;
  /** Shows in pg_stat_activity, so an operator can tell the leader's session apart. */
  readonly applicationName: string;
  /** The connection failed after it was established (terminated backend, network). */
  readonly onError: (error: Error) => void;
}

/** Keepalive probes start after this much silence (the kernel's default is two hours). */
const KEEPALIVE_DELAY_MS = 1_000;
/** How long `dropClient` lets a polite goodbye take before it destroys the socket. */
const GOODBYE_MS = 1_000;

export async function connectDedicated(options: DedicatedClientOptions): Promise<pg.Client> {
  const client = new (pgModule().Client)({
    connectionString: options.url,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    connectionTimeoutMillis: options.queryTimeoutMs,
    statement_timeout: options.queryTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    application_name: options.applicationName,
  });
  // Registered before connect: an 'error' without a listener would crash the process.
  client.on('error', options.onError);
  try {
    await client.connect();
  } catch (error) {
    void dropClient(client);
    throw error;
  }
  return client;
}

/**
 * Ends `client` without waiting on a dead peer: a polite goodbye first (the server releases
 * the session's locks at once), then the socket is destroyed, since a half-open connection
 * never answers the goodbye. Never rejects; later errors of the client are ignored.
 */
export async function dropClient(client: pg.Client): Promise<void> {
  client.removeAllListeners('notification');
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const destroyed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      // pg has no public destroy(); its socket is `connection.stream` (pg 8.x).
      const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } })
        .connection?.stream;
      stream?.destroy?.();
      resolve();
    }, GOODBYE_MS);
    timer.unref();
  });
  await Promise.race([client.end().catch(() => undefined), destroyed]);
  clearTimeout(timer);
}
