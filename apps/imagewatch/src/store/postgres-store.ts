/**
 * The state store on PostgreSQL (`IMAGE_WATCH_DATABASE_URL`), for any number of replicas
 * sharing one database. Same contract as the state file (watch-store.ts, file-store.ts):
 *
 * - `commit` is one transaction: each update is `UPDATE … WHERE version = <version - 1>`
 *   (row locks taken in id order, so two commits never deadlock on each other); any miss
 *   rolls everything back and resolves false. A commit that changes nothing writes nothing.
 * - Rows hold the whole rollout as JSONB plus the columns that are filtered and ordered on.
 * - Every active rollout and the newest `KEEP_FINISHED_ROLLOUTS` finished ones are kept
 *   (pruned in the same transaction; rows another commit holds are skipped, never waited on).
 * - The epoch is the leader's: the leadership module takes it at each takeover and hands it
 *   over with `adoptEpoch`; before that, `epoch()` is the database's current value. (`open()`
 *   takes no epoch here, unlike the file store: followers must not bump it.)
 *
 * Outages: every query is bounded (`queryTimeoutMs`: statement_timeout on the server, a read
 * timeout and a connect timeout on the client); a failure that means "unreachable" is a
 * `StoreUnavailableError`, health turns degraded and a probe re-checks until the database
 * answers again. The pool drops broken connections and opens new ones, so nothing restarts.
 */
import type { Logger } from '@molecule/service-kit';
import type pg from 'pg';
import { FINAL_STATES, type Rollout } from '../rollouts/rollout.js';
import { redactDatabaseUrl } from './database-url.js';
import { RolloutSchema } from './file-store.js';
import { importIntoDatabase } from './import-state-file.js';
import {
  migrate,
  PRUNE_ROLLOUTS,
  rolloutValues,
  UPDATE_ROLLOUT,
  UPSERT_ROLLOUT,
  UPSERT_SEEN,
} from './migrations.js';
import { pgModule } from './pg-module.js';
import { StoreError, toStoreError } from './store-errors.js';
import {
  KEEP_FINISHED_ROLLOUTS,
  type RolloutFilter,
  type SeenDigest,
  type StoreCommit,
  type StoreHealth,
  type WatchStore,
} from './watch-store.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (the password never reaches a log). */
  readonly url: string;
  readonly logger: Logger;
  /** Upper bound of every statement and connect; keep it below the check interval. */
  readonly queryTimeoutMs: number;
  /** Connections of the pool (default 4: ticks, hooks and the API share them). */
  readonly poolSize?: number;
  /** While degraded, how often the database is probed (default min(queryTimeoutMs, 2 s)). */
  readonly probeIntervalMs?: number;
  /** Called when an operation fails (metrics). */
  readonly onError?: (operation: string) => void;
  readonly now?: () => Date;
}

/** What the file store has and PostgreSQL imports (state-file version 1 or 2). */
export interface ImportableState {
  readonly epoch: number;
  readonly images: Readonly<Record<string, SeenDigest>>;
  readonly rollouts: readonly Rollout[];
}

export type ImportOutcome =
  | {
      readonly kind: 'imported';
      readonly images: number;
      readonly rollouts: number;
      /** The database's epoch after the import (at least the file's). */
      readonly epoch: number;
    }
  | { readonly kind: 'skipped'; readonly reason: 'not-empty' };

export interface PostgresExtras {
  /** The leadership module took this epoch (a takeover): act under it from now on. */
  adoptEpoch(epoch: number): void;
  /** True when the database holds no seen digest and no rollout. */
  isEmpty(): Promise<boolean>;
  /**
   * Writes `state` in one transaction, only when the database is empty (checked under an
   * advisory lock, so of replicas importing at once exactly one does); raises the stored
   * epoch to at least the file's, so admin-api never sees an epoch go back.
   */
  importState(state: ImportableState): Promise<ImportOutcome>;
}

export type PostgresStore = WatchStore & PostgresExtras;

const FINAL = [...FINAL_STATES];
/** Commits that lost a deadlock or serialisation race are retried this many times. */
const MAX_COMMIT_ATTEMPTS = 3;
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

type Row = { rollout: unknown };

