/**
 * Leadership over PostgreSQL: the leader is the replica whose dedicated session holds the
 * session-level advisory lock `LEADER_LOCK_KEY` (pg_try_advisory_lock; held until unlocked or
 * the session ends, whatever happens to transactions).
 *
 * - Takeover: lock granted → on the same session, `imagewatch_leader.epoch + 1` → `onEpoch`
 *   (the store acts under it) → only then `leader: true`. Epochs rise strictly, one per
 *   takeover, so admin-api refuses a late, stale leader (X-Rollout-Epoch).
 * - Staying leader: `confirm()` before every tick and refresh call, and a heartbeat every
 *   `retryMs / 2`, ask pg_locks whether this very session still holds the lock. Any doubt (an
 *   error, a timeout, a connection error event) steps down at once and drops the connection.
 * - Campaign: followers try every `[0.5, 1) × retryMs`, after errors with capped backoff
 *   (backoff.ts), so one takes over within `retryMs` of the lock being freed. The schema is
 *   migrated by the first connection (migrations.ts; idempotent), so it does not matter
 *   whether the store was opened first.
 * - A pooler in transaction mode (pgbouncer `pool_mode = transaction`) breaks session locks:
 *   statements of one client land on different server sessions, and a lock taken on a pooled
 *   server connection answers "yes" to the next client given it. Signs looked for: the
 *   backend pid changing between statements of a "dedicated" connection (every attempt,
 *   confirm and listener ping), a fresh session already holding the lock, and our lock and
 *   listener connections sharing one backend (checked before a takeover is reported). Any of
 *   them makes this replica refuse leadership for good (logged, health). Measured with
 *   pgbouncer 1.18: every replica refuses (test/leadership/pgbouncer.integration.test.ts).
 *   The URL must point at PostgreSQL or a session-mode pool.
 * - Messages (notify-listener.ts): a follower's `requestCheck`/`announceRollout` is a NOTIFY;
 *   only the leader delivers them to its listeners. On the leader they short-circuit to the
 *   local listeners (no round trip).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '@molecule/service-kit';
import type pg from 'pg';
import { redactDatabaseUrl } from '../store/database-url.js';
import { LEADER_LOCK_KEY, LEADER_LOCK_OBJID, LOCK_CLASS_ID, migrate } from '../store/migrations.js';
import { describeDatabaseError } from '../store/store-errors.js';
import { campaignDelay, heartbeatDelay } from './backoff.js';
import { connectDedicated, dropClient } from './dedicated-client.js';
import {
  createListeners,
  type Leadership,
  type LeadershipHealth,
  type LeadershipMetrics,
} from './leadership.js';
import { encodeMessage, isMessageToken, type LeaderMessage, parseMessage } from './messages.js';
import { createNotifyListener } from './notify-listener.js';

export interface PostgresLeadershipOptions {
  readonly url: string;
  /** `IMAGE_WATCH_LEADER_RETRY`: how often a follower tries for the lock (default 5 s). */
  readonly retryMs: number;
  /** Bound of every statement and connect on the dedicated connections. */
  readonly queryTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics?: LeadershipMetrics;
  /** Called with the new epoch at each takeover, before `onChange(true)`. */
  readonly onEpoch?: (epoch: number) => void;
  /** Who this replica is, in logs and `imagewatch_leader.holder` (default host-pid-random). */
  readonly replicaId?: string;
  readonly now?: () => Date;
  readonly random?: () => number;
}

interface LockSession {
  readonly client: pg.Client;
  /** The backend of this session at connect: it never changes on a real dedicated session. */
  readonly pid: number;
}

/** A bigint advisory key shows in pg_locks as classid (high half), objid (low), objsubid 1. */
const HELD_HERE = `EXISTS (
    SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
      AND classid = ${LOCK_CLASS_ID}::oid AND objid = ${LEADER_LOCK_OBJID}::oid AND objsubid = 1
      AND granted)`;
/**
 * The try, and whether this session held the lock already (read first: the materialized CTE
 * is evaluated before the outer row). A fresh session of a follower never does; when it does,
 * the "session" is a pooled server connection another client locked on, and the re-entrant
 * lock would say yes to a second leader.
 */
const TRY_LOCK = `
  WITH before AS MATERIALIZED (SELECT ${HELD_HERE} AS already)
  SELECT before.already, pg_try_advisory_lock($1::bigint) AS locked, pg_backend_pid() AS pid
  FROM before`;
const TAKE_EPOCH = `
  INSERT INTO imagewatch_leader (id, epoch, holder, taken_at) VALUES (1, 1, $1, now())
  ON CONFLICT (id) DO UPDATE
    SET epoch = imagewatch_leader.epoch + 1, holder = EXCLUDED.holder, taken_at = EXCLUDED.taken_at
  RETURNING epoch, pg_backend_pid() AS pid`;
