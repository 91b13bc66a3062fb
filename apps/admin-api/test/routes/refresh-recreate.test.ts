/**
 * The recreate step's engine round trips: inspects only where the listing does not tell,
 * a container that is not running removed in one call, every target stopped at once, and the
 * graceful stop kept for anything that runs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeContainer, newImageId } from '../helpers/fake-engine.js';
import { type Harness, PREFIX, startHarness } from '../helpers/harness.js';

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

/** The engine calls that addressed one container, as `METHOD /suffix ?query`. */
const callsTo = (container: FakeContainer) =>
  h.engine.requests
    .filter((r) => r.path.startsWith(`/containers/${container.id}`))
    .map((r) => {
      const suffix = r.path.slice(`/containers/${container.id}`.length) || '/';
      const query = new URLSearchParams(r.query).toString();
      return `${r.method} ${suffix}${query === '' ? '' : ` ?${query}`}`;
    });

/** A container created from a digest reference the engine holds: the listing shows that reference. */
function addPinned(name: string, runtime: string): FakeContainer {
  const reference = `${PREFIX}/workspace-template-${runtime}@${newImageId()}`;
  const id = newImageId();
  h.engine.images.set(reference, { id, repoDigests: [reference] });
  return h.engine.addContainer(name, reference, id);
}

describe('recreate', () => {
  it('inspects only the containers whose listing does not say what they were created from', async () => {
    const newId = newImageId();
    h.engine.pulls.set(h.image('codex'), { imageId: newId });
    const langgraphId = newImageId();
    h.engine.images.set(h.image('langgraph'), { id: langgraphId, repoDigests: [] });
    const current = h.engine.addContainer('ws-current', h.image('codex'), newId);
    const moved = h.engine.addContainer('ws-moved', h.image('codex'));
    const ghcr = h.engine.addContainer(
      'ws-old-ghcr',
      'ghcr.io/molecule-ai/workspace-template-codex:latest',
    );
    const pinned = addPinned('ws-pinned', 'codex');
    const other = h.engine.addContainer('ws-langgraph', h.image('langgraph'), langgraphId);

    const response = await refresh('?runtime=codex');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      pulled: ['codex'],
      recreated: ['ws-moved', 'ws-old-ghcr', 'ws-pinned'],
      unchanged: ['ws-current'],
      errors: [],
    });
    // The tag of ws-moved moved, ws-old-ghcr's reference is not in the engine: the listing
    // shows their image ids, so only an inspect says what they were created from.
    const inspected = h.engine.requests
      .filter((r) => r.method === 'GET' && /^\/containers\/[^/]+\/json$/.test(r.path))
      .map((r) => r.path.split('/')[2]);
    expect(inspected.sort()).toEqual([moved.id, ghcr.id].sort());
    expect(callsTo(current)).toEqual([]);
    expect(callsTo(other)).toEqual([]);
    expect(callsTo(pinned)).toEqual(['POST /stop ?t=3', 'DELETE / ?force=true&v=false']);
    expect([...h.engine.containers.values()].map((c) => c.name).sort()).toEqual([
      'ws-current',
      'ws-langgraph',
    ]);
  });

  it('removes a container that is not running in one call, without a stop and without force', async () => {
    const stopped = h.engine.addContainer('ws-stopped', h.image('codex'));
    stopped.running = false;
    const running = h.engine.addContainer('ws-running', h.image('codex'));
    const body = (await refresh('?runtime=codex')).json();
    expect(body).toMatchObject({ recreated: ['ws-running', 'ws-stopped'], errors: [] });
    expect(callsTo(stopped)).toEqual(['GET /json', 'DELETE / ?force=false&v=false']);
    expect(callsTo(running)).toEqual([
      'GET /json',
      'POST /stop ?t=3',
      'DELETE / ?force=true&v=false',
    ]);
    expect(h.engine.events).not.toContain('stopped ws-stopped t=3');
    expect(h.engine.events).toContain('stopped ws-running t=3');
  });

  it('a container listed as exited that a restart policy started meanwhile still gets the graceful stop', async () => {
    const restarted = addPinned('ws-restarted', 'codex');
    restarted.listedState = 'exited';
    const body = (await refresh('?runtime=codex')).json();
    expect(body).toMatchObject({ recreated: ['ws-restarted'], errors: [] });
    expect(callsTo(restarted)).toEqual([
      'DELETE / ?force=false&v=false',
      'POST /stop ?t=3',
      'DELETE / ?force=true&v=false',
    ]);
    expect(h.engine.events.slice(-2)).toEqual(['stopped ws-restarted t=3', 'removed ws-restarted']);
  });

  it('leaves a container alone whose runtime failed to pull, even when its listing alone tells', async () => {
    h.engine.pulls.set(h.image('codex'), { errorLine: 'unexpected EOF' });
    const pinned = addPinned('ws-pinned', 'codex');
    const stopped = addPinned('ws-stopped', 'codex');
    stopped.running = false;
    const body = (await refresh('?runtime=codex')).json();
    expect(body).toMatchObject({ pulled: [], failed: ['codex'], recreated: [] });
    expect(callsTo(pinned)).toEqual([]);
    expect(callsTo(stopped)).toEqual([]);
    expect(h.engine.containers.size).toBe(2);
  });

  it('stops every target at once (a stop mostly waits for the container) and inspects 8 at a time', async () => {
    h.engine.stopDelayMs = 150;
    h.engine.inspectDelayMs = 20;
    for (let i = 0; i < 20; i++) h.engine.addContainer(`ws-${i}`, h.image('codex'));
    const body = (await refresh('?runtime=codex')).json();
    expect(body.recreated).toHaveLength(20);
    // One wave of stops, not three: 8 at a time waited out three grace periods in a row.
    expect(h.engine.stats.maxActiveStops).toBe(20);
    expect(h.engine.stats.maxActiveInspects).toBe(8);
    const stops = h.engine.events.filter((e) => e.startsWith('stopped'));
    expect(stops).toHaveLength(20);
    for (const stop of stops) expect(stop).toMatch(/ t=3$/);
  });
});
