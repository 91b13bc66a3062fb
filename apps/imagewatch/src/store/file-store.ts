/**
 * The state file: seen digests, rollouts and the epoch, one JSON document, keyed by the full
 * image reference so a registry switch never compares digests across registries:
 *
 *   { "version": 2, "epoch": 7,
 *     "images": { "<full ref>": { "digest": "sha256:…", "seenAt": "<ISO time>" } },
 *     "rollouts": [ { "id": "r-…", … } ] }
 *
 * Version 1 files (images only) are read and written back as version 2.
 *
 * Every commit is written before it resolves (temp file in the same directory, fsync,
 * rename), writes never overlap, and nothing a human might need is overwritten without a copy:
 * a file that cannot be read or parsed is moved aside (`<file>.corrupt-<time>` /
 * `.unreadable-<time>`); when even that fails the file is left untouched and the store keeps
 * its state in memory only, reporting itself degraded. A write that fails is retried with the
 * next commit and shows in `health()` until one succeeds.
 */
import { randomBytes } from 'node:crypto';
import * as fsPromises from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '@molecule/service-kit';
import { z } from 'zod';
import { FINAL_STATES, HOST_STATES, ROLLOUT_STATES, type Rollout } from '../rollouts/rollout.js';
import {
  KEEP_FINISHED_ROLLOUTS,
  type RolloutFilter,
  type SeenDigest,
  type StoreCommit,
  type StoreHealth,
  type StoreOpenOutcome,
  type WatchStore,
} from './watch-store.js';

export const STATE_VERSION = 2;

const Digest = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/);

export const SeenDigestSchema = z.object({ digest: Digest, seenAt: z.string() });

export const RolloutSchema = z.object({
  id: z.string(),
  runtime: z.string(),
  reference: z.string(),
  from: Digest.nullable(),
  to: Digest,
  state: z.enum(ROLLOUT_STATES),
  waves: z.array(z.array(z.string())),
  hosts: z.array(
    z.object({
      name: z.string(),
      state: z.enum(HOST_STATES),
      attempts: z.number().int().nonnegative(),
      error: z.string().optional(),
      updated_at: z.string(),
    }),
  ),
  wave: z.number().int().nonnegative(),
  soak_until: z.string().nullable(),
  kind: z.enum(['rollout', 'rollback']),
  rollback_of: z.string().nullable(),
  replaced_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  version: z.number().int().nonnegative(),
});

/** Version 1: seen digests only (read, and imported into PostgreSQL, as version 2). */
export const StateFileV1Schema = z.object({
  version: z.literal(1),
  images: z.record(z.string(), SeenDigestSchema),
});
export const StateFileSchema = z.object({
  version: z.literal(STATE_VERSION),
  epoch: z.number().int().nonnegative(),
  images: z.record(z.string(), SeenDigestSchema),
  rollouts: z.array(RolloutSchema),
});
export type StateFile = z.infer<typeof StateFileSchema>;

/** The file operations the store uses (tests inject failures a root process cannot cause). */
export type FileSystem = Pick<typeof fsPromises, 'readFile' | 'rename' | 'open' | 'mkdir' | 'rm'>;

export interface FileStoreOptions {
  file: string;
  logger: Logger;
  /** Called on load/write failures (metrics). */
  onError?: (operation: 'load' | 'write') => void;
  now?: () => Date;
  fs?: FileSystem;
}

