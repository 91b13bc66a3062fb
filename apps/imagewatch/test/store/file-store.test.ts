/**
 * The state file: format, atomic writes, commits with compare-and-set, and never losing what a
 * human might need (a file that cannot be used is moved aside, or left untouched when it cannot
 * be; write failures show in health until a write succeeds).
 */
import * as fs from 'node:fs/promises';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRollout } from '../../src/rollouts/rollout.js';
import { createFileStore, type FileSystem } from '../../src/store/file-store.js';
import { memoryLogger, sha, tempDir } from '../helpers.js';
import { STORE_CONTRACT_CASES, type StoreHarness } from './store-contract.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

const REF = 'ghcr.io/a/workspace-template-codex:latest';
const T = new Date('2025-01-01T00:00:00Z');
const rollout = (id: string, to = sha(2)) =>
  createRollout(
    { id, runtime: 'codex', reference: REF, from: sha(1), to, waves: [['default']] },
    T,
  );

describe('file store: the store contract', () => {
  const harness: StoreHarness = {
    async open(now) {
      const store = createFileStore({
        file: join(dir, 'state.json'),
        logger: memoryLogger().logger,
        now,
      });
      await store.open();
      return store;
    },
    async reopen() {
      const store = createFileStore({
        file: join(dir, 'state.json'),
        logger: memoryLogger().logger,
      });
      await store.open();
      return store;
    },
  };
  for (const { name, run } of STORE_CONTRACT_CASES) it(name, () => run(harness));
});

