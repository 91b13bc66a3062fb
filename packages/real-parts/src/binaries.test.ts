import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findBinary,
  missingRealParts,
  postgresBinDirs,
  realPartsGate,
  realPartsRequired,
} from './binaries.js';
import { isRealPartsError } from './errors.js';

describe('binaries', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rp-bin-'));
    await writeFile(join(dir, 'docker-registry'), '#!/bin/sh\n', { mode: 0o755 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds an executable on PATH', () => {
    expect(findBinary('docker-registry', { PATH: dir })).toBe(join(dir, 'docker-registry'));
    expect(findBinary('no-such-binary-here', { PATH: dir })).toBeUndefined();
  });

  it('names the missing binaries and their Debian packages', () => {
    expect(missingRealParts(['docker-registry'], { PATH: dir })).toBeUndefined();
    const reason = missingRealParts(['docker-registry', 'htpasswd-nope', 'skopeo-nope'], {
      PATH: dir,
    });
    expect(reason).toBe(
      'missing htpasswd-nope, skopeo-nope (apt-get install htpasswd-nope skopeo-nope)',
    );
  });

  it('maps known binaries to their Debian packages', () => {
    // busybox and htpasswd live in /usr/bin, outside the sbin fallbacks
    expect(missingRealParts(['busybox', 'htpasswd'], { PATH: join(dir, 'empty') })).toBe(
      'missing busybox, htpasswd (apt-get install busybox-static apache2-utils)',
    );
  });

  it('lists the PostgreSQL bin dirs newest major first', async () => {
    const root = join(dir, 'postgresql');
    for (const entry of ['13', '15', '9', 'common']) {
      await mkdir(join(root, entry), { recursive: true });
    }
    expect(postgresBinDirs(root)).toEqual(
      ['15', '13', '9'].map((major) => join(root, major, 'bin')),
    );
    expect(postgresBinDirs(join(dir, 'no-such-dir'))).toEqual([]);
  });

  it('finds PostgreSQL server binaries on PATH before the versioned dirs', async () => {
    await writeFile(join(dir, 'initdb'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findBinary('initdb', { PATH: dir })).toBe(join(dir, 'initdb'));
  });

  it('realPartsRequired follows CI=true exactly', () => {
    expect(realPartsRequired({ CI: 'true' })).toBe(true);
    expect(realPartsRequired({ CI: '1' })).toBe(false);
    expect(realPartsRequired({})).toBe(false);
  });

  it('gate skips locally and throws under CI', () => {
    expect(realPartsGate(['docker-registry'], { PATH: dir })).toEqual({
      skip: false,
      reason: undefined,
    });
    const local = realPartsGate(['missing-thing-x'], { PATH: dir });
    expect(local.skip).toBe(true);
    expect(local.reason).toContain('missing-thing-x');
    let thrown: unknown;
    try {
      realPartsGate(['missing-thing-x'], { PATH: dir, CI: 'true' });
    } catch (error) {
      thrown = error;
    }
    expect(isRealPartsError(thrown) && thrown.code).toBe('MISSING_BINARY');
  });
});
