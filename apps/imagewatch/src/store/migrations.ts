/**
 * The PostgreSQL schema of imagewatch, as numbered migrations kept in code. `migrate` applies
 * the ones a database lacks, in order, in ONE transaction under a transaction-level advisory
 * lock: replicas starting at once queue on the lock, the first applies, the others find
 * nothing left to do (a plain `CREATE TABLE IF NOT EXISTS` race can still fail on pg_type's
 * unique index; the lock is what makes it safe). Transaction-level, not session-level: it is
 * released by COMMIT/ROLLBACK, so it also works behind pgbouncer in transaction mode.
 *
 * Policy: migrations only add (tables, columns with defaults, indexes), so a replica still
 * running the previous release keeps working against a migrated schema during a rolling
 * upgrade; a database newer than this code is reported, not refused.
 *
 * Every table is prefixed `imagewatch_`: the database may be shared with other services.
 */
import type { Logger } from '@molecule/service-kit';
import type { Rollout } from '../rollouts/rollout.js';

/** What `migrate` needs of a connection (a pool client or a dedicated pg.Client). */
export interface SqlClient {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Advisory lock keys (bigint, one namespace per database): the high 32 bits spell `imgw`
 * (0x696d6777) so they read as ours in `pg_locks` (classid 1768777591); the low 32 bits say
 * which lock (objid). Passed as strings: a JS number cannot hold every bigint.
 */
export const LOCK_CLASS_ID = 0x696d6777;
export const MIGRATION_LOCK_KEY = ((BigInt(LOCK_CLASS_ID) << 32n) | 1n).toString();
/** The leader's session-level lock (leadership/postgres-leadership.ts). */
export const LEADER_LOCK_KEY = ((BigInt(LOCK_CLASS_ID) << 32n) | 2n).toString();
export const LEADER_LOCK_OBJID = 2;
/** Serialises the one-time state file import across replicas (transaction-level). */
export const IMPORT_LOCK_KEY = ((BigInt(LOCK_CLASS_ID) << 32n) | 3n).toString();

export const MIGRATIONS_TABLE = 'imagewatch_schema_migrations';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'seen digests, rollouts, leader epoch',
    sql: `
      CREATE TABLE imagewatch_seen_digests (
        image   text PRIMARY KEY,          -- the full reference: a registry switch never compares across registries
        digest  text NOT NULL,
        seen_at timestamptz NOT NULL
      );
      CREATE TABLE imagewatch_rollouts (
        id         text PRIMARY KEY,
        runtime    text NOT NULL,
        state      text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version    integer NOT NULL,       -- compare-and-set: an update names the version it read
        rollout    jsonb NOT NULL          -- the whole rollout, as the state file holds it
      );
      -- listRollouts: newest first, by runtime and/or state; activeRollouts: by state.
      CREATE INDEX imagewatch_rollouts_created ON imagewatch_rollouts (created_at DESC, id COLLATE "C" DESC);
      CREATE INDEX imagewatch_rollouts_runtime ON imagewatch_rollouts (runtime, created_at DESC);
      CREATE INDEX imagewatch_rollouts_state ON imagewatch_rollouts (state, created_at DESC);
      -- One row: the fencing epoch, bumped by every takeover (X-Rollout-Epoch).
      CREATE TABLE imagewatch_leader (
        id       smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        epoch    bigint NOT NULL DEFAULT 0 CHECK (epoch >= 0),
        holder   text,
        taken_at timestamptz
      );
      INSERT INTO imagewatch_leader (id, epoch) VALUES (1, 0);
    `,
  },
];

/*
 * How rows of the latest schema are written (they change with the migrations that change
 * the columns). A rollout row is the whole rollout as JSONB plus the columns filtered and
 * ordered on; time columns take the rollout's own ISO strings.
 */

/** A create replaces a rollout of the same id, as the state file's map does. */
export const UPSERT_ROLLOUT = `
  INSERT INTO imagewatch_rollouts (id, runtime, state, created_at, updated_at, version, rollout)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (id) DO UPDATE SET runtime = EXCLUDED.runtime, state = EXCLUDED.state,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
    version = EXCLUDED.version, rollout = EXCLUDED.rollout`;
/** Compare-and-set: `$6` is the new version, the stored one must be the one before. */
export const UPDATE_ROLLOUT = `
  UPDATE imagewatch_rollouts SET runtime = $2, state = $3, created_at = $4,
    updated_at = $5, version = $6, rollout = $7
  WHERE id = $1 AND version = $6 - 1`;
/** The time a digest was first seen stays while the digest does. */
export const UPSERT_SEEN = `
  INSERT INTO imagewatch_seen_digests (image, digest, seen_at) VALUES ($1, $2, $3)
  ON CONFLICT (image) DO UPDATE SET digest = EXCLUDED.digest, seen_at = EXCLUDED.seen_at
  WHERE imagewatch_seen_digests.digest IS DISTINCT FROM EXCLUDED.digest`;
/**
 * Finished rollouts (`$1`) past the newest `$2` by update time. SKIP LOCKED: rows another
 * commit holds are left for a later prune (that only keeps more), never waited on.
 */
export const PRUNE_ROLLOUTS = `
  DELETE FROM imagewatch_rollouts WHERE id IN (
    SELECT id FROM imagewatch_rollouts WHERE state = ANY($1::text[])
    ORDER BY updated_at DESC, id COLLATE "C" DESC OFFSET $2
    FOR UPDATE SKIP LOCKED)`;

/** A time column for a stored string: the string itself when it is a date, else `fallback`. */
export const timeOf = (text: string, fallback: string): string =>
  Number.isNaN(Date.parse(text)) ? fallback : text;

/** The values of UPSERT_ROLLOUT / UPDATE_ROLLOUT for `r`. */
export const rolloutValues = (r: Rollout, at: string): unknown[] => [
  r.id,
  r.runtime,
  r.state,
  timeOf(r.created_at, at),
  timeOf(r.updated_at, at),
  r.version,
  JSON.stringify(r),
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

export interface MigrateResult {
  /** Versions applied by this call (empty when another replica, or an earlier start, did). */
  readonly applied: readonly number[];
  /** The highest version recorded in the database after the call. */
  readonly current: number;
}

/**
 * Brings the schema up to `migrations` on `client` (a connection not in a transaction). All
 * pending migrations commit together or not at all.
 */
export async function migrate(
  client: SqlClient,
  logger: Logger,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrateResult> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${MIGRATIONS_TABLE}`,
    );
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    const current = Math.max(0, ...done, ...applied);
    const known = migrations.at(-1)?.version ?? 0;
    if (applied.length > 0) logger.info({ applied, schemaVersion: current }, 'schema migrated');
    if (current > known) {
      logger.warn(
        { schemaVersion: current, knownVersion: known },
        'the database schema is newer than this release (a newer replica migrated it): carrying on, migrations only add',
      );
    }
    return { applied, current };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
