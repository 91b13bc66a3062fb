/**
 * A refresh recreates runtime by runtime: a runtime's containers are stopped as soon as its
 * own pull is verified, while other runtimes still pull; a failed pull touches none of its
 * containers; each runtime lists after its own pull; a container is inspected once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeContainer, holdPull } from '../helpers/fake-engine.js';
import { type Harness, startHarness } from '../helpers/harness.js';

const URL = '/admin/workspace-images/refresh';
let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const refresh = (query: string) =>
  h.app.inject({ method: 'POST', url: `${URL}${query}`, headers: h.auth });

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The engine calls that addressed one container, as `METHOD /suffix`. */
const callsTo = (container: FakeContainer) =>
  h.engine.requests
    .filter((r) => r.path.startsWith(`/containers/${container.id}`))
    .map((r) => `${r.method} ${r.path.slice(`/containers/${container.id}`.length) || '/'}`);

const GHCR = (runtime: string) => `ghcr.io/molecule-ai/workspace-template-${runtime}:latest`;

describe('recreate runtime by runtime', () => {
  it('stops a runtime’s containers while another still pulls; that one’s failed pull touches none of its own', async () => {
    const hermes = holdPull({ errorLine: 'unexpected EOF reading blob' });
    h.engine.pulls.set(h.image('hermes'), hermes.script);
    h.engine.addContainer('ws-codex-a', h.image('codex'));
    h.engine.addContainer('ws-codex-b', GHCR('codex'));
    const hermesOwn = [
      h.engine.addContainer('ws-hermes-a', h.image('hermes')),
      h.engine.addContainer('ws-hermes-b', GHCR('hermes')),
    ];
    const pending = refresh('');

    const codexStopped = ['stopped ws-codex-a t=3', 'stopped ws-codex-b t=3'];
    await waitFor(() => codexStopped.every((event) => h.engine.events.includes(event)));
    // hermes has not finished pulling: it is held until released.
    expect(h.engine.stats.activePulls).toBe(1);
    expect(h.engine.events).toContain(`holding ${h.image('hermes')}`);
    hermes.release();

    const response = await pending;
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.failed).toEqual(['hermes']);
    expect(body.recreated).toEqual(['ws-codex-a', 'ws-codex-b']);
    expect(body.errors).toEqual([
      expect.objectContaining({ stage: 'pull', runtime: 'hermes', code: 'PULL_FAILED' }),
    ]);
    // Other runtimes' listings may read them (an inspect), never stop or remove them.
    for (const container of hermesOwn) {
      for (const call of callsTo(container)) expect(call).toBe('GET /json');
      expect(h.engine.containers.has(container.id)).toBe(true);
    }
  });

  it('lists after each runtime’s own pull: a workspace created on the old image meanwhile is removed', async () => {
    const hermes = holdPull();
    h.engine.pulls.set(h.image('hermes'), hermes.script);
    h.engine.addContainer('ws-codex', h.image('codex'));
    const pending = refresh('');
    await waitFor(() => h.engine.events.includes('removed ws-codex'));
    h.engine.addContainer('ws-hermes-late', h.image('hermes'));
    hermes.release();
    const body = (await pending).json();
    expect(body.failed).toEqual([]);
    expect(body.recreated).toEqual(['ws-codex', 'ws-hermes-late']);
    // One listing per pulled runtime.
    expect(h.engine.requests.filter((r) => r.path === '/containers/json')).toHaveLength(9);
  });

  it('inspects a container once although every pulled runtime lists; what a listing told is not inspected', async () => {
    const hermes = holdPull();
    h.engine.pulls.set(h.image('hermes'), hermes.script);
    const oldHermes = 'sha256:'.padEnd(71, '0');
    h.engine.images.set(h.image('hermes'), { id: oldHermes, repoDigests: [] });
    const onTag = h.engine.addContainer('ws-hermes-tag', h.image('hermes'), oldHermes);
    const unresolved = [
      h.engine.addContainer('ws-codex-ghcr', GHCR('codex')),
      h.engine.addContainer('ws-hermes-ghcr', GHCR('hermes')),
      h.engine.addContainer('ws-langgraph-ghcr', GHCR('langgraph')),
    ];
    const pending = refresh('');
    await waitFor(() => h.engine.events.includes('removed ws-codex-ghcr'));
    // Until hermes's tag moves, the listing says what ws-hermes-tag was created from.
    hermes.release();
    const body = (await pending).json();
    expect(body.recreated).toEqual([
      'ws-codex-ghcr',
      'ws-hermes-ghcr',
      'ws-hermes-tag',
      'ws-langgraph-ghcr',
    ]);
    for (const container of unresolved) {
      expect(callsTo(container).filter((call) => call === 'GET /json')).toHaveLength(1);
    }
    expect(callsTo(onTag)).toEqual(['POST /stop', 'DELETE /']);
  });

  it('bounds stops (32) and inspects (8) across runtimes', async () => {
    h.engine.stopDelayMs = 400;
    h.engine.inspectDelayMs = 20;
    for (const runtime of ['codex', 'hermes']) {
      for (let i = 0; i < 20; i++) h.engine.addContainer(`ws-${runtime}-${i}`, h.image(runtime));
    }
    const body = (await refresh('')).json();
    expect(body.recreated).toHaveLength(40);
    expect(h.engine.stats.maxActiveStops).toBe(32);
    expect(h.engine.stats.maxActiveInspects).toBe(8);
    expect(h.engine.events.filter((e) => e.startsWith('stopped'))).toHaveLength(40);
  });

  it('a failing container list fails every pulled runtime’s recreate and the refresh (500)', async () => {
    h.engine.failContainerList = 500;
    h.engine.addContainer('ws-codex', h.image('codex'));
    const response = await refresh('');
    expect(response.statusCode).toBe(500);
    const body = response.json();
    expect(body.error).toContain('listing ws-* containers failed');
    expect(body.partial_result.pulled).toHaveLength(9);
    expect(body.partial_result.errors).toHaveLength(9);
    for (const error of body.partial_result.errors) expect(error.stage).toBe('list');
    expect(h.engine.containers.size).toBe(1);
  });
});
