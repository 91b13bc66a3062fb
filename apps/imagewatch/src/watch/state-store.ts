/**
 * Seen digests, persisted so a restart remembers what was already rolled out.
 *
 * File format (version 1), keyed by the full image reference so a registry switch never
 * compares digests across registries:
 *   { "version": 1, "images": { "<full ref>": { "digest": "sha256:…", "seenAt": "<ISO time>" } } }
 *
 * Writes are atomic (temp file in the same directory, fsync, rename). A missing file is a
 * fresh start; an unreadable or invalid one is moved aside to `<file>.corrupt-<ts>`, logged
 * and rebuilt — never a crash loop.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';

export const STATE_VERSION = 1;

export const SeenDigestSchema = z.object({
  digest: z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/),
  seenAt: z.string(),
});
export type SeenDigest = z.infer<typeof SeenDigestSchema>;

export const StateFileSchema = z.object({
  version: z.literal(STATE_VERSION),
  images: z.record(z.string(), SeenDigestSchema),
});
export type StateFile = z.infer<typeof StateFileSchema>;

export type LoadOutcome =
  | { readonly kind: 'loaded'; readonly entries: number }
  | { readonly kind: 'fresh' }
  | { readonly kind: 'recovered'; readonly movedTo: string | undefined; readonly reason: string };

export interface StateStore {
  /** Reads the file; never throws for a missing or corrupt file. */
  load(): Promise<LoadOutcome>;
  get(image: string): SeenDigest | undefined;
  set(image: string, digest: string): void;
  /** Writes the file if anything changed since the last successful write. */
  flush(): Promise<void>;
  readonly file: string;
}

export interface StateStoreOptions {
  file: string;
  logger: Logger;
  /** Called on load/write failures (metrics). */
  onError?: (operation: 'load' | 'write') => void;
  now?: () => Date;
}

export function createStateStore(options: StateStoreOptions): StateStore {
  const { file, logger } = options;
  const now = options.now ?? (() => new Date());
  let images = new Map<string, SeenDigest>();
  let dirty = false;
  let writing: Promise<void> = Promise.resolve();

  async function moveAside(reason: string): Promise<string | undefined> {
    const target = `${file}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`;
    try {
      await rename(file, target);
      return target;
    } catch (error) {
      logger.error({ err: error, stateFile: file }, 'could not move the corrupt state file aside');
      return undefined;
    } finally {
      options.onError?.('load');
      logger.error(
        { stateFile: file, reason },
        'state file is corrupt: moved aside, starting fresh',
      );
    }
  }

  async function load(): Promise<LoadOutcome> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        images = new Map();
        logger.info({ stateFile: file }, 'no state file yet: fresh start');
        return { kind: 'fresh' };
      }
      // Unreadable (permissions, a directory): start fresh in memory, keep the file for a human.
      options.onError?.('load');
      logger.error({ err: error, stateFile: file }, 'state file unreadable: starting fresh');
      images = new Map();
      return { kind: 'recovered', movedTo: undefined, reason: (error as Error).message };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      const reason = `invalid JSON: ${(error as Error).message}`;
      images = new Map();
      dirty = true;
      return { kind: 'recovered', movedTo: await moveAside(reason), reason };
    }
    const parsed = StateFileSchema.safeParse(json);
    if (!parsed.success) {
      const reason = `unexpected content: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
      images = new Map();
      dirty = true;
      return { kind: 'recovered', movedTo: await moveAside(reason), reason };
    }
    images = new Map(Object.entries(parsed.data.images));
    dirty = false;
    logger.info({ stateFile: file, entries: images.size }, 'state loaded');
    return { kind: 'loaded', entries: images.size };
  }

  async function write(): Promise<void> {
    if (!dirty) return;
    const snapshot: StateFile = {
      version: STATE_VERSION,
      images: Object.fromEntries([...images].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    };
    dirty = false;
    const dir = dirname(file);
    const temp = join(
      dir,
      `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    try {
      await mkdir(dir, { recursive: true });
      const handle = await open(temp, 'w', 0o644);
      try {
        await handle.writeFile(`${JSON.stringify(snapshot, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    } catch (error) {
      dirty = true; // try again on the next flush
      options.onError?.('write');
      logger.error({ err: error, stateFile: file }, 'could not write the state file (will retry)');
      await rm(temp, { force: true }).catch(() => {});
    }
  }

  return {
    file,
    load,
    get: (image) => images.get(image),
    set(image, digest) {
      if (images.get(image)?.digest === digest) return;
      images.set(image, { digest, seenAt: now().toISOString() });
      dirty = true;
    },
    flush() {
      // Serialised: two flushes never write at once; each sees the latest map.
      writing = writing.then(write, write);
      return writing;
    },
  };
}