export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const { logger, queryTimeoutMs } = options;
  const now = options.now ?? (() => new Date());
  const database = redactDatabaseUrl(options.url);
  const probeMs = options.probeIntervalMs ?? Math.min(queryTimeoutMs, 2_000);
  const pool = new (pgModule().Pool)({
    connectionString: options.url,
    max: options.poolSize ?? 4,
    keepAlive: true,
    connectionTimeoutMillis: queryTimeoutMs,
    // The server cancels first (a clean 57014); the client's read timeout is the backstop
    // for a server that went silent (a half-open connection).
    statement_timeout: queryTimeoutMs,
    query_timeout: queryTimeoutMs + 1_000,
    // A client that vanished mid-transaction must not hold row locks for long.
    idle_in_transaction_session_timeout: Math.max(5_000, queryTimeoutMs * 2),
    idleTimeoutMillis: 30_000,
    application_name: 'imagewatch',
  });
  let epoch = 0;
  let outage: { since: string; reason: string } | undefined;
  let probe: NodeJS.Timeout | undefined;
  let probing = false;
  let closed = false;

  function failed(operation: string, error: unknown): StoreError {
    const typed = toStoreError(operation, error);
    options.onError?.(operation);
    if (typed.code === 'STORE_UNAVAILABLE') markDown(typed.message);
    return typed;
  }

  function markDown(reason: string): void {
    if (closed) return;
    if (outage === undefined) {
      outage = { since: now().toISOString(), reason };
      logger.error({ database, reason }, 'database unreachable: operations fail until it is back');
    } else {
      outage = { ...outage, reason };
    }
    // One probe at a time: against a host that drops packets each waits the connect timeout,
    // and overlapping ones would take the pool's connections from real work.
    probe ??= setInterval(() => {
      if (probing) return;
      probing = true;
      pool
        .query('SELECT 1')
        .then(markUp, () => undefined)
        .finally(() => {
          probing = false;
        });
    }, probeMs);
    probe.unref();
  }

  function markUp(): void {
    if (outage === undefined) return;
    logger.info({ database, downSince: outage.since }, 'database reachable again');
    outage = undefined;
    clearInterval(probe);
    probe = undefined;
  }

  // An idle connection whose server went away emits 'error' on the pool; without a listener
  // that would crash the process. A shutdown or a lost socket is an outage (health says so
  // even without traffic); anything else (idle_session_timeout) only costs that connection.
  pool.on('error', (error) => {
    const typed = toStoreError('idle connection', error);
    if (typed.code === 'STORE_UNAVAILABLE') markDown(typed.message);
    else logger.debug({ database, reason: typed.message }, 'idle database connection closed');
  });

  async function query<R extends Record<string, unknown>>(
    operation: string,
    text: string,
    values: unknown[] = [],
  ): Promise<R[]> {
    try {
      const result = await pool.query<R>(text, values);
      markUp();
      return result.rows;
    } catch (error) {
      throw failed(operation, error);
    }
  }

  /** Runs `work` on one pooled connection; a connection that failed is destroyed, not reused. */
  async function withClient<T>(
    operation: string,
    work: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw failed(operation, error);
    }
    // A checked-out client has no pool listener: its socket dying would be unhandled.
    const onError = () => undefined;
    client.on('error', onError);
    let problem: unknown;
    try {
      const result = await work(client);
      markUp();
      return result;
    } catch (error) {
      problem = error;
      throw failed(operation, error);
    } finally {
      client.off('error', onError);
      client.release(problem === undefined ? undefined : true);
    }
  }

  function parseRollout(row: Row): Rollout {
    const parsed = RolloutSchema.safeParse(row.rollout);
    if (parsed.success) return parsed.data as Rollout;
    const id = (row.rollout as { id?: unknown } | null)?.id;
    const issue = parsed.error.issues[0];
    throw new StoreError(
      'STORE_BAD_DATA',
      'read',
      `rollout ${String(id)} in the database is not a rollout: ${issue?.message ?? 'invalid'} at ${issue?.path.join('.') ?? ''}`,
    );
  }

  async function commitOnce(change: StoreCommit): Promise<boolean> {
    const updates = [...(change.update ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1));
    const creates = change.create ?? [];
    if (updates.length === 0 && creates.length === 0) {
      if (change.seen === undefined) return true;
      const { image, digest } = change.seen;
      await query('commit', UPSERT_SEEN, [image, digest, now().toISOString()]);
      return true;
    }
    return withClient('commit', async (client) => {
      await client.query('BEGIN');
      try {
        const at = now().toISOString();
        for (const r of updates) {
          const result = await client.query(UPDATE_ROLLOUT, rolloutValues(r, at));
          if (result.rowCount !== 1) {
            await client.query('ROLLBACK');
            return false;
          }
        }
        for (const r of creates) await client.query(UPSERT_ROLLOUT, rolloutValues(r, at));
        if (change.seen !== undefined) {
          await client.query(UPSERT_SEEN, [change.seen.image, change.seen.digest, at]);
        }
        await client.query(PRUNE_ROLLOUTS, [FINAL, KEEP_FINISHED_ROLLOUTS]);
        await client.query('COMMIT');
        return true;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  return {
    async open() {
      await withClient('migrate', (client) => migrate(client, logger));
      const [row] = await query<{ images: number; rollouts: number; epoch: string }>(
        'open',
        `SELECT (SELECT count(*)::int FROM imagewatch_seen_digests) AS images,
                (SELECT count(*)::int FROM imagewatch_rollouts) AS rollouts,
                (SELECT epoch FROM imagewatch_leader WHERE id = 1) AS epoch`,
      );
      epoch = Math.max(epoch, Number(row?.epoch ?? 0));
      const images = row?.images ?? 0;
      const rollouts = row?.rollouts ?? 0;
      logger.info({ database, images, rollouts, epoch }, 'database store opened');
      return images + rollouts === 0 ? { kind: 'fresh' } : { kind: 'loaded', images, rollouts };
    },
    epoch: () => epoch,
    adoptEpoch(taken) {
      epoch = taken;
    },
    async seenDigest(image) {
      const [row] = await query<{ digest: string; seen_at: Date }>(
        'seenDigest',
        'SELECT digest, seen_at FROM imagewatch_seen_digests WHERE image = $1',
        [image],
      );
      return row === undefined
        ? undefined
        : { digest: row.digest, seenAt: row.seen_at.toISOString() };
    },
    async commit(change) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await commitOnce(change);
        } catch (error) {
          const sqlState = ((error as StoreError).cause as { code?: string } | undefined)?.code;
          if (attempt >= MAX_COMMIT_ATTEMPTS || !RETRYABLE_SQLSTATES.has(sqlState ?? '')) {
            throw error;
          }
        }
      }
    },
    async getRollout(id) {
      const [row] = await query<Row>(
        'getRollout',
        'SELECT rollout FROM imagewatch_rollouts WHERE id = $1',
        [id],
      );
      return row === undefined ? undefined : parseRollout(row);
    },
    async listRollouts(filter: RolloutFilter = {}) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (filter.runtime !== undefined) {
        values.push(filter.runtime);
        where.push(`runtime = $${values.length}`);
      }
      if (filter.state !== undefined) {
        values.push(filter.state);
        where.push(`state = $${values.length}`);
      }
      values.push(Math.max(0, filter.limit ?? KEEP_FINISHED_ROLLOUTS));
      const rows = await query<Row>(
        'listRollouts',
        `SELECT rollout FROM imagewatch_rollouts
         ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
         ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $${values.length}`,
        values,
      );
      return rows.map(parseRollout);
    },
    async activeRollouts() {
      const rows = await query<Row>(
        'activeRollouts',
        `SELECT rollout FROM imagewatch_rollouts WHERE state <> ALL($1::text[])
         ORDER BY created_at, id COLLATE "C"`,
        [FINAL],
      );
      return rows.map(parseRollout);
    },
    async isEmpty() {
      const [row] = await query<{ empty: boolean }>(
        'isEmpty',
        `SELECT NOT EXISTS (SELECT 1 FROM imagewatch_seen_digests)
            AND NOT EXISTS (SELECT 1 FROM imagewatch_rollouts) AS empty`,
      );
      return row?.empty === true;
    },
    async importState(state) {
      const outcome = await withClient('import', (client) =>
        importIntoDatabase(client, state, now().toISOString()),
      );
      if (outcome.kind === 'imported') epoch = Math.max(epoch, outcome.epoch);
      return outcome;
    },
    health(): StoreHealth {
      return outage === undefined
        ? { ok: true }
        : { ok: false, reason: `database unreachable since ${outage.since}: ${outage.reason}` };
    },
    describe: () => database,
    async close() {
      closed = true;
      clearInterval(probe);
      probe = undefined;
      await pool.end().catch(() => undefined);
    },
  };
}
