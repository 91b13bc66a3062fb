import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary, missingRealParts, realPartsGate, realPartsRequired } from './binaries.js';
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
