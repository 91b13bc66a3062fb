/**
 * Harbor webhooks on `POST /hooks/registry` through `app.inject` (the rig of hook-harness.ts):
 * the bearer check, the Default and CloudEvents formats, ignored events, malformed bodies,
 * bursts. Payloads follow Harbor's documentation; no real Harbor is involved.
 */
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { sha } from '../helpers.js';
import { GITHUB_SECRET, HOOK_TOKEN, hookMetric, useHookHarness } from './harness.js';
import { harborCloudEventBody, harborWebhookBody } from './payloads.js';

const rig = useHookHarness();
const HARBOR = 'harbor.example.com';
const LANGGRAPH = `${HARBOR}/molecule-ai/workspace-template-langgraph:latest`;
const harborSecrets = { hookToken: HOOK_TOKEN, registryHost: HARBOR };

/** What Harbor sends: `Authorization` is the policy's "Auth Header", verbatim. */
function postHarbor(
  app: FastifyInstance,
  body: string,
  /** `null`: no Authorization header at all. */
  authorization: string | null = `Bearer ${HOOK_TOKEN}`,
  contentType = 'application/json',
) {
  return app.inject({
    method: 'POST',
    url: '/hooks/registry',
    headers: {
      'content-type': contentType,
      'user-agent': 'Go-http-client/1.1',
      ...(authorization === null ? {} : { authorization }),
    },
    payload: body,
  });
}

