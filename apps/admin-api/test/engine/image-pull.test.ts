import Docker from 'dockerode';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type PullProgress, pullImage, pullParameters } from '../../src/engine/image-pull.js';
import { type FakeEngine, startFakeEngine } from '../helpers/fake-engine.js';

const IMAGE = '127.0.0.1:5000/org/workspace-template-codex:latest';
let engine: FakeEngine;
let docker: Docker;
beforeEach(async () => {
  engine = await startFakeEngine();
  docker = new Docker({ socketPath: engine.socketPath });
});
afterEach(async () => {
  await engine.close();
});

const pull = (
  extra: { onProgress?: (p: PullProgress) => void; timeoutMs?: number; signal?: AbortSignal } = {},
) =>
  pullImage(docker, {
    image: IMAGE,
    registryAuth: 'eyJ4IjoxfQ==',
    platform: '',
    timeoutMs: 5000,
    ...extra,
  });

describe('pullParameters', () => {
  it.each([
    [IMAGE, '127.0.0.1:5000/org/workspace-template-codex', 'latest'],
    ['localhost:5000/a', 'localhost:5000/a', 'latest'],
    [`ghcr.io/a/b@sha256:${'0'.repeat(64)}`, `ghcr.io/a/b@sha256:${'0'.repeat(64)}`, undefined],
  ])('%s', (ref, fromImage, tag) => {
    expect(pullParameters(ref)).toEqual({ fromImage, tag });
  });
});

describe('pullImage', () => {
  it('drains the stream and reports summarised progress', async () => {
    const progress: PullProgress[] = [];
    const outcome = await pull({ onProgress: (p) => progress.push(p) });
    expect(outcome).toEqual({ ok: true });
    expect(progress.at(-1)).toEqual({
      layersDone: 2,
      layersTotal: 2,
      bytesDone: 2048,
      bytesTotal: 2048,
    });
    expect(engine.requests[0]?.registryAuth).toBe('eyJ4IjoxfQ==');
    expect(engine.images.has(IMAGE)).toBe(true);
  });

  it('sends no X-Registry-Auth for an anonymous pull', async () => {
    await pullImage(docker, {
      image: IMAGE,
      registryAuth: undefined,
      platform: '',
      timeoutMs: 5000,
    });
    expect(engine.requests[0]?.registryAuth).toBeUndefined();
  });

  it('an errorDetail line after progress fails the pull, after draining the rest', async () => {
    engine.pulls.set(IMAGE, { errorLine: 'received unexpected HTTP status: 502 Bad Gateway' });
    const outcome = await pull();
    expect(outcome).toEqual({
      ok: false,
      code: 'PULL_FAILED',
      message: expect.stringContaining('502 Bad Gateway'),
      status: undefined,
    });
  });

  it('an error line with more progress after it is still a failure', async () => {
    engine.pulls.set(IMAGE, {
      lines: [{ error: 'layer broken' }, { status: 'Extracting', id: 'aaaaaaaaaaaa' }],
    });
    const outcome = await pull();
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.message).toContain('layer broken');
  });

  it('an HTTP 500 from the engine is a refused pull with the status', async () => {
    engine.pulls.set(IMAGE, { status: 500, message: 'unauthorized: authentication required' });
    expect(await pull()).toMatchObject({ ok: false, code: 'PULL_FAILED', status: 500 });
  });

  it('times out a hanging pull', async () => {
    engine.pulls.set(IMAGE, { hang: true });
    expect(await pull({ timeoutMs: 300 })).toMatchObject({ ok: false, code: 'PULL_TIMEOUT' });
  });

  it('our own abort (shutdown) fails the pull as PULL_ABORTED, not as an engine failure', async () => {
    engine.pulls.set(IMAGE, { hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const outcome = await pull({ signal: controller.signal });
    expect(outcome).toMatchObject({ ok: false, code: 'PULL_ABORTED' });
  });

  it('an abort before the pull started is PULL_ABORTED too', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await pull({ signal: controller.signal })).toMatchObject({
      ok: false,
      code: 'PULL_ABORTED',
    });
  });

  it('an unreachable engine is ENGINE_UNAVAILABLE', async () => {
    engine.crash();
    expect(await pull()).toMatchObject({ ok: false, code: 'ENGINE_UNAVAILABLE' });
  });
});
