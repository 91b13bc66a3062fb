import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStateStore } from '../../src/watch/state-store.js';
import { memoryLogger, sha, tempDir } from '../helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

describe('state store', () => {
  it('starts fresh without a file, writes the versioned format atomically, reads it back', async () => {
    const file = join(dir, 'nested', 'state.json');
    const { logger } = memoryLogger();
    const store = createStateStore({ file, logger, now: () => new Date('2025-01-01T00:00:00Z') });
    expect(await store.load()).toEqual({ kind: 'fresh' });
    store.set('ghcr.io/a/workspace-template-codex:latest', sha(1));
    await store.flush();
    const json = JSON.parse(await readFile(file, 'utf8'));
    expect(json).toEqual({
      version: 1,
      images: {
        'ghcr.io/a/workspace-template-codex:latest': {
          digest: sha(1),
          seenAt: '2025-01-01T00:00:00.000Z',
        },
      },
    });
    // No temp files left behind.
    expect(await readdir(join(dir, 'nested'))).toEqual(['state.json']);

    const again = createStateStore({ file, logger });
    expect(await again.load()).toEqual({ kind: 'loaded', entries: 1 });
    expect(again.get('ghcr.io/a/workspace-template-codex:latest')?.digest).toBe(sha(1));
  });

  it.each([
    ['not JSON', '{"version": 1, "images": {'],
    ['wrong version', JSON.stringify({ version: 2, images: {} })],
    ['wrong shape', JSON.stringify({ version: 1, images: { x: { digest: 42 } } })],
  ])('moves a corrupt file (%s) aside, logs it and rebuilds', async (_name, content) => {
    const file = join(dir, 'state.json');
    await writeFile(file, content);
    const { logger, lines } = memoryLogger();
    const errors: string[] = [];
    const store = createStateStore({ file, logger, onError: (op) => errors.push(op) });
    const outcome = await store.load();
    expect(outcome.kind).toBe('recovered');
    expect(errors).toEqual(['load']);
    const files = await readdir(dir);
    const moved = files.find((name) => name.startsWith('state.json.corrupt-'));
    expect(moved).toBeDefined();
    expect(await readFile(join(dir, moved!), 'utf8')).toBe(content);
    expect(lines().some((line) => line.level === 50 && String(line.msg).includes('corrupt'))).toBe(
      true,
    );

    // Rebuilt on the next flush, even with nothing new to say.
    await store.flush();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, images: {} });
  });

  it('keeps the data and retries when a write fails', async () => {
    // The state "file" path is inside a regular file: mkdir/open fail.
    await writeFile(join(dir, 'blocker'), 'x');
    const { logger } = memoryLogger();
    const errors: string[] = [];
    const store = createStateStore({
      file: join(dir, 'blocker', 'state.json'),
      logger,
      onError: (op) => errors.push(op),
    });
    await store.load();
    store.set('r', sha(2));
    await expect(store.flush()).resolves.toBeUndefined();
    // Unreadable path on load (ENOTDIR), then the failed write: both counted, neither throws.
    expect(errors).toEqual(['load', 'write']);
    expect(store.get('r')?.digest).toBe(sha(2));
  });
});
