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

  it('SIGTERM during a refresh longer than 10 s: the refresh finishes and is answered, a keep-alive client is closed, exit 0 inside ADMIN_API_SHUTDOWN_GRACE', async () => {
    engine = await startFakeEngine();
    const token = 'long-refresh-admin-token';
    const proc = run({
      MOLECULE_ADMIN_TOKEN: token,
      ADMIN_API_PORT: '0',
      ADMIN_API_SHUTDOWN_GRACE: '20s',
      MOLECULE_IMAGE_REGISTRY: 'registry.example.test/acme',
      DOCKER_HOST: `unix://${engine.socketPath}`,
    });
    engine.pulls.set('registry.example.test/acme/workspace-template-codex:latest', {
      delayMs: 12_000,
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
    const port = Number(/:(\d+)/.exec(JSON.parse(line).msg)?.[1]);
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${token}` };
    // An idle keep-alive connection, as a client pool leaves one, and the long refresh.
    expect((await fetch(`${base}/healthz`, { headers: { connection: 'keep-alive' } })).status).toBe(
      200,
    );
    const refresh = fetch(`${base}/admin/workspace-images/refresh?runtime=codex&recreate=false`, {
      method: 'POST',
      headers: auth,
    });
    await new Promise((r) => setTimeout(r, 300));
    const signalled = Date.now();
    proc.child.kill('SIGTERM');
    const answer = await refresh;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ pulled: ['codex'] });
    expect(await proc.exited).toBe(0);
    // The pull's 12 s, well past fastify's 10 s plugin timeout, and inside the 20 s grace.
    expect(Date.now() - signalled).toBeLessThan(20_000);
    expect(proc.out()).not.toContain('Plugin did not start in time');
  }, 60_000);
});
