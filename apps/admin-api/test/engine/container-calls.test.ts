import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import {
  inspectContainer,
  listWorkspaceContainers,
  stopAndRemove,
} from '../../src/engine/containers.js';

/** dockerode's error shape: the engine's status and its JSON body. */
function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), {
    statusCode,
    json: { message },
  });
}

type Outcome = 'ok' | Error;

/**
 * A scripted engine: the listing, each container's inspect, and the outcome of its stop and
 * remove calls, recording every call in order.
 */
function scriptedEngine(script: {
  list?: unknown[];
  inspect?: unknown | Error;
  stop?: Outcome;
  remove?: Outcome[];
}) {
  const calls: string[] = [];
  const removes = [...(script.remove ?? ['ok'])];
  const settle = async (outcome: Outcome | undefined) => {
    if (outcome instanceof Error) throw outcome;
  };
  const docker = {
    listContainers: async (options: unknown) => {
      calls.push(`list ${JSON.stringify(options)}`);
      return script.list ?? [];
    },
    getContainer: (id: string) => ({
      inspect: async () => {
        calls.push(`inspect ${id}`);
        if (script.inspect instanceof Error) throw script.inspect;
        return script.inspect;
      },
      stop: async (options: unknown) => {
        calls.push(`stop ${id} ${JSON.stringify(options)}`);
        await settle(script.stop);
      },
      remove: async (options: unknown) => {
        calls.push(`remove ${id} ${JSON.stringify(options)}`);
        await settle(removes.shift());
      },
    }),
  };
  return { docker: docker as unknown as Docker, calls };
}

const IMAGE_ID = `sha256:${'a'.repeat(64)}`;

describe('listWorkspaceContainers', () => {
  it('asks for ws-* containers in every state and keeps those whose own name is ws-*', async () => {
    const { docker, calls } = scriptedEngine({
      list: [
        { Id: 'c1', Names: ['/ws-1'], Image: 'img:latest', ImageID: IMAGE_ID, State: 'running' },
        // The name filter matched an alias; the container's own name is another.
        { Id: 'c2', Names: ['/db', '/ws-alias'], Image: 'x', ImageID: IMAGE_ID, State: 'running' },
        { Id: 'c3', Names: [], Image: 'x', ImageID: IMAGE_ID, State: 'running' },
        { Id: 'c4' },
        { Id: 'c5', Names: ['ws-no-slash'] },
      ],
    });
    expect(await listWorkspaceContainers(docker)).toEqual([
      { id: 'c1', name: 'ws-1', listedImage: 'img:latest', imageId: IMAGE_ID, state: 'running' },
      { id: 'c5', name: 'ws-no-slash', listedImage: '', imageId: '', state: '' },
    ]);
    expect(calls).toEqual([`list ${JSON.stringify({ all: true, filters: '{"name":["^/ws-"]}' })}`]);
  });

  it('throws the engine error when listing fails', async () => {
    const docker = {
      listContainers: async () => {
        throw engineError(500, 'down');
      },
    } as unknown as Docker;
    await expect(listWorkspaceContainers(docker)).rejects.toThrow('down');
  });
});

