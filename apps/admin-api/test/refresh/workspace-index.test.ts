/**
 * The workspace index against the fake engine: a fresh listing each time, every container
 * inspected at most once (an earlier listing's word counts too), failures reported once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDocker } from '../../src/engine/connect.js';
import { createWorkspaceIndex, type WorkspaceIndex } from '../../src/refresh/workspace-index.js';
import { type FakeEngine, newImageId, startFakeEngine } from '../helpers/fake-engine.js';

const IMAGE = 'mirror.example.test/acme/workspace-template-codex:latest';
const GHCR = 'ghcr.io/molecule-ai/workspace-template-codex:latest';

let engine: FakeEngine;
let index: WorkspaceIndex;
beforeEach(async () => {
  engine = await startFakeEngine();
  const docker = createDocker({ kind: 'socket', socketPath: engine.socketPath }, '1.41');
  index = createWorkspaceIndex({ docker, inspectConcurrency: 2 });
});
afterEach(async () => {
  await engine.close();
});

const inspects = () =>
  engine.requests.filter((r) => r.method === 'GET' && /^\/containers\/[^/]+\/json$/.test(r.path));

async function listed() {
  const listing = await index.list();
  if (!listing.ok) throw new Error('listing failed');
  return listing;
}

describe('createWorkspaceIndex', () => {
  it('lists anew each time and inspects a container once, whatever the listings', async () => {
    const ghcr = engine.addContainer('ws-ghcr', GHCR);
    const first = await listed();
    expect(first.containers).toEqual([
      { id: ghcr.id, name: 'ws-ghcr', configuredImage: GHCR, imageId: ghcr.imageId, running: true },
    ]);
    const late = engine.addContainer('ws-late', GHCR);
    const second = await listed();
    expect(second.containers.map((c) => c.name)).toEqual(['ws-ghcr', 'ws-late']);
    expect(inspects().map((r) => r.path.split('/')[2])).toEqual([ghcr.id, late.id]);
    expect(engine.requests.filter((r) => r.path === '/containers/json')).toHaveLength(2);
  });

  it('what a listing told stays known once the tag moves: no inspect at all', async () => {
    const oldId = newImageId();
    engine.images.set(IMAGE, { id: oldId, repoDigests: [] });
    const onTag = engine.addContainer('ws-on-tag', IMAGE, oldId);
    expect((await listed()).containers[0]?.configuredImage).toBe(IMAGE);
    engine.images.set(IMAGE, { id: newImageId(), repoDigests: [] }); // the tag moved
    const { containers } = await listed();
    expect(containers).toEqual([
      { id: onTag.id, name: 'ws-on-tag', configuredImage: IMAGE, imageId: oldId, running: true },
    ]);
    expect(inspects()).toEqual([]);
  });

  it('whether it runs comes from the newest listing', async () => {
    const ghcr = engine.addContainer('ws-ghcr', GHCR);
    expect((await listed()).containers[0]?.running).toBe(true);
    ghcr.running = false;
    expect((await listed()).containers[0]?.running).toBe(false);
    expect(inspects()).toHaveLength(1);
  });

  it('shares an inspect two listings wait for, and bounds inspects across them', async () => {
    engine.inspectDelayMs = 30;
    for (let i = 0; i < 5; i++) engine.addContainer(`ws-${i}`, GHCR);
    const [a, b] = await Promise.all([listed(), listed()]);
    expect(a.containers).toHaveLength(5);
    expect(b.containers).toEqual(a.containers);
    expect(inspects()).toHaveLength(5);
    expect(engine.stats.maxActiveInspects).toBe(2);
  });

  it('reports a failed inspect once, by the listing that ran it, and does not retry it', async () => {
    const broken = engine.addContainer('ws-broken', GHCR);
    engine.failInspects.add(broken.id);
    const first = await listed();
    expect(first.containers).toEqual([]);
    expect(first.inspectFailures).toEqual([
      { container: 'ws-broken', message: expect.stringContaining('inspect failed') },
    ]);
    expect((await listed()).inspectFailures).toEqual([]);
    expect(inspects()).toHaveLength(1);
  });

  it('a failed listing is a value carrying the engine error', async () => {
    engine.failContainerList = 500;
    const listing = await index.list();
    expect(listing.ok).toBe(false);
    expect(listing.ok ? undefined : listing.error).toMatchObject({ statusCode: 500 });
  });
});