export function createFileStore(options: FileStoreOptions): WatchStore {
  const { file, logger } = options;
  const now = options.now ?? (() => new Date());
  const { readFile, rename, open, mkdir, rm } = options.fs ?? fsPromises;
  let images = new Map<string, SeenDigest>();
  let rollouts = new Map<string, Rollout>();
  let epoch = 0;
  /** Set when the file must not be written (it could be neither used nor moved aside). */
  let readOnly: string | undefined;
  let writeProblem: string | undefined;
  let writing: Promise<void> = Promise.resolve();

  const stamp = () => now().toISOString().replace(/[:.]/g, '-');

  /** Moves an unusable file aside; `undefined` (and read-only) when that fails too. */
  async function moveAside(
    suffix: 'corrupt' | 'unreadable',
    reason: string,
  ): Promise<StoreOpenOutcome> {
    options.onError?.('load');
    const target = `${file}.${suffix}-${stamp()}`;
    try {
      await rename(file, target);
      logger.error(
        { stateFile: file, movedTo: target, reason },
        'state file unusable: moved aside, starting fresh',
      );
      return { kind: 'recovered', movedTo: target, reason };
    } catch (error) {
      readOnly = `${reason}; it could not be moved aside (${(error as NodeJS.ErrnoException).code ?? 'error'}), so it is left untouched and state is kept in memory only: fix it or its directory and restart`;
      logger.error(
        { stateFile: file, err: error, reason },
        'state file unusable and cannot be moved aside: not writing it',
      );
      return { kind: 'read-only', reason: readOnly };
    }
  }

  async function load(): Promise<StoreOpenOutcome> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        logger.info({ stateFile: file }, 'no state file yet: fresh start');
        return { kind: 'fresh' };
      }
      return moveAside('unreadable', `cannot be read (${code ?? 'error'})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return moveAside('corrupt', `invalid JSON: ${(error as Error).message}`);
    }
    const current = StateFileSchema.safeParse(json);
    const v1 = current.success ? undefined : StateFileV1Schema.safeParse(json);
    if (!current.success && !v1?.success) {
      const issue = current.error.issues[0];
      return moveAside(
        'corrupt',
        `unexpected content: ${issue?.message ?? 'invalid'} at ${issue?.path.join('.') ?? ''}`,
      );
    }
    const data = current.success
      ? current.data
      : { version: STATE_VERSION, epoch: 0, images: v1!.data!.images, rollouts: [] };
    images = new Map(Object.entries(data.images));
    rollouts = new Map(data.rollouts.map((r) => [r.id, r as Rollout]));
    epoch = data.epoch;
    logger.info(
      {
        stateFile: file,
        images: images.size,
        rollouts: rollouts.size,
        fromVersion: current.success ? 2 : 1,
      },
      'state loaded',
    );
    return { kind: 'loaded', images: images.size, rollouts: rollouts.size };
  }

  function snapshot(): StateFile {
    const sorted = [...images].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      version: STATE_VERSION,
      epoch,
      images: Object.fromEntries(sorted),
      rollouts: [...rollouts.values()] as StateFile['rollouts'],
    };
  }

  async function writeFile(): Promise<void> {
    if (readOnly !== undefined) return;
    const dir = dirname(file);
    const temp = join(
      dir,
      `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    try {
      await mkdir(dir, { recursive: true });
      const handle = await open(temp, 'w', 0o644);
      try {
        await handle.writeFile(`${JSON.stringify(snapshot(), null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      if (writeProblem !== undefined) logger.info({ stateFile: file }, 'state file written again');
      writeProblem = undefined;
    } catch (error) {
      options.onError?.('write');
      const problem = `writing ${file} fails (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); state is kept in memory and written with the next change`;
      if (writeProblem === undefined)
        logger.error(
          { err: error, stateFile: file },
          'could not write the state file (will retry)',
        );
      writeProblem = problem;
      await rm(temp, { force: true }).catch(() => {});
    }
  }

  /** The write queued behind the running one, not started yet: later changes join it. */
  let queued: Promise<void> | undefined;

  /**
   * Resolves once the current state is on disk. Writes never overlap; a change made while one
   * runs joins the next, which starts when it ends and writes the state as it is then, so a
   * burst of commits (a first tick seeding 1,000 references) costs two writes, not 1,000.
   */
  function persist(): Promise<void> {
    if (queued !== undefined) return queued;
    const next = writing.then(
      () => {
        queued = undefined;
        return writeFile();
      },
      () => {
        queued = undefined;
        return writeFile();
      },
    );
    queued = next;
    writing = next;
    return next;
  }

  /** Keeps every active rollout and the newest finished ones. */
  function prune(): void {
    const finished = [...rollouts.values()]
      .filter((r) => FINAL_STATES.has(r.state))
      .sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1));
    for (const old of finished.slice(KEEP_FINISHED_ROLLOUTS)) rollouts.delete(old.id);
  }

  return {
    async open() {
      const outcome = await load();
      epoch += 1;
      await persist();
      return outcome;
    },
    epoch: () => epoch,
    async seenDigest(image) {
      return images.get(image);
    },
    async commit(change: StoreCommit) {
      for (const update of change.update ?? []) {
        if (rollouts.get(update.id)?.version !== update.version - 1) return false;
      }
      const seenMoves =
        change.seen !== undefined && images.get(change.seen.image)?.digest !== change.seen.digest;
      if (!seenMoves && (change.create ?? []).length === 0 && (change.update ?? []).length === 0) {
        return true;
      }
      if (change.seen !== undefined && seenMoves) {
        images.set(change.seen.image, { digest: change.seen.digest, seenAt: now().toISOString() });
      }
      for (const rollout of [...(change.create ?? []), ...(change.update ?? [])]) {
        rollouts.set(rollout.id, rollout);
      }
      prune();
      await persist();
      return true;
    },
    async getRollout(id) {
      return rollouts.get(id);
    },
    async listRollouts(filter: RolloutFilter = {}) {
      return [...rollouts.values()]
        .filter(
          (r) =>
            (filter.runtime === undefined || r.runtime === filter.runtime) &&
            (filter.state === undefined || r.state === filter.state),
        )
        .sort((a, b) =>
          a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1,
        )
        .slice(0, filter.limit ?? KEEP_FINISHED_ROLLOUTS);
    },
    async activeRollouts() {
      return [...rollouts.values()]
        .filter((r) => !FINAL_STATES.has(r.state))
        .sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
    },
    health(): StoreHealth {
      const reason = readOnly ?? writeProblem;
      return reason === undefined ? { ok: true } : { ok: false, reason };
    },
    describe: () => file,
    async close() {
      await writing;
    },
  };
}