describe('inspectContainer', () => {
  const container = { id: 'c1', name: 'ws-1' };

  it.each([
    ['running', { Running: true }, true],
    ['stopped', { Running: false }, false],
    // Paused or restarting report Running true; a missing state is not taken as stopped.
    ['without a state', undefined, true],
  ])('%s', async (_case, state, running) => {
    const { docker, calls } = scriptedEngine({
      inspect: { Config: { Image: 'img:latest' }, Image: IMAGE_ID, State: state },
    });
    expect(await inspectContainer(docker, container)).toEqual({
      kind: 'found',
      container: {
        id: 'c1',
        name: 'ws-1',
        configuredImage: 'img:latest',
        imageId: IMAGE_ID,
        running,
      },
    });
    expect(calls).toEqual(['inspect c1']);
  });

  it('a container without Config has no configured image', async () => {
    const { docker } = scriptedEngine({ inspect: { Image: IMAGE_ID, State: { Running: true } } });
    const outcome = await inspectContainer(docker, container);
    expect(outcome.kind === 'found' && outcome.container.configuredImage).toBe('');
  });

  it('404 is gone; any other failure is failed with the engine message', async () => {
    expect(
      await inspectContainer(
        scriptedEngine({ inspect: engineError(404, 'no such container') }).docker,
        container,
      ),
    ).toEqual({ kind: 'gone' });
    expect(
      await inspectContainer(
        scriptedEngine({ inspect: engineError(500, 'boom') }).docker,
        container,
      ),
    ).toEqual({ kind: 'failed', message: 'engine answered 500: boom' });
  });
});

describe('stopAndRemove', () => {
  const running = { id: 'c1', name: 'ws-1', running: true };
  const stopped = { id: 'c1', name: 'ws-1', running: false };
  const STOP = 'stop c1 {"t":7}';
  const REMOVE_FORCED = 'remove c1 {"force":true,"v":false}';
  const REMOVE_UNFORCED = 'remove c1 {"force":false,"v":false}';

  it('stops a running container with the grace period, then removes it (forced)', async () => {
    const { docker, calls } = scriptedEngine({});
    expect(await stopAndRemove(docker, running, 7)).toEqual({ ok: true, gone: false });
    expect(calls).toEqual([STOP, REMOVE_FORCED]);
  });

  it('removes a stopped container in one call, without force and without a stop', async () => {
    const { docker, calls } = scriptedEngine({});
    expect(await stopAndRemove(docker, stopped, 7)).toEqual({ ok: true, gone: false });
    expect(calls).toEqual([REMOVE_UNFORCED]);
  });

  it.each([
    [
      'stop answers 404: gone, nothing removed',
      running,
      { stop: engineError(404, 'gone') },
      { ok: true, gone: true },
      [STOP],
    ],
    [
      'stop answers 304 (already stopped): removed',
      running,
      { stop: engineError(304, '') },
      { ok: true, gone: false },
      [STOP, REMOVE_FORCED],
    ],
    [
      'stop fails: reported at the stop, nothing removed',
      running,
      { stop: engineError(500, 'stuck') },
      { ok: false, stage: 'stop', message: 'engine answered 500: stuck' },
      [STOP],
    ],
    [
      'remove answers 404 after the stop: gone',
      running,
      { remove: [engineError(404, 'gone')] },
      { ok: true, gone: true },
      [STOP, REMOVE_FORCED],
    ],
    [
      'remove fails after the stop: reported at the remove',
      running,
      { remove: [engineError(500, 'busy')] },
      { ok: false, stage: 'remove', message: 'engine answered 500: busy' },
      [STOP, REMOVE_FORCED],
    ],
    [
      'stopped, remove answers 404: gone',
      stopped,
      { remove: [engineError(404, 'gone')] },
      { ok: true, gone: true },
      [REMOVE_UNFORCED],
    ],
    [
      'stopped, remove answers 409 (started since): the graceful path',
      stopped,
      { remove: [engineError(409, 'running'), 'ok'] },
      { ok: true, gone: false },
      [REMOVE_UNFORCED, STOP, REMOVE_FORCED],
    ],
    [
      'stopped, remove fails otherwise: reported, no stop',
      stopped,
      { remove: [engineError(500, 'disk')] },
      { ok: false, stage: 'remove', message: 'engine answered 500: disk' },
      [REMOVE_UNFORCED],
    ],
  ] as const)('%s', async (_case, container, script, outcome, expectedCalls) => {
    const { docker, calls } = scriptedEngine(script as Parameters<typeof scriptedEngine>[0]);
    expect(await stopAndRemove(docker, container, 7)).toEqual(outcome);
    expect(calls).toEqual(expectedCalls);
  });
});
