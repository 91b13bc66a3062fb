import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeEngine, startFakeEngine } from './helpers/fake-engine.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const children: ChildProcess[] = [];
let engine: FakeEngine | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await engine?.close();
  engine = undefined;
});

function run(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--conditions=@molecule/source', '--import', 'tsx', MAIN],
    {
      env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c) => {
    stdout += c;
  });
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('admin-api bin', () => {
  it('exits 2 naming MOLECULE_ADMIN_TOKEN when it is missing', async () => {
    const proc = run({});
    expect(await proc.exited).toBe(2);
    expect(proc.err()).toContain('MOLECULE_ADMIN_TOKEN');
  });

  it('exits 2 naming MOLECULE_IMAGE_REGISTRY when it is invalid', async () => {
    const proc = run({ MOLECULE_ADMIN_TOKEN: 'x', MOLECULE_IMAGE_REGISTRY: 'https://ghcr.io/org' });
    expect(await proc.exited).toBe(2);
    expect(proc.err()).toContain('MOLECULE_IMAGE_REGISTRY');
  });

  it('exits 2 naming MOLECULE_IMAGE_SIGNATURES when it is invalid', async () => {
    const proc = run({ MOLECULE_ADMIN_TOKEN: 'x', MOLECULE_IMAGE_SIGNATURES: 'sometimes' });
    expect(await proc.exited).toBe(2);
    expect(proc.err()).toContain('MOLECULE_IMAGE_SIGNATURES');
  });

  it('listens, logs JSON without the token, and exits 0 on SIGTERM', async () => {
    engine = await startFakeEngine();
    const proc = run({
      MOLECULE_ADMIN_TOKEN: 'very-secret-admin-token',
      ADMIN_API_PORT: '0',
      DOCKER_HOST: `unix://${engine.socketPath}`,
    });
    const until = Date.now() + 15_000;
    while (!proc.out().includes('Server listening') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const line =
      proc
        .out()
        .split('\n')
        .find((l) => l.includes('Server listening')) ?? '';
    const port = Number(/:(\d+)"/.exec(line)?.[1] ?? /:(\d+)/.exec(JSON.parse(line).msg)?.[1]);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const denied = await fetch(`http://127.0.0.1:${port}/admin/workspace-images`, {
      headers: { authorization: 'Bearer very-secret-admin-token-nope' },
    });
    expect(denied.status).toBe(401);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.out()).toContain('"engineApiVersion":"1.41"');
    expect(proc.out()).not.toContain('very-secret-admin-token');
    for (const l of proc.out().trim().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
  }, 30_000);
});