describe('Harbor webhooks', () => {
  it('a push of latest answers 202 at once, then checks with one HEAD and refreshes', async () => {
    const { app, client, settled, metrics } = await rig.setup(harborSecrets);
    client.digests.set(LANGGRAPH, sha(900));
    const response = await postHarbor(app, harborWebhookBody());
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({
      status: 'accepted',
      checking: ['langgraph'],
      events: [{ outcome: 'accepted', runtime: 'langgraph', tag: 'latest' }],
    });
    expect(client.state.calls).toBe(0); // acknowledged before the check ran
    await settled();
    expect(client.state.calls).toBe(1);
    expect(rig.admin.refreshes.map((c) => [c.runtime, c.recreate])).toEqual([
      ['langgraph', 'true'],
    ]);
    expect(await hookMetric(metrics, 'harbor', 'accepted')).toBe(1);
    expect(await hookMetric(metrics, 'distribution', 'accepted')).toBe(0);
  });

  it('the CloudEvents format works the same', async () => {
    const { app, client, settled, metrics } = await rig.setup(harborSecrets);
    client.digests.set(LANGGRAPH, sha(900));
    const response = await postHarbor(
      app,
      harborCloudEventBody(),
      `Bearer ${HOOK_TOKEN}`,
      'application/cloudevents+json',
    );
    expect(response.statusCode).toBe(202);
    await settled();
    expect(client.state.calls).toBe(1);
    expect(rig.admin.refreshes).toHaveLength(1);
    expect(await hookMetric(metrics, 'harbor', 'accepted')).toBe(1);
  });

  it('does not trust the digest in the body: a forged "moved" digest refreshes nothing', async () => {
    const { app, client, settled } = await rig.setup(harborSecrets);
    const response = await postHarbor(app, harborWebhookBody({ digest: sha(777) }));
    expect(response.statusCode).toBe(202);
    await settled();
    expect(client.state.calls).toBe(1); // asked the registry, which says nothing moved
    expect(rig.admin.refreshes).toEqual([]);
  });

  it.each([
    ['missing', null],
    ['wrong', 'Bearer not-the-token'],
    ['the token without the Bearer scheme (an Auth Header set to the bare token)', HOOK_TOKEN],
    ['Basic scheme', `Basic ${Buffer.from(`x:${HOOK_TOKEN}`).toString('base64')}`],
  ])('refuses a %s Authorization with 401 and changes nothing', async (_name, authorization) => {
    const { app, client, settled, metrics } = await rig.setup(harborSecrets);
    client.digests.set(LANGGRAPH, sha(900));
    const response = await postHarbor(app, harborWebhookBody(), authorization);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: 'unauthorized', code: 'UNAUTHORIZED' });
    await settled();
    expect(client.state.calls).toBe(0);
    expect(rig.admin.refreshes).toEqual([]);
    // Refused before the body is read, so before its format is known.
    expect(await hookMetric(metrics, 'distribution', 'unauthorized')).toBe(1);
  });

  it('refuses Harbor webhooks when only the GitHub secret is set', async () => {
    const { app, client } = await rig.setup({ githubSecret: GITHUB_SECRET, registryHost: HARBOR });
    const response = await postHarbor(app, harborWebhookBody());
    expect(response.statusCode).toBe(401);
    expect(client.state.calls).toBe(0);
  });

  it.each([
    ['without event_data', JSON.stringify({ type: 'PUSH_ARTIFACT', occur_at: 1 }), /event_data/],
    [
      'with resources that are not a list',
      JSON.stringify({ type: 'PUSH_ARTIFACT', event_data: { resources: 'latest' } }),
      /not a Harbor webhook/,
    ],
    [
      'a CloudEvent without type',
      JSON.stringify({ specversion: '1.0', data: {} }),
      /not a Harbor CloudEvent/,
    ],
  ])('answers 400 to a body %s', async (_name, body, message) => {
    const { app, client, settled, metrics } = await rig.setup(harborSecrets);
    const response = await postHarbor(app, body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(message);
    await settled();
    expect(client.state.calls).toBe(0);
    expect(await hookMetric(metrics, 'harbor', 'malformed')).toBe(1);
  });

  it('acknowledges and ignores other types, tags, hosts and repositories (200)', async () => {
    const { app, client, settled, metrics } = await rig.setup(harborSecrets);
    client.digests.set(LANGGRAPH, sha(900));
    for (const [body, reason] of [
      [harborWebhookBody({ type: 'PULL_ARTIFACT' }), 'action'],
      [harborWebhookBody({ type: 'DELETE_ARTIFACT' }), 'action'],
      [harborWebhookBody({ type: 'SCANNING_COMPLETED' }), 'action'],
      [harborCloudEventBody({ type: 'harbor.artifact.pulled' }), 'action'],
      [harborWebhookBody({ tag: 'v1' }), 'tag'],
      [harborWebhookBody({ tag: sha(5) }), 'tag'],
      [harborWebhookBody({ name: 'website' }), 'repository'],
      [harborWebhookBody({ name: 'workspace-template-hermes' }), 'not_watched'],
    ] as const) {
      const response = await postHarbor(app, body);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        status: 'ignored',
        checking: [],
        events: [{ outcome: 'ignored', reason }],
      });
    }
    await settled();
    expect(client.state.calls).toBe(0);
    expect(rig.admin.refreshes).toEqual([]);
    expect(await hookMetric(metrics, 'harbor', 'ignored_action')).toBe(4);
    expect(await hookMetric(metrics, 'harbor', 'ignored_tag')).toBe(2);
    expect(await hookMetric(metrics, 'harbor', 'ignored_repository')).toBe(1);
  });

  it('a burst of 20 pushes (both formats) is one check and one refresh', async () => {
    const { app, client, settled, metrics } = await rig.setup(harborSecrets, { coalesceMs: 200 });
    client.digests.set(LANGGRAPH, sha(900));
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        postHarbor(app, n % 2 === 0 ? harborWebhookBody() : harborCloudEventBody()),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(202));
    await settled();
    expect(client.state.calls).toBe(1);
    expect(rig.admin.refreshes).toHaveLength(1);
    expect(await hookMetric(metrics, 'harbor', 'accepted')).toBe(20);
  });

  it('a distribution envelope still works beside Harbor on the same token', async () => {
    const { app, client, settled, metrics } = await rig.setup(harborSecrets, { coalesceMs: 0 });
    client.digests.set(LANGGRAPH, sha(900));
    const envelope = JSON.stringify({
      events: [
        {
          action: 'push',
          target: { repository: 'molecule-ai/workspace-template-langgraph', tag: 'latest' },
          request: { host: HARBOR },
        },
      ],
    });
    expect((await postHarbor(app, envelope)).statusCode).toBe(202);
    await settled();
    expect(rig.admin.refreshes).toHaveLength(1);
    expect(await hookMetric(metrics, 'distribution', 'accepted')).toBe(1);
    expect(await hookMetric(metrics, 'harbor', 'accepted')).toBe(0);
  });

  it('never puts the token in responses, logs or metrics', async () => {
    const { app, settled, metrics, log } = await rig.setup(harborSecrets);
    const bodies = [
      (await postHarbor(app, harborWebhookBody())).body,
      (await postHarbor(app, harborWebhookBody(), `Bearer ${HOOK_TOKEN}x`)).body,
      (await postHarbor(app, '{"type":1}')).body,
    ];
    await settled();
    const everything = [...bodies, log.text(), await metrics.registry.metrics()].join('\n');
    expect(everything).not.toContain(HOOK_TOKEN);
    expect(log.text()).toContain('registry hook: push noticed, checking now');
  });
});
