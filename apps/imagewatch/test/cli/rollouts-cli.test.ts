/**
 * `imagewatch rollouts` and `imagewatch rollout <id> [action]` against a running service
 * (`imagewatch run` in process, the fake registry, a fake admin-api).
 */

import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type FakeRegistry, startFakeRegistry } from '@molecule/fake-registry';
import { manualStop } from '@molecule/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { sha, tempDir, waitFor } from '../helpers.js';

const TOKEN = 'cli-rollouts-token';
let registry: FakeRegistry;
let admin: FakeAdminApi;
let dir: string;
let cleanup: () => Promise<void>;
let env: Record<string, string>;
let stop: ReturnType<typeof manualStop>;
let running: Promise<number>;

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

async function cli(argv: string[], extra: Record<string, string> = {}) {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(argv, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { ...env, ...extra },
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  registry = await startFakeRegistry({ auth: 'none' });
  registry.pushRandomImage('molecule-ai/workspace-template-codex', 'latest');
  const prefix = `${registry.host}/molecule-ai`;
  admin = await startFakeAdminApi({ token: TOKEN, prefix });
  // The host runs an older digest: first sight rolls the registry's out.
  admin.setLocal('codex', `${prefix}/workspace-template-codex:latest`, {
    id: 'sha256:x',
    digest: sha(1),
  });
  env = {
    MOLECULE_IMAGE_REGISTRY: prefix,
    IMAGE_WATCH_RUNTIMES: 'codex',
    IMAGE_AUTO_REFRESH: 'true',
    MOLECULE_ADMIN_TOKEN: TOKEN,
    MOLECULE_ADMIN_API_URL: admin.url,
    IMAGE_WATCH_STATE_FILE: join(dir, 'state.json'),
    IMAGE_WATCH_PORT: '0',
    IMAGE_WATCH_INTERVAL: '1h',
    DOCKER_CONFIG: dir,
  };
  stop = manualStop();
  let port = 0;
  running = runCli(['run'], {
    stdout: capture().stream,
    stderr: capture().stream,
    env,
    stop: stop.stop,
    onListening: (address) => {
      port = address.port;
    },
  });
  await waitFor(() => port > 0);
  env.IMAGE_WATCH_URL = `http://127.0.0.1:${port}`;
  await waitFor(() => admin.refreshes.length === 1, 5_000);
});
afterAll(async () => {
  stop.fire('test over');
  await running;
  await admin.close();
  await registry.close();
  await cleanup();
});

describe('imagewatch rollouts / rollout', () => {
  it('lists the rollouts as a table and as JSON', async () => {
    await waitFor(
      async () => JSON.parse((await cli(['rollouts', '--json'])).stdout)[0]?.state === 'done',
      5_000,
    );
    const table = await cli(['rollouts']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+RUNTIME\s+FROM\s+TO\s+STATE\s+WAVE\s+HOSTS DONE\s+UPDATED$/);
    expect(lines[1]).toMatch(
      /^r-codex-\S+\s+codex\s+sha256:000100010001\s+sha256:\S{12}\s+done\s+1\/1\s+1\/1\s+/,
    );
    const json = JSON.parse((await cli(['rollouts', '--json'])).stdout);
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ runtime: 'codex', state: 'done', from: sha(1) });
  });

  it('shows one rollout host by host, and refuses an action in the wrong state (exit 1)', async () => {
    const [rollout] = JSON.parse((await cli(['rollouts', '--json'])).stdout);
    const shown = await cli(['rollout', rollout.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`rollout  ${rollout.id} (rollout)`);
    expect(shown.stdout).toMatch(/WAVE\s+HOST\s+STATE\s+ATTEMPTS/);
    expect(shown.stdout).toMatch(/1\s+default\s+done\s+1/);
    const refused = await cli(['rollout', rollout.id, 'resume']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('409 ROLLOUT_STATE cannot resume a rollout that is done');
    const back = await cli(['rollout', rollout.id, 'rollback', '--json']);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({
      state: 'rolled_back',
      rollback: { to: sha(1) },
    });
    expect((await cli(['rollout', 'r-nope'])).code).toBe(1);
  });

  it('says where it looked when the service is not there', async () => {
    const result = await cli(['rollouts'], { IMAGE_WATCH_URL: 'http://127.0.0.1:9' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach the service at http://127.0.0.1:9');
  });
});
