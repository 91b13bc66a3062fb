/**
 * `digest=` on refresh (pull `<repository>@<digest>`, check RepoDigests, tag it as the runtime's
 * `:latest`, recreate only what is not on it) and `X-Rollout-Epoch` fencing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newImageId } from '../helpers/fake-engine.js';
import { type Harness, startHarness } from '../helpers/harness.js';

const URL = '/admin/workspace-images/refresh';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const refresh = (query: string, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url: `${URL}${query}`, headers: { ...h.auth, ...headers } });
const repository = () => h.image('codex').replace(/:latest$/, '');

describe('refresh to a digest', () => {
  it('pulls <repository>@<digest>, tags it as :latest and recreates only the containers not on it', async () => {
    const id = newImageId();
    h.engine.registryDigests.set(D1, id);
    h.engine.addContainer('ws-old', h.image('codex'));
    h.engine.addContainer('ws-current', h.image('codex'), id);
    const response = await refresh(`?runtime=codex&digest=${D1}`);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      pulled: ['codex'],
      failed: [],
      recreated: ['ws-old'],
      unchanged: ['ws-current'],
    });
    expect(body.images.codex).toEqual({ id, digest: D1 });
    const pull = h.engine.requests.find((r) => r.path === '/images/create');
    expect(pull?.query).toMatchObject({ fromImage: `${repository()}@${D1}` });
    expect(pull?.query.tag).toBeUndefined();
    expect(h.engine.events).toEqual([
      `pulled ${repository()}@${D1}`,
      `tagged ${h.image('codex')}`,
      expect.stringMatching(/^stopped ws-old/),
      'removed ws-old',
    ]);
    // GET /admin/workspace-images now shows the digest as the runtime's local image.
    const list = await h.app.inject({
      method: 'GET',
      url: '/admin/workspace-images',
      headers: h.auth,
    });
    expect(list.json().find((e: { runtime: string }) => e.runtime === 'codex').local).toEqual({
      id,
      digest: D1,
    });
  });

  it('a rollback is the same call with the old digest', async () => {
    const first = newImageId();
    const second = newImageId();
    h.engine.registryDigests.set(D1, first);
    h.engine.registryDigests.set(D2, second);
    expect(
      (await refresh(`?runtime=codex&digest=${D2}&recreate=false`)).json().images.codex.id,
    ).toBe(second);
    h.engine.addContainer('ws-a', h.image('codex'), second);
    const back = await refresh(`?runtime=codex&digest=${D1}`);
    expect(back.json()).toMatchObject({ pulled: ['codex'], recreated: ['ws-a'] });
    expect(back.json().images.codex).toEqual({ id: first, digest: D1 });
  });

  it('a digest the registry does not have is failed and nothing is removed', async () => {
    h.engine.addContainer('ws-a', h.image('codex'));
    const response = await refresh(`?runtime=codex&digest=${D2}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ pulled: [], failed: ['codex'], recreated: [] });
    expect(response.json().errors[0]).toMatchObject({ runtime: 'codex', code: 'PULL_FAILED' });
    expect(h.engine.events.some((e) => e.startsWith('removed'))).toBe(false);
    expect(h.engine.events.some((e) => e.startsWith('tagged'))).toBe(false);
  });

  it('an engine whose RepoDigests do not hold the digest is IMAGE_MISSING; nothing tagged or removed', async () => {
    h.engine.registryDigests.set(D1, newImageId());
    h.engine.pulls.set(`${repository()}@${D1}`, { noImage: true });
    h.engine.addContainer('ws-a', h.image('codex'));
    const response = await refresh(`?runtime=codex&digest=${D1}`);
    expect(response.json()).toMatchObject({ failed: ['codex'], recreated: [] });
    expect(response.json().errors[0]).toMatchObject({ stage: 'verify', code: 'IMAGE_MISSING' });
    expect(h.engine.events).not.toContain('removed ws-a');
  });

  it.each([
    [`?digest=${D1}`, /exactly one runtime/],
    [`?runtime=&digest=${D1}`, /exactly one runtime/],
    ['?runtime=codex&digest=sha256:abc', /sha256:<64 lowercase hex digits>/],
    [`?runtime=codex&digest=${D1.toUpperCase()}`, /sha256:<64 lowercase hex digits>/],
    [`?runtime=codex&digest=md5:${'1'.repeat(32)}`, /sha256/],
    [`?runtime=codex&digest=${'x'.repeat(5000)}`, /sha256/],
  ])('bad digest query #%# → 400 BAD_REQUEST, nothing pulled', async (query, message) => {
    const response = await refresh(query);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'BAD_REQUEST',
      error: expect.stringMatching(message),
    });
    expect(response.json().error.length).toBeLessThan(200);
    expect(h.engine.requests.filter((r) => r.path === '/images/create')).toEqual([]);
  });
});

describe('X-Rollout-Epoch fencing', () => {
  it('refuses a lower epoch with 409 STALE_EPOCH and the highest, pulling nothing; equal and higher pass', async () => {
    h.engine.registryDigests.set(D1, newImageId());
    const at = (epoch: number) =>
      refresh(`?runtime=codex&digest=${D1}&recreate=false`, { 'x-rollout-epoch': String(epoch) });
    expect((await at(5)).statusCode).toBe(200);
    expect((await at(5)).statusCode).toBe(200);
    const pullsBefore = h.engine.requests.filter((r) => r.path === '/images/create').length;
    const stale = await at(4);
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toEqual({
      error: expect.stringContaining('epoch 4'),
      code: 'STALE_EPOCH',
      epoch: 5,
    });
    expect(h.engine.requests.filter((r) => r.path === '/images/create').length).toBe(pullsBefore);
    expect((await at(7)).statusCode).toBe(200);
    expect((await at(6)).json()).toMatchObject({ code: 'STALE_EPOCH', epoch: 7 });
    // Fencing applies to refreshes without a digest too; a request without the header is not fenced.
    const plain = await refresh('?runtime=codex&recreate=false', { 'x-rollout-epoch': '1' });
    expect(plain.json()).toMatchObject({ code: 'STALE_EPOCH', epoch: 7 });
    expect((await refresh('?runtime=codex&recreate=false')).statusCode).toBe(200);
  });

  it('a refresh that waited while a newer leader took over changes nothing', async () => {
    h.engine.registryDigests.set(D1, newImageId());
    h.engine.pulls.set(h.image('langgraph'), { delayMs: 200 });
    const running = refresh('?runtime=langgraph&recreate=false', { 'x-rollout-epoch': '1' });
    await new Promise((r) => setTimeout(r, 30));
    const waiting = refresh(`?runtime=codex&digest=${D1}&recreate=false`, {
      'x-rollout-epoch': '1',
    });
    await new Promise((r) => setTimeout(r, 30));
    const newer = refresh('?runtime=hermes&recreate=false', { 'x-rollout-epoch': '2' });
    const [first, second, third] = await Promise.all([running, waiting, newer]);
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ code: 'STALE_EPOCH', epoch: 2 });
    expect(third.statusCode).toBe(200);
    expect(h.engine.requests.some((r) => r.query.fromImage?.includes(D1))).toBe(false);
  });

  it.each(['-1', 'abc', '1.5', '', '99999999999999999999'])(
    'X-Rollout-Epoch: %j → 400',
    async (value) => {
      const response = await refresh('?runtime=codex', { 'x-rollout-epoch': value });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'BAD_REQUEST' });
    },
  );
});
