import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type FakeRegistry, startFakeRegistry } from '@molecule/fake-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { runCli } from '../../src/cli/run-cli.js';
import { tempDir } from '../helpers.js';

const USER = { username: 'cli-user', password: 'cli-pa55word-secret' };
const HOOK_TOKEN = 'cli-hook-token-secret';
const appDir = fileURLToPath(new URL('../..', import.meta.url));
let registry: FakeRegistry;

beforeAll(async () => {
  registry = await startFakeRegistry({ auth: 'bearer', users: [USER] });
  registry.pushRandomImage('molecule-ai/workspace-template-codex', 'latest');
  registry.pushRandomImage('molecule-ai/workspace-template-langgraph', 'latest');
});
afterAll(async () => registry.close());

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += String(chunk);
      callback();
    },
  });
  return { stream, text: () => text };
}

async function cli(argv: string[], env: Record<string, string> = {}) {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(argv, { stdout: stdout.stream, stderr: stderr.stream, env });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const registryEnv = () => ({
  MOLECULE_IMAGE_REGISTRY: `${registry.host}/molecule-ai`,
  MOLECULE_REGISTRY_USERNAME: USER.username,
  MOLECULE_REGISTRY_PASSWORD: USER.password,
});

describe('imagewatch check', () => {
  it('exit 0 and a table when every runtime resolves', async () => {
    const { code, stdout } = await cli(['check'], {
      ...registryEnv(),
      IMAGE_WATCH_RUNTIMES: 'codex,langgraph',
    });
    expect(code).toBe(0);
    const digest = registry.digestOf('molecule-ai/workspace-template-codex', 'latest')!;
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RUNTIME\s+IMAGE\s+DIGEST$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^codex\\s+${registry.host}/molecule-ai/workspace-template-codex:latest\\s+${digest.slice(0, 19)}$`,
      ),
    );
    expect(lines).toHaveLength(3);
  });

  it('exit 1 when a runtime does not resolve; --json names the error code', async () => {
    const { code, stdout } = await cli(['check', '--json'], {
      ...registryEnv(),
      IMAGE_WATCH_RUNTIMES: 'codex,openclaw',
    });
    expect(code).toBe(1);
    const json = JSON.parse(stdout);
    expect(json.ok).toBe(false);
    expect(json.registry).toBe(registry.host);
    expect(json.results[0]).toMatchObject({
      runtime: 'codex',
      digest: registry.digestOf('molecule-ai/workspace-template-codex', 'latest'),
    });
    expect(json.results[1]).toMatchObject({ runtime: 'openclaw', error: { code: 'NOT_FOUND' } });
    expect(stdout).not.toContain(USER.password);
  });

  it('exit 1 with wrong credentials, without printing them', async () => {
    const { code, stdout } = await cli(['check'], {
      ...registryEnv(),
      MOLECULE_REGISTRY_PASSWORD: 'definitely-wrong-secret',
      IMAGE_WATCH_RUNTIMES: 'codex',
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(/codex .* error UNAUTHORIZED/);
    expect(stdout).not.toContain('definitely-wrong-secret');
  });

  it.each([
    [{ IMAGE_WATCH_INTERVAL: '0' }, 'IMAGE_WATCH_INTERVAL'],
    [{ IMAGE_WATCH_INTERVAL: 'abc' }, 'IMAGE_WATCH_INTERVAL'],
    [{ MOLECULE_IMAGE_REGISTRY: 'https://ghcr.io/molecule-ai' }, 'MOLECULE_IMAGE_REGISTRY'],
    [{ IMAGE_AUTO_REFRESH: 'true' }, 'MOLECULE_ADMIN_TOKEN'],
    [{ IMAGE_WATCH_RUNTIMES: 'cobol' }, 'IMAGE_WATCH_RUNTIMES'],
  ])('bad configuration %j → exit 2 naming %s', async (env, variable) => {
    for (const command of ['check', 'run']) {
      const { code, stderr, stdout } = await cli([command], env);
      expect(code).toBe(2);
      expect(stderr).toContain(`configuration error: ${variable}`);
      expect(stdout).toBe('');
    }
  });

  it('--help, --version, bad usage', async () => {
    expect(await cli(['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('imagewatch <command>'),
    });
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${packageJson.version}\n` });
    expect(await cli([])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('missing command'),
    });
    expect(await cli(['frobnicate'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command'),
    });
    expect(await cli(['check', '--nope'])).toMatchObject({ code: 2 });
    expect(await cli(['run', '--json'])).toMatchObject({ code: 2 });
    expect(await cli(['rollout'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('needs an id'),
    });
    expect(await cli(['rollout', 'x', 'explode'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown rollout action'),
    });
    expect(await cli(['rollouts', 'extra'])).toMatchObject({ code: 2 });
    expect(await cli(['rollouts'], {})).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('needs MOLECULE_ADMIN_TOKEN'),
    });
  });
});

/** The real entry point through tsx, as `imagewatch` would run. */
function spawnMain(args: string[], env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@molecule/source', 'src/main.ts', ...args],
    {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

describe('bin imagewatch (src/main.ts)', () => {
  it('exits 2 on bad configuration, naming the variable', async () => {
    const proc = spawnMain(['check'], { IMAGE_WATCH_INTERVAL: 'abc' });
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain('IMAGE_WATCH_INTERVAL');
  });

  it('run: serves, ticks, and on SIGTERM flushes state and exits 0', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const proc = spawnMain(['run'], {
        ...registryEnv(),
        IMAGE_WATCH_RUNTIMES: 'codex,langgraph',
        IMAGE_WATCH_PORT: '0',
        IMAGE_WATCH_INTERVAL: '1h',
        IMAGE_WATCH_DATA_DIR: dir,
        IMAGE_WATCH_HOOK_TOKEN: HOOK_TOKEN,
      });
      const waitForLog = async (text: string) => {
        const deadline = Date.now() + 15_000;
        while (!proc.stdout().includes(text)) {
          if (Date.now() > deadline)
            throw new Error(`no ${text}: ${proc.stdout()} ${proc.stderr()}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      await waitForLog('"msg":"tick done"');

      // The registry hook is served on the same port, with the bearer from the environment.
      const started = proc
        .stdout()
        .split('\n')
        .map((line) => (line.startsWith('{') ? JSON.parse(line) : {}))
        .find((line) => String(line.msg).startsWith('imagewatch started'));
      expect(started.hooks).toEqual({ distribution: true, github: false });
      const hook = await fetch(`http://127.0.0.1:${started.port}/hooks/registry`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${HOOK_TOKEN}`,
          'content-type': 'application/vnd.docker.distribution.events.v1+json',
        },
        body: JSON.stringify({
          events: [
            {
              action: 'push',
              target: { repository: 'molecule-ai/workspace-template-codex', tag: 'latest' },
              request: { host: registry.host },
            },
          ],
        }),
      });
      expect(hook.status).toBe(202);
      await waitForLog('"msg":"registry hook: check done"');
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
      expect(state.version).toBe(2);
      expect(
        state.images[`${registry.host}/molecule-ai/workspace-template-codex:latest`].digest,
      ).toBe(registry.digestOf('molecule-ai/workspace-template-codex', 'latest'));
      expect(proc.stdout()).toContain('state flushed');
      expect(proc.stdout()).not.toContain(USER.password);
      expect(proc.stdout()).not.toContain(HOOK_TOKEN);
    } finally {
      await cleanup();
    }
  });
});
