/**
 * The LISTEN side of replica messaging, on a dedicated connection (LISTEN hears only on the
 * session that ran it, so never a pooled one), plus `notify` on the same connection. Every
 * replica runs one; the leadership decides what a message means (only the leader acts).
 *
 * The connection is pinged every `retryMs` (a half-open connection would otherwise hear
 * nothing, silently) and reconnected with backoff after any error. The ping asks for the
 * backend pid: one that changes means a pooler in transaction mode (`onPooled`). Messages sent while it is
 * down are lost: they are hints (the leader's next tick and its store reads catch up), and
 * `notify` rejects meanwhile so the sender can say so.
 */
import type { Logger } from '@molecule/service-kit';
import type pg from 'pg';
import {
  describeDatabaseError,
  StoreUnavailableError,
  toStoreError,
} from '../store/store-errors.js';
import { campaignDelay } from './backoff.js';
import { connectDedicated, dropClient } from './dedicated-client.js';
import { CHANNELS } from './messages.js';

export interface NotifyListenerOptions {
  readonly url: string;
  readonly queryTimeoutMs: number;
  /** Ping interval and the cap of the reconnect backoff. */
  readonly retryMs: number;
  readonly logger: Logger;
  readonly onNotification: (channel: string, payload: string | undefined) => void;
  /** Its backend changed between statements: a pooler in transaction mode is in the way. */
  readonly onPooled: () => void;
  readonly now: () => Date;
  readonly random: () => number;
}

export interface NotifyListener {
  start(): void;
  notify(channel: string, payload: string): Promise<void>;
  /** The backend pid serving a statement on this connection now (undefined when down). */
  backendPid(): Promise<number | undefined>;
  /** Undefined while listening, else why not and since when. */
  problem(): { readonly since: string; readonly reason: string } | undefined;
  stop(): Promise<void>;
}

export function createNotifyListener(options: NotifyListenerOptions): NotifyListener {
  const { logger } = options;
  let client: pg.Client | undefined;
  /** The backend at connect; a real session keeps it to the end. */
  let pid: number | undefined;
  let listening = false;
  let failures = 0;
  let down: { since: string; reason: string } | undefined = {
    since: options.now().toISOString(),
    reason: 'not connected yet',
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let cycle: Promise<void> | undefined;

  function fail(reason: string): void {
    if (down === undefined) {
      logger.warn({ reason }, 'replica messaging connection lost: reconnecting');
      down = { since: options.now().toISOString(), reason };
    } else down = { ...down, reason };
    listening = false;
    const dead = client;
    client = undefined;
    if (dead !== undefined) void dropClient(dead);
  }

  async function connect(): Promise<void> {
    const fresh = await connectDedicated({
      url: options.url,
      queryTimeoutMs: options.queryTimeoutMs,
      applicationName: 'imagewatch-listener',
      onError: (error) => {
        if (client === fresh) fail(describeDatabaseError(error));
      },
    });
    if (stopped) {
      await dropClient(fresh);
      return;
    }
    fresh.on('notification', (message) => options.onNotification(message.channel, message.payload));
    client = fresh;
    pid = await currentPid(fresh);
    // Identifiers, not parameters: LISTEN takes no bind values (the names are constants).
    for (const channel of CHANNELS) await fresh.query(`LISTEN ${channel}`);
    listening = true;
    failures = 0;
    if (down !== undefined && down.reason !== 'not connected yet') {
      logger.info({ downSince: down.since }, 'replica messaging connection back');
    }
    down = undefined;
  }

  async function currentPid(on: pg.Client): Promise<number | undefined> {
    const { rows } = await on.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return rows[0]?.pid;
  }

  async function run(): Promise<void> {
    timer = undefined;
    try {
      if (client === undefined || !listening) await connect();
      else if ((await currentPid(client)) !== pid) options.onPooled();
    } catch (error) {
      failures += 1;
      fail(describeDatabaseError(error));
    }
    if (stopped) return;
    const wait = listening
      ? options.retryMs
      : campaignDelay({
          retryMs: options.retryMs,
          failures,
          steppedDown: false,
          random: options.random(),
        });
    timer = setTimeout(() => {
      cycle = run();
    }, wait);
    timer.unref();
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      cycle = run();
    },
    async notify(channel, payload) {
      const current = client;
      if (current === undefined || !listening) {
        throw new StoreUnavailableError('notify', down?.reason ?? 'not connected');
      }
      try {
        await current.query('SELECT pg_notify($1, $2)', [channel, payload]);
      } catch (error) {
        const typed = toStoreError('notify', error);
        if (typed.code === 'STORE_UNAVAILABLE' && client === current) fail(typed.message);
        throw typed;
      }
    },
    async backendPid() {
      const current = client;
      if (current === undefined || !listening) return undefined;
      const now = await currentPid(current);
      if (now !== pid) options.onPooled();
      return now;
    },
    problem: () => down,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await cycle;
      const last = client;
      client = undefined;
      listening = false;
      if (last !== undefined) await dropClient(last);
    },
  };
}
