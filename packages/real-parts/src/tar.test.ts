import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { missingRealParts } from './binaries.js';
import { createTar, readTar } from './tar.js';

const entries = [
  { type: 'directory', path: 'bin' },
  { type: 'file', path: 'bin/tool', content: Buffer.from('x'.repeat(700)), mode: 0o755 },
  { type: 'symlink', path: 'bin/sh', target: 'tool' },
] as const;

describe('createTar', () => {
  it('writes 512-byte blocks with valid checksums and two zero blocks at the end', () => {
    const tar = createTar(entries);
    // header + header + 2 data blocks + header + 2 end blocks
    expect(tar.length).toBe(512 * 7);
    expect(tar.subarray(-1024).every((byte) => byte === 0)).toBe(true);
    expect(readTar(tar)).toEqual([
      { path: 'bin/', type: '5', size: 0, target: '', mode: 0o755 },
      { path: 'bin/tool', type: '0', size: 700, target: '', mode: 0o755 },
      { path: 'bin/sh', type: '2', size: 0, target: 'tool', mode: 0o777 },
    ]);
  });

  it('is deterministic', () => {
    expect(createTar(entries).equals(createTar(entries))).toBe(true);
  });

  it('detects a corrupted header', () => {
    const tar = createTar(entries);
    tar[10] = 0x41;
    expect(() => readTar(tar)).toThrow(/checksum/);
  });

  it.skipIf(missingRealParts(['tar']) !== undefined)('is read by GNU tar', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-tar-'));
    try {
      await writeFile(join(dir, 'layer.tar'), createTar(entries));
      const { stdout } = await promisify(execFile)('tar', ['-tvf', join(dir, 'layer.tar')]);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^drwxr-xr-x root\/root\s+0 .* bin\/$/);
      expect(lines[1]).toMatch(/^-rwxr-xr-x root\/root\s+700 .* bin\/tool$/);
      expect(lines[2]).toMatch(/^lrwxrwxrwx root\/root\s+0 .* bin\/sh -> tool$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
