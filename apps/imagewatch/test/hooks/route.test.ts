/**
 * `POST /hooks/registry` through `app.inject`, wired to a real watcher (scripted registry
 * client, real state store, fake admin-api): authentication, malformed bodies, ignored
 * events, the check and refresh an accepted event causes, coalescing of bursts, metrics.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_HOOK_BODY_LIMIT } from '../../src/hooks/route.js';
import { sha } from '../helpers.js';
import {
  ADMIN_TOKEN,
  GITHUB_SECRET,
  HOOK_TOKEN,
  HOST,
  hookMetric,
  LANGGRAPH,
  postEnvelope,
  postGitHub,
  pushLatest,
  REPO,
  useHookHarness,
} from './harness.js';
import {
  distributionEnvelope,
  distributionEvent,
  githubPackageBody,
  signGitHubPayload,
} from './payloads.js';

const rig = useHookHarness();
const { setup } = rig;

describe('disabled', () => {
  it('is 404 when neither secret is set', async () => {
    const { app } = await setup({});
    const response = await postEnvelope(app, pushLatest(), `Bearer ${HOOK_TOKEN}`);
    expect(response.statusCode).toBe(404);
    const github = await postGitHub(app, githubPackageBody());
    expect(github.statusCode).toBe(404);
    // The rest of the app is unaffected.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('distribution envelope', () => {
  it('a push of latest answers 202 at once, then checks with one HEAD and refreshes', async () => {
    const { app, client, settled } = await setup();
    client.digests.set(LANGGRAPH, sha(900));
    const response = await postEnvelope(app, pushLatest(), `Bearer ${HOOK_TOKEN}`);
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({
      status: 'accepted',
      checking: ['langgraph'],
      events: [{ outcome: 'accepted', runtime: 'langgraph' }],
    });
    // Acknowledged before the check ran.
    expect(client.state.calls).toBe(0);
    expect(rig.admin.refreshes).toEqual([]);

    await settled();
    expect(client.state.calls).toBe(1);
    expect(rig.admin.refreshes.map((c) => [c.runtime, c.recreate, c.authorized])).toEqual([
      ['langgraph', 'true', true],
    ]);
  });

  it('does not trust the digest in the body: a forged "moved" digest refreshes nothing', async () => {
    const { app, client, settled } = await setup();
    const response = await postEnvelope(app, pushLatest(sha(777)), `Bearer ${HOOK_TOKEN}`);
    expect(response.statusCode).toBe(202);
    await settled();
    expect(client.state.calls).toBe(1); // asked the registry, which says nothing moved
    expect(rig.admin.refreshes).toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['wrong', 'Bearer not-the-token'],
    ['a prefix of the token', `Bearer ${HOOK_TOKEN.slice(0, 8)}`],
    ['the token without scheme', HOOK_TOKEN],
    ['Basic scheme', `Basic ${Buffer.from(`x:${HOOK_TOKEN}`).toString('base64')}`],
  ])('refuses a %s bearer with 401 and changes nothing', async (_name, authorization) => {
    const { app, client, settled, metrics } = await setup();
    client.digests.set(LANGGRAPH, sha(900));
    const response = await postEnvelope(app, pushLatest(), authorization);
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="imagewatch"');
    expect(response.json()).toEqual({ error: 'unauthorized', code: 'UNAUTHORIZED' });
    await settled();
    expect(client.state.calls).toBe(0);
    expect(rig.admin.refreshes).toEqual([]);
    expect(await hookMetric(metrics, 'distribution', 'unauthorized')).toBe(1);
  });

  it('refuses envelopes when only the GitHub secret is set', async () => {
    const { app } = await setup({ githubSecret: GITHUB_SECRET });
    const response = await postEnvelope(app, pushLatest(), `Bearer ${HOOK_TOKEN}`);
    expect(response.statusCode).toBe(401);
  });

  it.each([
    ['not JSON', 'events: [push]'],
    ['truncated JSON', pushLatest().slice(0, 40)],
    ['empty', ''],
    ['wrong shape', JSON.stringify({ events: 'push' })],
    ['an event without target', JSON.stringify({ events: [{ action: 'push' }] })],
  ])('answers 400 to a body that is %s', async (_name, body) => {
    const { app, client, settled, metrics } = await setup();
    const response = await postEnvelope(app, body, `Bearer ${HOOK_TOKEN}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/not JSON|not a distribution envelope|empty body/);
    await settled();
    expect(client.state.calls).toBe(0);
    expect(await hookMetric(metrics, 'distribution', 'malformed')).toBe(1);
  });

  it('answers 413 to a body over the limit, and 401 first when the bearer is wrong', async () => {
    const { app, client, metrics } = await setup();
    const big = distributionEnvelope(
      ...Array.from({ length: 1_500 }, () =>
        distributionEvent({ repository: REPO, tag: 'latest', host: HOST }),
      ),
    );
    expect(big.length).toBeGreaterThan(DEFAULT_HOOK_BODY_LIMIT);
    const response = await postEnvelope(app, big, `Bearer ${HOOK_TOKEN}`);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await hookMetric(metrics, 'distribution', 'too_large')).toBe(1);
    const unauthenticated = await postEnvelope(app, big, 'Bearer wrong');
    expect(unauthenticated.statusCode).toBe(401);
    expect(client.state.calls).toBe(0);
  });

  it('acknowledges and ignores other repositories, tags, blobs and pulls (200)', async () => {
    const { app, client, settled, metrics } = await setup();
    client.digests.set(LANGGRAPH, sha(900));
    const body = distributionEnvelope(
      distributionEvent({ repository: REPO, host: HOST, mediaType: 'application/octet-stream' }),
      distributionEvent({ repository: REPO, tag: 'v1', host: HOST }),
      distributionEvent({ repository: 'molecule-ai/website', tag: 'latest', host: HOST }),
      distributionEvent({ repository: 'other/app', tag: 'latest', host: HOST }),
      distributionEvent({ repository: REPO, tag: 'latest', host: HOST, action: 'pull' }),
      distributionEvent({
        repository: 'molecule-ai/workspace-template-hermes',
        tag: 'latest',
        host: HOST,
      }),
    );
    const response = await postEnvelope(app, body, `Bearer ${HOOK_TOKEN}`);
    expect(response.statusCode).toBe(200);
    const json = response.json();
    expect(json.status).toBe('ignored');
    expect(json.checking).toEqual([]);
    expect(json.events.map((e: { reason: string }) => e.reason)).toEqual([
      'tag',
      'tag',
      'repository',
      'repository',
      'action',
      'not_watched',
    ]);
    expect(json.events[2].detail).toContain('molecule-ai/website');
    await settled();
    expect(client.state.calls).toBe(0);
    expect(rig.admin.refreshes).toEqual([]);
    expect(await hookMetric(metrics, 'distribution', 'ignored_tag')).toBe(2);
    expect(await hookMetric(metrics, 'distribution', 'ignored_repository')).toBe(2);
    expect(await hookMetric(metrics, 'distribution', 'ignored_action')).toBe(1);
  });

  it('a notification naming another host or organisation (a proxy rewrote Host, a mirror) checks the configured reference', async () => {
    const { app, client, settled } = await setup();
    client.digests.set(LANGGRAPH, sha(901));
    const body = distributionEnvelope(
      distributionEvent({
        repository: 'upstream-org/workspace-template-langgraph',
        tag: 'latest',
        host: 'registry-behind-proxy.internal:443',
      }),
    );
    const response = await postEnvelope(app, body, `Bearer ${HOOK_TOKEN}`);
    expect(response.statusCode).toBe(202);
    expect(response.json().checking).toEqual(['langgraph']);
    await settled();
    // One HEAD of the configured reference; the body's host is never asked.
    expect(client.state.calls).toBe(1);
    expect(rig.admin.refreshes.map((c) => [c.runtime, c.digest])).toEqual([
      ['langgraph', sha(901)],
    ]);
  });

  it('a burst of 20 identical events is one check and one refresh', async () => {
    const { app, client, settled, metrics } = await setup(undefined, { coalesceMs: 200 });
    client.digests.set(LANGGRAPH, sha(900));
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => postEnvelope(app, pushLatest(), `Bearer ${HOOK_TOKEN}`)),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(202));
    await settled();
    expect(client.state.calls).toBe(1);
    expect(rig.admin.refreshes).toHaveLength(1);
    expect(await hookMetric(metrics, 'distribution', 'accepted')).toBe(20);
  });

  it('events arriving while a check runs queue one more check; still one refresh per digest', async () => {
    const { app, client, settled } = await setup(undefined, { coalesceMs: 0 });
    let release!: () => void;
    client.state.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    client.digests.set(LANGGRAPH, sha(900));
    await postEnvelope(app, pushLatest(), `Bearer ${HOOK_TOKEN}`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the first check is in the HEAD
    expect(client.state.calls).toBe(1);
    for (let n = 0; n < 10; n += 1) {
      await postEnvelope(app, pushLatest(), `Bearer ${HOOK_TOKEN}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    release();
    client.state.gate = undefined;
    await settled();
    expect(client.state.calls).toBe(2); // the running one and one coalesced behind it
    expect(rig.admin.refreshes).toHaveLength(1);
  });

  it('replayed and out-of-order deliveries refresh once per digest', async () => {
    const { app, client, settled } = await setup(undefined, { coalesceMs: 0 });
    const first = pushLatest(sha(900));
    const second = pushLatest(sha(901));
    client.digests.set(LANGGRAPH, sha(900));
    await postEnvelope(app, first, `Bearer ${HOOK_TOKEN}`);
    await settled();
    client.digests.set(LANGGRAPH, sha(901));
    await postEnvelope(app, second, `Bearer ${HOOK_TOKEN}`);
    await settled();
    // The registry retries the first delivery late, then both again.
    for (const body of [first, second, first]) {
      await postEnvelope(app, body, `Bearer ${HOOK_TOKEN}`);
      await settled();
    }
    expect(client.state.calls).toBe(5);
    expect(rig.admin.refreshes).toHaveLength(2);
  });
});

describe('GitHub package webhooks', () => {
  const ghcrSecrets = { githubSecret: GITHUB_SECRET, registryHost: 'ghcr.io' };
  const GHCR_LANGGRAPH = 'ghcr.io/molecule-ai/workspace-template-langgraph:latest';

  it('a signed package event for latest is checked and refreshed', async () => {
    const { app, client, settled, metrics } = await setup(ghcrSecrets);
    client.digests.set(GHCR_LANGGRAPH, sha(900));
    const response = await postGitHub(app, githubPackageBody());
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ checking: ['langgraph'] });
    await settled();
    expect(client.state.calls).toBe(1);
    expect(rig.admin.refreshes.map((c) => c.runtime)).toEqual(['langgraph']);
    expect(await hookMetric(metrics, 'github', 'accepted')).toBe(1);
  });

  it('a registry_package event works the same', async () => {
    const { app, client, settled } = await setup(ghcrSecrets);
    client.digests.set(GHCR_LANGGRAPH, sha(900));
    const body = githubPackageBody({ event: 'registry_package' });
    const response = await postGitHub(app, body, undefined, 'registry_package');
    expect(response.statusCode).toBe(202);
    await settled();
    expect(rig.admin.refreshes).toHaveLength(1);
  });

  it.each([
    ['missing', () => null],
    ['forged (another secret)', (body: string) => signGitHubPayload(body, 'guessed-secret')],
    ['for another body', () => signGitHubPayload(githubPackageBody({ tag: 'v1' }), GITHUB_SECRET)],
    ['empty', () => ''],
    ['the secret itself', () => `sha256=${GITHUB_SECRET}`],
  ] as Array<[string, (body: string) => string | null]>)(
    'refuses a %s signature with 401 and changes nothing',
    async (_name, sign) => {
      const { app, client, settled, metrics } = await setup(ghcrSecrets);
      client.digests.set(GHCR_LANGGRAPH, sha(900));
      const body = githubPackageBody();
      const response = await postGitHub(app, body, sign(body));
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: 'unauthorized', code: 'UNAUTHORIZED' });
      await settled();
      expect(client.state.calls).toBe(0);
      expect(rig.admin.refreshes).toEqual([]);
      expect(await hookMetric(metrics, 'github', 'unauthorized')).toBe(1);
    },
  );

  it('verifies the raw bytes: the same JSON re-serialised does not pass', async () => {
    const { app } = await setup(ghcrSecrets);
    const body = githubPackageBody();
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    const response = await postGitHub(app, pretty, signGitHubPayload(body, GITHUB_SECRET));
    expect(response.statusCode).toBe(401);
    const ok = await postGitHub(app, pretty, signGitHubPayload(pretty, GITHUB_SECRET));
    expect(ok.statusCode).toBe(202);
  });

  it('refuses GitHub deliveries when only the bearer token is set, even with a good bearer', async () => {
    const { app } = await setup({ hookToken: HOOK_TOKEN, registryHost: 'ghcr.io' });
    const body = githubPackageBody();
    const response = await app.inject({
      method: 'POST',
      url: '/hooks/registry',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'package',
        'x-hub-signature-256': signGitHubPayload(body, GITHUB_SECRET),
        authorization: `Bearer ${HOOK_TOKEN}`,
      },
      payload: body,
    });
    expect(response.statusCode).toBe(401);
  });

  it('answers ping and other events with 200, ignored', async () => {
    const { app, client } = await setup(ghcrSecrets);
    const body = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
    const response = await postGitHub(app, body, undefined, 'ping');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'ignored',
      events: [{ outcome: 'ignored', reason: 'event' }],
    });
    expect(client.state.calls).toBe(0);
  });

  it.each([
    [
      'form-encoded (webhook content type not JSON)',
      `payload=${encodeURIComponent(githubPackageBody())}`,
      /application\/json/,
    ],
    [
      'of the wrong shape',
      JSON.stringify({ action: 'published', package: { name: 1 } }),
      /not a GitHub package event/,
    ],
  ])('answers 400 to a signed body %s', async (_name, body, message) => {
    const { app, metrics } = await setup(ghcrSecrets);
    const response = await postGitHub(app, body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(message);
    expect(await hookMetric(metrics, 'github', 'malformed')).toBe(1);
  });

  it('ignores other tags, packages and package types with 200 and the reason', async () => {
    const { app, client } = await setup(ghcrSecrets);
    for (const [options, reason] of [
      [{ tag: 'sha-1234567' }, 'tag'],
      [{ name: 'website' }, 'repository'],
      [{ owner: 'someone-else', name: 'website' }, 'repository'],
      [{ packageType: 'npm' }, 'package_type'],
    ] as const) {
      const response = await postGitHub(app, githubPackageBody(options));
      expect(response.statusCode).toBe(200);
      expect(response.json().events[0].reason).toBe(reason);
    }
    expect(client.state.calls).toBe(0);
  });

  it('a replayed delivery checks again but refreshes once', async () => {
    const { app, client, settled } = await setup(ghcrSecrets, { coalesceMs: 0 });
    client.digests.set(GHCR_LANGGRAPH, sha(900));
    const body = githubPackageBody();
    for (let n = 0; n < 3; n += 1) {
      expect((await postGitHub(app, body)).statusCode).toBe(202);
      await settled();
    }
    expect(client.state.calls).toBe(3);
    expect(rig.admin.refreshes).toHaveLength(1);
  });
});

describe('secrets', () => {
  it('never appear in responses, logs or metrics', async () => {
    const { app, client, settled, metrics, log } = await setup({
      hookToken: HOOK_TOKEN,
      githubSecret: GITHUB_SECRET,
    });
    client.digests.set(LANGGRAPH, sha(900));
    const bodies: string[] = [];
    for (const authorization of [`Bearer ${HOOK_TOKEN}`, `Bearer ${HOOK_TOKEN}x`, undefined]) {
      bodies.push((await postEnvelope(app, pushLatest(), authorization)).body);
      bodies.push((await postEnvelope(app, 'nope', authorization)).body);
    }
    const github = githubPackageBody();
    bodies.push((await postGitHub(app, github, signGitHubPayload(github, 'x'))).body);
    bodies.push((await postGitHub(app, github)).body);
    await settled();
    const everything = [...bodies, log.text(), await metrics.registry.metrics()].join('\n');
    for (const secret of [HOOK_TOKEN, GITHUB_SECRET, ADMIN_TOKEN]) {
      expect(everything).not.toContain(secret);
    }
    expect(log.text()).toContain('registry hook: unauthenticated request refused');
    expect(await metrics.registry.metrics()).toMatch(
      /imagewatch_hook_events_total\{source="distribution",outcome="accepted"\} 1/,
    );
  });
});
