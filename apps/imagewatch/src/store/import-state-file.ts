/**
 * Moving from the state file to PostgreSQL: at start, when `IMAGE_WATCH_DATABASE_URL` is set
 * and the database holds no seen digest and no rollout, what the state file remembers (format
 * version 2, or version 1 with seen digests only) is imported in one transaction. Chosen over
 * a separate command so that switching a deployment over is one variable, and safe to leave
 * on: once the database holds anything the file is never read again, and replicas starting at
 * once import exactly once (the store checks emptiness under an advisory lock).
 *
 * The file is read, never written, moved or removed: it stays as it was for a human (and for
 * going back to the file store, knowing it no longer moves). Its epoch raises the database's
 * so admin-api, which remembers the highest epoch it accepted, never sees one go back.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import type { Logger } from '@molecule/service-kit';
import type { Rollout } from '../rollouts/rollout.js';
import { StateFileSchema, StateFileV1Schema } from './file-store.js';
import {
  IMPORT_LOCK_KEY,
  rolloutValues,
  type SqlClient,
  timeOf,
  UPSERT_ROLLOUT,
} from './migrations.js';
import type { ImportableState, ImportOutcome, PostgresExtras } from './postgres-store.js';
import { StoreError } from './store-errors.js';

export type StateFileImport =
  | {
      readonly kind: 'imported';
      readonly file: string;
      readonly fromVersion: 1 | 2;
      readonly images: number;
      readonly rollouts: number;
      /** The file's epoch (the database's is now at least this). */
      readonly epoch: number;
    }
  /** The database already holds state: the file was not even read. */
  | { readonly kind: 'skipped'; readonly reason: 'not-empty' }
  /** There is no state file to import. */
  | { readonly kind: 'no-file'; readonly file: string };

export interface ImportStateFileOptions {
  readonly logger: Logger;
  readonly readFile?: (path: string, encoding: 'utf8') => Promise<string>;
}

/**
 * The import transaction (the store's `importState`, on one pooled connection): emptiness is
 * checked under a transaction-level advisory lock, so of replicas importing at once the first
 * writes and the others find state and skip. The stored epoch only ever goes up.
 */
export async function importIntoDatabase(
  client: SqlClient,
  state: ImportableState,
  at: string,
): Promise<ImportOutcome> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [IMPORT_LOCK_KEY]);
    const { rows } = await client.query<{ empty: boolean }>(
      `SELECT NOT EXISTS (SELECT 1 FROM imagewatch_seen_digests)
          AND NOT EXISTS (SELECT 1 FROM imagewatch_rollouts) AS empty`,
    );
    if (rows[0]?.empty !== true) {
      await client.query('ROLLBACK');
      return { kind: 'skipped', reason: 'not-empty' };
    }
    const images = Object.entries(state.images);
    for (const [image, seen] of images) {
      await client.query(
        'INSERT INTO imagewatch_seen_digests (image, digest, seen_at) VALUES ($1, $2, $3)',
        [image, seen.digest, timeOf(seen.seenAt, at)],
      );
    }
    for (const r of state.rollouts) await client.query(UPSERT_ROLLOUT, rolloutValues(r, at));
    const { rows: raised } = await client.query<{ epoch: string }>(
      'UPDATE imagewatch_leader SET epoch = GREATEST(epoch, $1::bigint) WHERE id = 1 RETURNING epoch',
      [state.epoch],
    );
    await client.query('COMMIT');
    return {
      kind: 'imported',
      images: images.length,
      rollouts: state.rollouts.length,
      epoch: Number(raised[0]?.epoch ?? state.epoch),
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The file's content as the store imports it; a STATE_FILE_INVALID error when it is not one. */
export function parseStateFile(
  file: string,
  text: string,
): { state: ImportableState; fromVersion: 1 | 2 } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StoreError(
      'STATE_FILE_INVALID',
      'import',
      `${file} is not JSON: ${(error as Error).message}`,
    );
  }
  const current = StateFileSchema.safeParse(json);
  if (current.success) {
    const { epoch, images, rollouts } = current.data;
    return { state: { epoch, images, rollouts: rollouts as Rollout[] }, fromVersion: 2 };
  }
  const v1 = StateFileV1Schema.safeParse(json);
  if (v1.success)
    return { state: { epoch: 0, images: v1.data.images, rollouts: [] }, fromVersion: 1 };
  const issue = current.error.issues[0];
  throw new StoreError(
    'STATE_FILE_INVALID',
    'import',
    `${file} is not a state file of version 1 or 2: ${issue?.message ?? 'invalid'} at ${issue?.path.join('.') ?? ''}`,
  );
}

/**
 * Imports `file` into `store` when the database is empty; idempotent.
 *
 * @example
 * const store = createPostgresStore({ url, logger, queryTimeoutMs: 5_000 });
 * await store.open();
 * await importStateFile(store, config.stateFile, { logger }); // { kind: 'imported', ... } once
 * @throws StoreError STATE_FILE_INVALID (unreadable or not a state file; nothing imported),
 *   StoreUnavailableError when the database cannot be reached.
 */
export async function importStateFile(
  store: Pick<PostgresExtras, 'isEmpty' | 'importState'>,
  file: string,
  options: ImportStateFileOptions,
): Promise<StateFileImport> {
  const { logger } = options;
  const readFile = options.readFile ?? fsReadFile;
  if (!(await store.isEmpty())) return { kind: 'skipped', reason: 'not-empty' };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'no-file', file };
    throw new StoreError('STATE_FILE_INVALID', 'import', `${file} cannot be read (${code})`, {
      cause: error,
    });
  }
  const { state, fromVersion } = parseStateFile(file, text);
  const outcome = await store.importState(state);
  if (outcome.kind === 'skipped') return outcome;
  logger.info(
    {
      stateFile: file,
      fromVersion,
      images: outcome.images,
      rollouts: outcome.rollouts,
      epoch: state.epoch,
    },
    'state file imported into the database (the file is left as it was)',
  );
  return {
    kind: 'imported',
    file,
    fromVersion,
    images: outcome.images,
    rollouts: outcome.rollouts,
    epoch: state.epoch,
  };
}