describe('file store', () => {
  it('a burst of commits is written in two writes, each commit resolving once its change is on disk', async () => {
    const file = join(dir, 'state.json');
    let writes = 0;
    const countingFs: FileSystem = {
      ...fs,
      open: (async (path: string, ...rest: unknown[]) => {
        if (String(path).endsWith('.tmp')) writes += 1;
        return (fs.open as (...args: unknown[]) => Promise<unknown>)(path, ...rest);
      }) as FileSystem['open'],
    };
    const store = createFileStore({ file, logger: memoryLogger().logger, fs: countingFs });
    await store.open();
    const images = Array.from({ length: 100 }, (_, n) => `ghcr.io/a/synthetic-${n}:latest`);
    const committed = images.map(async (image, n) => {
      await store.commit({ seen: { image, digest: sha(n + 1) } });
      // Resolved: this change is in the file now.
      const json = JSON.parse(await readFile(file, 'utf8'));
      return json.images[image]?.digest;
    });
    const onDisk = await Promise.all(committed);
    expect(onDisk).toEqual(images.map((_, n) => sha(n + 1)));
    expect(writes).toBeLessThanOrEqual(2);
  });

  it('starts fresh without a file, writes the versioned format atomically, reads it back', async () => {
    const file = join(dir, 'nested', 'state.json');
    const { logger } = memoryLogger();
    const store = createFileStore({ file, logger, now: () => T });
    expect(await store.open()).toEqual({ kind: 'fresh' });
    expect(store.epoch()).toBe(1);
    expect(await store.commit({ seen: { image: REF, digest: sha(1) } })).toBe(true);
    const json = JSON.parse(await readFile(file, 'utf8'));
    expect(json).toEqual({
      version: 2,
      epoch: 1,
      images: { [REF]: { digest: sha(1), seenAt: '2025-01-01T00:00:00.000Z' } },
      rollouts: [],
    });
    // No temp files left behind.
    expect(await readdir(join(dir, 'nested'))).toEqual(['state.json']);

    const again = createFileStore({ file, logger });
    expect(await again.open()).toEqual({ kind: 'loaded', images: 1, rollouts: 0 });
    expect((await again.seenDigest(REF))?.digest).toBe(sha(1));
    // Every start takes a new epoch, and writes it before acting.
    expect(again.epoch()).toBe(2);
    expect(JSON.parse(await readFile(file, 'utf8')).epoch).toBe(2);
  });

  it('reads a version 1 file and writes it back as version 2', async () => {
    const file = join(dir, 'state.json');
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        images: { [REF]: { digest: sha(3), seenAt: T.toISOString() } },
      }),
    );
    const store = createFileStore({ file, logger: memoryLogger().logger });
    expect(await store.open()).toEqual({ kind: 'loaded', images: 1, rollouts: 0 });
    const json = JSON.parse(await readFile(file, 'utf8'));
    expect(json).toMatchObject({ version: 2, epoch: 1, rollouts: [] });
    expect(json.images[REF].digest).toBe(sha(3));
  });

  it('a commit is on disk before it resolves; a lost compare-and-set writes nothing', async () => {
    const file = join(dir, 'state.json');
    const store = createFileStore({ file, logger: memoryLogger().logger, now: () => T });
    await store.open();
    const first = rollout('r-1');
    expect(await store.commit({ seen: { image: REF, digest: first.to }, create: [first] })).toBe(
      true,
    );
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    expect(onDisk.images[REF].digest).toBe(first.to);
    expect(onDisk.rollouts).toHaveLength(1);
    const before = await readFile(file, 'utf8');
    const stale = { ...first, state: 'halted' as const, version: 5 };
    expect(await store.commit({ update: [stale], seen: { image: REF, digest: sha(9) } })).toBe(
      false,
    );
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it.each([
    ['not JSON', '{"version": 2, "images": {'],
    ['a future version', JSON.stringify({ version: 3, images: {} })],
    ['wrong shape', JSON.stringify({ version: 1, images: { x: { digest: 42 } } })],
  ])('moves a corrupt file (%s) aside, logs it and rebuilds', async (_name, content) => {
    const file = join(dir, 'state.json');
    await writeFile(file, content);
    const { logger, lines } = memoryLogger();
    const errors: string[] = [];
    const store = createFileStore({ file, logger, onError: (op) => errors.push(op) });
    const outcome = await store.open();
    expect(outcome.kind).toBe('recovered');
    expect(errors).toEqual(['load']);
    const moved = (await readdir(dir)).find((name) => name.startsWith('state.json.corrupt-'));
    expect(moved).toBeDefined();
    expect(await readFile(join(dir, moved!), 'utf8')).toBe(content);
    expect(
      lines().some((line) => line.level === 50 && String(line.msg).includes('moved aside')),
    ).toBe(true);
    // Rebuilt at once (the new epoch).
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 2, images: {} });
    expect(store.health()).toEqual({ ok: true });
  });

  it('a state file that cannot be read is moved aside, not overwritten', async () => {
    const file = join(dir, 'state.json');
    await mkdir(file); // reading a directory fails (EISDIR), as an unreadable file would
    await writeFile(join(file, 'precious'), 'keep me');
    const store = createFileStore({ file, logger: memoryLogger().logger });
    const outcome = await store.open();
    expect(outcome).toMatchObject({ kind: 'recovered', reason: expect.stringContaining('EISDIR') });
    const moved = (await readdir(dir)).find((name) => name.startsWith('state.json.unreadable-'));
    expect(await readFile(join(dir, moved!, 'precious'), 'utf8')).toBe('keep me');
  });

  it('an unusable file that cannot be moved aside is left untouched: memory only, degraded, said so in the log', async () => {
    const file = join(dir, 'state.json');
    await writeFile(file, '{"corrupt": ');
    const failingFs: FileSystem = {
      ...fs,
      rename: async () => {
        throw Object.assign(new Error('read-only file system'), { code: 'EROFS' });
      },
    };
    const errors: string[] = [];
    const { logger, lines } = memoryLogger();
    const store = createFileStore({
      file,
      logger,
      fs: failingFs,
      onError: (op) => errors.push(op),
    });
    const outcome = await store.open();
    expect(outcome).toMatchObject({ kind: 'read-only' });
    expect(store.health()).toMatchObject({
      ok: false,
      reason: expect.stringContaining('could not be moved aside (EROFS)'),
    });
    await store.commit({ seen: { image: REF, digest: sha(4) } });
    expect((await store.seenDigest(REF))?.digest).toBe(sha(4));
    expect(await readFile(file, 'utf8')).toBe('{"corrupt": ');
    expect(
      lines().some((line) => String(line.msg).includes('cannot be moved aside: not writing it')),
    ).toBe(true);
    expect(lines().some((line) => String(line.msg).includes('moved aside, starting fresh'))).toBe(
      false,
    );
    expect(errors).toEqual(['load']);
  });

  it('a write that fails keeps the data, shows in health and the metric, and recovers', async () => {
    const file = join(dir, 'state.json');
    let failWrites = false;
    const flakyFs: FileSystem = {
      ...fs,
      rename: async (from, to) => {
        if (failWrites)
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        return fs.rename(from, to);
      },
    };
    const errors: string[] = [];
    const store = createFileStore({
      file,
      logger: memoryLogger().logger,
      fs: flakyFs,
      onError: (op) => errors.push(op),
    });
    await store.open();
    failWrites = true;
    await store.commit({ seen: { image: REF, digest: sha(5) } });
    expect(errors).toEqual(['write']);
    expect(store.health()).toMatchObject({ ok: false, reason: expect.stringContaining('ENOSPC') });
    expect((await store.seenDigest(REF))?.digest).toBe(sha(5));
    expect(await readdir(dir)).toEqual(['state.json']); // the temp file was removed
    failWrites = false;
    await store.commit({ seen: { image: REF, digest: sha(6) } });
    expect(store.health()).toEqual({ ok: true });
    expect(JSON.parse(await readFile(file, 'utf8')).images[REF].digest).toBe(sha(6));
  });

  it('writes nothing for a commit that changes nothing', async () => {
    let writes = 0;
    const countingFs: FileSystem = {
      ...fs,
      rename: async (from, to) => {
        writes += 1;
        return fs.rename(from, to);
      },
    };
    const store = createFileStore({
      file: join(dir, 'state.json'),
      logger: memoryLogger().logger,
      fs: countingFs,
    });
    await store.open();
    await store.commit({ seen: { image: REF, digest: sha(7) } });
    const after = writes;
    await store.commit({ seen: { image: REF, digest: sha(7) } });
    await store.commit({});
    expect(writes).toBe(after);
  });
});
