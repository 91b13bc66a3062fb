import { KNOWN_RUNTIMES } from '@molecule/registry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newImageId } from '../helpers/fake-engine.js';
import {
  type Harness,
  PREFIX,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  startHarness,
  TOKEN,
} from '../helpers/harness.js';

const URL = '/admin/workspace-images/refresh';
let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const refresh = (query = '', headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url: `${URL}${query}`, headers: { ...h.auth, ...headers } });

describe('authentication', () => {
  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['a token prefix', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['a longer token', { authorization: `Bearer ${TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ['the bare token', { authorization: TOKEN }],
  ])('answers 401 to %s and touches nothing', async (_name, headers) => {
    for (const url of [`${URL}?runtime=../../etc`, `${URL}?recreate=maybe`, URL]) {
      const response = await h.app.inject({ method: 'POST', url, headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: 'unauthorized', code: 'UNAUTHORIZED' });
    }
    const list = await h.app.inject({ method: 'GET', url: '/admin/workspace-images', headers });
    expect(list.statusCode).toBe(401);
    expect(h.engine.requests).toEqual([]);
  });

  it('accepts the scheme in any case', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: `${URL}?runtime=codex&recreate=false`,
      headers: { authorization: `bearer ${TOKEN}` },
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('bad input', () => {
  it.each([
    'nope',
    '../../etc/passwd',
    'codex/../langgraph',
    'claude-code-default',
    'CODEX',
    '%2e%2e%2f',
  ])('unknown runtime %s → 400 with the known runtimes', async (runtime) => {
    const response = await refresh(`?runtime=${encodeURIComponent(runtime)}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe(`unknown runtime: ${runtime}`);
    expect(response.json().known_runtimes).toHaveLength(9);
    expect(h.engine.requests).toEqual([]);
  });

  it('a very long runtime → 400 without echoing it', async () => {
    const runtime = 'a'.repeat(5000);
    const response = await refresh(`?runtime=${runtime}`);
    expect(response.statusCode).toBe(400);
    expect(response.body.length).toBeLessThan(1000);
  });

  it.each(['maybe', 'TRUE', '1', '', 'yes'])('recreate=%s → 400', async (value) => {
    const response = await refresh(`?runtime=codex&recreate=${value}`);
    expect(response.statusCode).toBe(400);
    expect(h.engine.requests).toEqual([]);
  });

  it('repeated recreate values → 400', async () => {
    expect((await refresh('?recreate=true&recreate=false')).statusCode).toBe(400);
  });

  it('many concurrent bad requests: only 4xx, and the process still answers', async () => {
    const bad = [
      () => h.app.inject({ method: 'POST', url: URL }),
      () => refresh('?runtime=../x'),
      () => refresh('?recreate=maybe'),
      () => refresh(`?runtime=${'x'.repeat(3000)}`),
      () => h.app.inject({ method: 'POST', url: URL, headers: { authorization: 'Bearer x' } }),
    ];
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => bad[i % bad.length]!()),
    );
    for (const response of responses) {
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
    }
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('refresh', () => {
  it('pulls with X-Registry-Auth for the configured host and recreates matching ws-* containers', async () => {
    const newId = newImageId();
    h.engine.pulls.set(h.image('codex'), { imageId: newId });
    const digest = `sha256:${'a'.repeat(64)}`;
    h.engine.addContainer('ws-old-ghcr', 'ghcr.io/molecule-ai/workspace-template-codex:latest');
    h.engine.addContainer('ws-mirror', h.image('codex'));
    h.engine.addContainer('ws-digest', `${PREFIX}/workspace-template-codex@${digest}`);
    h.engine.addContainer('ws-stopped', h.image('codex')).running = false;
    h.engine.addContainer('ws-current', h.image('codex'), newId);
    h.engine.addContainer('ws-other-runtime', h.image('langgraph'));
    h.engine.addContainer(
      'ws-suffix',
      'ghcr.io/molecule-ai/workspace-template-codex-default:latest',
    );
    h.engine.addContainer('not-a-workspace', h.image('codex'));
    h.engine.addContainer('xws-codex', h.image('codex'));

    const response = await refresh('?runtime=codex');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.pulled).toEqual(['codex']);
    expect(body.failed).toEqual([]);
    expect(body.recreated).toEqual(['ws-digest', 'ws-mirror', 'ws-old-ghcr', 'ws-stopped']);
    expect(body.unchanged).toEqual(['ws-current']);
    expect(body.images.codex.id).toBe(newId);
    expect(body.images.codex.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const left = [...h.engine.containers.values()].map((c) => c.name).sort();
    expect(left).toEqual([
      'not-a-workspace',
      'ws-current',
      'ws-other-runtime',
      'ws-suffix',
      'xws-codex',
    ]);

    const pull = h.engine.requests.find((r) => r.path === '/images/create');
    expect(pull?.query).toEqual({ fromImage: `${PREFIX}/workspace-template-codex`, tag: 'latest' });
    expect(pull?.version).toBe('1.41');
    const decoded = JSON.parse(Buffer.from(pull?.registryAuth ?? '', 'base64url').toString('utf8'));
    expect(decoded).toEqual({
      username: REGISTRY_USER,
      password: REGISTRY_PASSWORD,
      serveraddress: 'registry.example.test:5000',
    });
    // grace period passed to stop, and stop only after the pull
    expect(h.engine.events[0]).toBe(`pulled ${h.image('codex')}`);
    expect(h.engine.events).toContain('stopped ws-mirror t=3');
  });

  it('sends the configured platform', async () => {
    await h.close();
    h = await startHarness({ MOLECULE_IMAGE_PLATFORM: 'linux/arm64' });
    await refresh('?runtime=hermes&recreate=false');
    const pull = h.engine.requests.find((r) => r.path === '/images/create');
    expect(pull?.query.platform).toBe('linux/arm64');
  });

  it('pulls every known runtime when runtime is absent or empty, bounded concurrency', async () => {
    for (const rt of ['codex', 'hermes']) h.engine.pulls.set(h.image(rt), { delayMs: 50 });
    for (const query of ['?recreate=false', '?runtime=&recreate=false']) {
      h.engine.stats.maxActivePulls = 0;
      for (const rt of ['autogen', 'codex', 'crewai', 'hermes', 'langgraph', 'openclaw']) {
        h.engine.pulls.set(h.image(rt), { delayMs: 80 });
      }
      const response = await refresh(query);
      expect(response.statusCode).toBe(200);
      expect(response.json().pulled).toHaveLength(9);
      expect(h.engine.stats.maxActivePulls).toBe(3);
    }
  });

  it('recreate=false pulls and leaves containers alone', async () => {
    h.engine.addContainer('ws-1', h.image('codex'));
    const response = await refresh('?runtime=codex&recreate=false');
    expect(response.json()).toMatchObject({ pulled: ['codex'], recreated: [] });
    expect(h.engine.requests.some((r) => r.path === '/containers/json')).toBe(false);
    expect(h.engine.containers.size).toBe(1);
  });

  it('an error line mid-stream is a failed pull; its containers are untouched', async () => {
    h.engine.pulls.set(h.image('codex'), { errorLine: 'unexpected EOF reading blob' });
    h.engine.addContainer('ws-codex', h.image('codex'));
    h.engine.addContainer('ws-hermes', h.image('hermes'));
    const response = await h.app.inject({
      method: 'POST',
      url: `${URL}`,
      headers: h.auth,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.failed).toEqual(['codex']);
    expect(body.pulled).not.toContain('codex');
    expect(body.pulled).toHaveLength(8);
    expect(body.recreated).toEqual(['ws-hermes']);
    expect(body.errors).toEqual([
      expect.objectContaining({
        stage: 'pull',
        runtime: 'codex',
        code: 'PULL_FAILED',
        message: expect.stringContaining('unexpected EOF reading blob'),
      }),
    ]);
    expect([...h.engine.containers.values()].map((c) => c.name)).toEqual(['ws-codex']);
  });

  it.each([
    [500, 'unauthorized: authentication required'],
    [404, 'manifest unknown'],
  ])('an engine HTTP %i on pull is a failed pull', async (status, message) => {
    h.engine.pulls.set(h.image('codex'), { status, message });
    h.engine.addContainer('ws-codex', h.image('codex'));
    const body = (await refresh('?runtime=codex')).json();
    expect(body).toMatchObject({ pulled: [], failed: ['codex'], recreated: [] });
    expect(body.errors[0].message).toContain(message);
    expect(h.engine.containers.size).toBe(1);
    expect(h.engine.requests.some((r) => r.path === '/containers/json')).toBe(false);
  });

  it('a stream cut short, or an image the engine does not have, is not pulled', async () => {
    h.engine.pulls.set(h.image('codex'), { cut: true });
    h.engine.pulls.set(h.image('hermes'), { noImage: true });
    const response = await refresh('?recreate=false');
    // the engine still answers ping, so this is a per-runtime failure, not a 503
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.failed).toEqual(['codex', 'hermes']);
    expect(body.pulled).toHaveLength(7);
    expect(body.errors.map((e: { code: string }) => e.code).sort()).toEqual([
      'ENGINE_UNAVAILABLE',
      'IMAGE_MISSING',
    ]);
  });

  it('bounds each pull by ADMIN_API_PULL_TIMEOUT', async () => {
    await h.close();
    h = await startHarness({ ADMIN_API_PULL_TIMEOUT: '1s' });
    h.engine.pulls.set(h.image('codex'), { hang: true });
    const started = Date.now();
    const body = (await refresh('?runtime=codex')).json();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(body.failed).toEqual(['codex']);
    expect(body.errors[0].code).toBe('PULL_TIMEOUT');
  });

  it('a failing container list → 500 with the partial result', async () => {
    h.engine.failContainerList = 500;
    const response = await refresh('?runtime=codex');
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({
      error: expect.stringContaining('listing ws-* containers failed'),
      partial_result: { pulled: ['codex'], failed: [], recreated: [] },
    });
  });

  it('the engine going away mid-refresh → 503, partial result, nothing reported pulled that was not', async () => {
    await h.close();
    h = await startHarness({ ADMIN_API_PULL_CONCURRENCY: '1' });
    h.engine.pulls.set(h.image('crewai'), { onStart: () => h.engine.crash() });
    const response = await refresh('');
    expect(response.statusCode).toBe(503);
    const body = response.json();
    expect(body.error).toMatch(/unreachable|interrupted|refused/);
    expect(body.partial_result.pulled).toEqual(['autogen', 'claude-code', 'codex']);
    expect(body.partial_result.failed).toHaveLength(6);
    const pulledByEngine = h.engine.events.filter((e) => e.startsWith('pulled')).length;
    expect(body.partial_result.pulled.length).toBe(pulledByEngine);
  });

  it('an engine that cannot be reached at all → 503', async () => {
    h.engine.crash();
    const response = await refresh('?runtime=codex');
    expect(response.statusCode).toBe(503);
    expect(response.json().partial_result).toMatchObject({ pulled: [], failed: ['codex'] });
  });

  it('never puts secrets in responses or logs', async () => {
    h.engine.pulls.set(h.image('codex'), {
      status: 500,
      message: 'unauthorized: authentication required',
    });
    const responses = [
      await refresh('?runtime=codex'),
      await refresh('?runtime=hermes', { accept: 'application/x-ndjson' }),
      await h.app.inject({
        method: 'POST',
        url: URL,
        headers: { authorization: `Bearer ${TOKEN}-wrong` },
      }),
    ];
    const registryAuth = h.engine.requests.find((r) => r.registryAuth)?.registryAuth;
    expect(registryAuth).toBeDefined();
    const text = h.logs.join('\n') + responses.map((r) => r.body).join('\n');
    expect(h.logs.length).toBeGreaterThan(3);
    for (const secret of [TOKEN, REGISTRY_PASSWORD, registryAuth as string]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('NDJSON streaming', () => {
  it('streams progress, removals and ends with the result', async () => {
    h.engine.addContainer('ws-a', h.image('codex'));
    const response = await refresh('?runtime=codex', { accept: 'application/x-ndjson' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/x-ndjson');
    const lines = response.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ event: 'started', runtimes: ['codex'], recreate: true });
    const progress = lines.filter((l) => l.event === 'pull-progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({
      runtime: 'codex',
      layers_done: 2,
      layers_total: 2,
      bytes_done: 2048,
      bytes_total: 2048,
    });
    expect(lines).toContainEqual(expect.objectContaining({ event: 'pulled', runtime: 'codex' }));
    expect(lines).toContainEqual({
      event: 'container-removed',
      container: 'ws-a',
      runtime: 'codex',
    });
    expect(lines.at(-1)).toMatchObject({ result: { pulled: ['codex'], recreated: ['ws-a'] } });
  });

  it('ends with the partial result and the error status when the engine fails', async () => {
    h.engine.failContainerList = 500;
    const response = await refresh('?runtime=codex', { accept: 'application/x-ndjson' });
    const last = JSON.parse(response.body.trim().split('\n').at(-1) as string);
    expect(last).toMatchObject({
      status: 500,
      result: { pulled: ['codex'] },
      error: expect.any(String),
    });
  });
});

describe('concurrency', () => {
  it('serializes refreshes; each request gets its own complete result', async () => {
    const runtimes = ['codex', 'hermes', 'crewai', 'openclaw'];
    for (const rt of runtimes) {
      h.engine.pulls.set(h.image(rt), { delayMs: 60 });
      h.engine.addContainer(`ws-${rt}`, h.image(rt));
    }
    const responses = await Promise.all(runtimes.map((rt) => refresh(`?runtime=${rt}`)));
    responses.forEach((response, i) => {
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        pulled: [runtimes[i]],
        failed: [],
        recreated: [`ws-${runtimes[i]}`],
      });
    });
    expect(h.engine.stats.maxActivePulls).toBe(1);
    // never interleaved: each pull is followed by its own removal before the next pull
    const order = h.engine.events.filter((e) => !e.startsWith('stopped'));
    expect(order).toHaveLength(8);
    for (let i = 0; i < order.length; i += 2) {
      const rt = order[i]!.match(/workspace-template-([a-z-]+):/)?.[1];
      expect(order[i + 1]).toBe(`removed ws-${rt}`);
    }
  });

  it('refuses distinct refreshes beyond the queue limit with 429', async () => {
    await h.close();
    h = await startHarness({ ADMIN_API_REFRESH_QUEUE_LIMIT: '2' });
    for (const runtime of KNOWN_RUNTIMES) h.engine.pulls.set(h.image(runtime), { delayMs: 150 });
    const responses = await Promise.all(
      KNOWN_RUNTIMES.slice(0, 6).map((runtime) => refresh(`?runtime=${runtime}&recreate=false`)),
    );
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    expect(responses.find((r) => r.statusCode === 429)?.json()).toMatchObject({
      code: 'TOO_MANY_REFRESHES',
    });
  });

  it('joins identical waiting refreshes: every caller gets the one result, the engine pulls once more', async () => {
    await h.close();
    h = await startHarness({ ADMIN_API_REFRESH_QUEUE_LIMIT: '1' });
    h.engine.pulls.set(h.image('codex'), { delayMs: 150 });
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => refresh('?runtime=codex&recreate=false')),
    );
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    // The first ran at once; the five behind it were one job.
    expect(h.engine.events.filter((e) => e === `pulled ${h.image('codex')}`)).toHaveLength(2);
    const [, ...joined] = responses.map((r) => r.json());
    for (const body of joined) expect(body).toEqual(joined[0]);
  });
});
