/**
 * docker/file-env.mjs, the service images' preload: NAME_FILE sets NAME from a file; an empty
 * IMAGE_WATCH_DATABASE_URL file (compose mounts /dev/null without a database) leaves it unset
 * unless the service requires it (MOLECULE_REQUIRED_SECRETS); bad setups exit 2 without
 * printing a value.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const preload = fileURLToPath(new URL('../../../docker/file-env.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'file-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>) {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      preload,
      '-e',
      'process.stdout.write(JSON.stringify({ url: process.env.IMAGE_WATCH_DATABASE_URL ?? null, token: process.env.MOLECULE_ADMIN_TOKEN ?? null }))',
    ],
    { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('docker/file-env.mjs', () => {
  it('sets a secret from its file, one trailing newline dropped', () => {
    const result = run({
      MOLECULE_ADMIN_TOKEN_FILE: file('token', 'tok-from-file\n'),
      IMAGE_WATCH_DATABASE_URL_FILE: file('url', 'postgres://iw:pw@db:5432/iw\n'),
    });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      url: 'postgres://iw:pw@db:5432/iw',
      token: 'tok-from-file',
    });
  });

  it('an empty database URL file leaves it unset (the state file), unless required', () => {
    expect(JSON.parse(run({ IMAGE_WATCH_DATABASE_URL_FILE: '/dev/null' }).stdout).url).toBeNull();
    const required = run({
      IMAGE_WATCH_DATABASE_URL_FILE: '/dev/null',
      MOLECULE_REQUIRED_SECRETS: 'IMAGE_WATCH_DATABASE_URL',
    });
    expect(required.status).toBe(2);
    expect(required.stderr).toContain('IMAGE_WATCH_DATABASE_URL');
  });

  it('an empty token file, or both NAME and NAME_FILE, exit 2 without the value', () => {
    expect(run({ MOLECULE_ADMIN_TOKEN_FILE: file('empty', '') }).status).toBe(2);
    const both = run({
      MOLECULE_ADMIN_TOKEN: 'tok-in-env-never-printed',
      MOLECULE_ADMIN_TOKEN_FILE: file('t2', 'tok-in-file-never-printed'),
    });
    expect(both.status).toBe(2);
    expect(both.stderr).not.toContain('never-printed');
  });
});
