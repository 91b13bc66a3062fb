import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, PREFIX, startHarness } from '../helpers/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('GET /admin/workspace-images', () => {
  it('reports each known runtime, local image id and digest or null', async () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    h.engine.images.set(h.image('codex'), {
      id: 'sha256:abc',
      repoDigests: [
        `ghcr.io/molecule-ai/workspace-template-codex@sha256:${'c'.repeat(64)}`,
        `${PREFIX}/workspace-template-codex@${digest}`,
      ],
    });
    const response = await h.app.inject({
      method: 'GET',
      url: '/admin/workspace-images',
      headers: h.auth,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toHaveLength(9);
    expect(body.find((e: { runtime: string }) => e.runtime === 'codex')).toEqual({
      runtime: 'codex',
      image: h.image('codex'),
      local: { id: 'sha256:abc', digest },
    });
    expect(body.find((e: { runtime: string }) => e.runtime === 'langgraph')).toEqual({
      runtime: 'langgraph',
      image: h.image('langgraph'),
      local: null,
    });
  });

  it('an image pulled without a repo digest has digest null', async () => {
    h.engine.images.set(h.image('hermes'), { id: 'sha256:def', repoDigests: [] });
    const body = (
      await h.app.inject({ method: 'GET', url: '/admin/workspace-images', headers: h.auth })
    ).json();
    expect(body.find((e: { runtime: string }) => e.runtime === 'hermes').local).toEqual({
      id: 'sha256:def',
      digest: null,
    });
  });

  it('503 when the engine is unreachable', async () => {
    h.engine.crash();
    const response = await h.app.inject({
      method: 'GET',
      url: '/admin/workspace-images',
      headers: h.auth,
    });
    expect(response.statusCode).toBe(503);
    expect(response.json().code).toBe('ENGINE_UNAVAILABLE');
  });
});