const CONFIRM = `SELECT pg_backend_pid() AS pid, ${HELD_HERE} AS held`;
const POOLER =
  'the dedicated connection is not one session (its backend changed between statements, or it already held the lock it never took): a pooler in transaction or statement mode (pgbouncer) is in the way, and session advisory locks do not work through it; point IMAGE_WATCH_DATABASE_URL at PostgreSQL or a session-mode pool';

export function createPostgresLeadership(options: PostgresLeadershipOptions): Leadership {
  const { logger, retryMs, queryTimeoutMs } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const replicaId =
    options.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const log = logger.child({ replica: replicaId, database: redactDatabaseUrl(options.url) });
  const onListenerError = (error: unknown) =>
    log.error({ err: error }, 'a leadership listener threw');
  const change = createListeners<boolean>(onListenerError);
  const checks = createListeners<string>(onListenerError);
  const announced = createListeners<string>(onListenerError);

  let lock: LockSession | undefined;
  let leader = false;
  let taken = 0;
  let failures = 0;
  let steppedDown = false;
  let schemaReady = false;
  /** Why the last attempt could not reach the database, since when. */
  let trouble: { since: string; reason: string } | undefined;
  let refused: string | undefined;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let cycle: Promise<void> | undefined;
  let inCycle = false;
  let confirming: Promise<boolean> | undefined;

  const listener = createNotifyListener({
    url: options.url,
    queryTimeoutMs,
    retryMs,
    logger: log,
    now,
    random,
    onPooled: () => refuse(POOLER),
    onNotification(channel, payload) {
      const parsed = parseMessage(channel, payload);
      if (!parsed.ok) {
        log.warn({ channel, reason: parsed.reason }, 'replica message dropped');
        return;
      }
      // Followers hear every message too; only the leader acts on them.
      if (leader) deliver(parsed.message);
    },
  });

  function deliver(message: LeaderMessage): void {
    if (message.kind === 'check') checks.emit(message.runtime);
    else announced.emit(message.id);
  }

  function schedule(): void {
    clearTimeout(timer);
    timer = undefined;
    if (stopped || refused !== undefined) return;
    const ms = leader
      ? heartbeatDelay(retryMs)
      : campaignDelay({ retryMs, failures, steppedDown, random: random() });
    timer = setTimeout(() => {
      cycle = runCycle();
    }, ms);
    timer.unref();
  }

  async function runCycle(): Promise<void> {
    timer = undefined;
    if (stopped || refused !== undefined) return;
    inCycle = true;
    try {
      if (leader) await confirm();
      else await campaign();
    } finally {
      inCycle = false;
    }
    schedule();
  }

  /** Drops the lock session; a leader steps down at once (no refresh call after this). */
  function lose(reason: string): void {
    const session = lock;
    lock = undefined;
    if (session !== undefined) void dropClient(session.client);
    if (!leader) return;
    leader = false;
    steppedDown = true;
    options.metrics?.leader.set(0);
    log.error({ epoch: taken, reason }, 'stepped down: the leader lock or its connection is lost');
    change.emit(false);
    if (!inCycle) schedule();
  }

  function refuse(reason: string): void {
    if (refused !== undefined) return;
    refused = reason;
    log.error({ reason }, 'refusing leadership');
    lose(reason);
    clearTimeout(timer);
  }

  async function openSession(): Promise<LockSession> {
    let session: LockSession | undefined;
    const client = await connectDedicated({
      url: options.url,
      queryTimeoutMs,
      applicationName: 'imagewatch-leader',
      onError: (error) => {
        if (session !== undefined && lock === session) {
          lose(`connection error: ${describeDatabaseError(error)}`);
        }
      },
    });
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      if (!schemaReady) {
        await migrate(client, log);
        schemaReady = true;
      }
      session = { client, pid: rows[0]?.pid ?? -1 };
      return session;
    } catch (error) {
      void dropClient(client);
      throw error;
    }
  }

  /** The backend of another connection of ours: the listener's, or a short-lived probe's. */
  async function otherBackendPid(): Promise<number | undefined> {
    const listened = await listener.backendPid().catch(() => undefined);
    if (listened !== undefined) return listened;
    const probe = await connectDedicated({
      url: options.url,
      queryTimeoutMs,
      applicationName: 'imagewatch-probe',
      onError: () => undefined,
    });
    try {
      const { rows } = await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      return rows[0]?.pid;
    } finally {
      void dropClient(probe);
    }
  }

  function reached(): void {
    failures = 0;
    if (trouble !== undefined) {
      log.info({ downSince: trouble.since }, 'database reachable again: campaigning');
      trouble = undefined;
    }
  }

  async function campaign(): Promise<void> {
    // The slower first retry after stepping down applies once (it was this wait).
    steppedDown = false;
    try {
      lock ??= await openSession();
      const session = lock;
      const { rows } = await session.client.query<{
        already: boolean;
        locked: boolean;
        pid: number;
      }>(TRY_LOCK, [LEADER_LOCK_KEY]);
      reached();
      if (rows[0]?.pid !== session.pid || rows[0]?.already === true) return refuse(POOLER);
      if (rows[0]?.locked !== true || stopped) return;
      // Granted: the epoch is taken on this same session, before anything is reported.
      const { rows: took } = await session.client.query<{ epoch: string; pid: number }>(
        TAKE_EPOCH,
        [replicaId],
      );
      if (took[0]?.pid !== session.pid) return refuse(POOLER);
      // Our two connections on one backend cannot be two sessions: a pooler handing the same
      // server connection to both (pgbouncer's transaction mode, idle, reuses the last one).
      if ((await otherBackendPid()) === session.pid) return refuse(POOLER);
      if (stopped || lock !== session || refused !== undefined) return;
      taken = Number(took[0]?.epoch);
      try {
        options.onEpoch?.(taken);
      } catch (error) {
        onListenerError(error);
      }
      leader = true;
      options.metrics?.leader.set(1);
      options.metrics?.takeovers?.inc();
      log.warn({ epoch: taken }, 'took leadership');
      change.emit(true);
    } catch (error) {
      failures += 1;
      const reason = describeDatabaseError(error);
      if (trouble === undefined) {
        trouble = { since: now().toISOString(), reason };
        log.warn({ reason }, 'cannot campaign for leadership: retrying with backoff');
      } else {
        trouble = { ...trouble, reason };
        log.debug({ reason, failures }, 'campaign attempt failed');
      }
      lose(reason);
    }
  }

  async function check(session: LockSession): Promise<boolean> {
    try {
      const { rows } = await session.client.query<{ pid: number; held: boolean }>(CONFIRM);
      if (lock !== session || !leader) return false;
      if (rows[0]?.pid !== session.pid) {
        refuse(POOLER);
        return false;
      }
      if (rows[0]?.held !== true) {
        lose('this session no longer holds the lock');
        return false;
      }
      return true;
    } catch (error) {
      if (lock === session) lose(`confirm failed: ${describeDatabaseError(error)}`);
      return false;
    }
  }

  function confirm(): Promise<boolean> {
    const session = lock;
    if (!leader || session === undefined) return Promise.resolve(false);
    confirming ??= check(session).finally(() => {
      confirming = undefined;
    });
    return confirming;
  }

  async function send(message: LeaderMessage): Promise<void> {
    const value = message.kind === 'check' ? message.runtime : message.id;
    if (!isMessageToken(value)) {
      throw new RangeError(`not a runtime or rollout id: ${JSON.stringify(value.slice(0, 64))}`);
    }
    if (leader) {
      queueMicrotask(() => deliver(message));
      return;
    }
    const { channel, payload } = encodeMessage(message);
    await listener.notify(channel, payload);
  }

  return {
    isLeader: () => leader,
    confirm,
    epoch: () => taken,
    onChange: change.add,
    requestCheck: (runtime) => send({ kind: 'check', runtime, from: replicaId }),
    onCheckRequested: checks.add,
    announceRollout: (id) => send({ kind: 'rollout', id, from: replicaId }),
    onRolloutAnnounced: announced.add,
    health(): LeadershipHealth {
      if (refused !== undefined) return { ok: false, reason: refused };
      const problems: string[] = [];
      if (trouble !== undefined && !leader) {
        problems.push(
          `database unreachable since ${trouble.since} (campaigning for leadership): ${trouble.reason}`,
        );
      }
      const messaging = listener.problem();
      if (!stopped && messaging !== undefined) {
        problems.push(`replica messaging down since ${messaging.since}: ${messaging.reason}`);
      }
      return problems.length === 0 ? { ok: true } : { ok: false, reason: problems.join('; ') };
    },
    start() {
      if (!stopped) return;
      stopped = false;
      options.metrics?.leader.set(0);
      listener.start();
      cycle = runCycle();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await cycle;
      await confirming;
      const session = lock;
      lock = undefined;
      if (leader) {
        leader = false;
        options.metrics?.leader.set(0);
        log.info({ epoch: taken }, 'stepped down: stopping');
        change.emit(false);
      }
      if (session !== undefined) {
        // Unlocking lets a follower take over at its next try instead of after the session ends.
        await session.client
          .query('SELECT pg_advisory_unlock($1::bigint)', [LEADER_LOCK_KEY])
          .catch(() => undefined);
        await dropClient(session.client);
      }
      await listener.stop();
    },
  };
}
