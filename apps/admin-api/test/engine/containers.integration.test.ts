/**
 * The engine facts the recreate step's shortcuts rest on, on a real dockerd: the listing shows
 * the configured reference while it still resolves to the container's image and the image id
 * once the tag moved; a container that is not running is removed without force, a running one
 * is refused (409) and keeps its graceful stop.
 */
import {
  buildImage,
  type Distribution,
  type Dockerd,
  pushImage,
  realPartsGate,
  startDistribution,
  startDockerd,
} from '@molecule/real-parts';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listWorkspaceContainers,
  resolveFromListing,
  stopAndRemove,
} from '../../src/engine/containers.js';

const gate = realPartsGate(['dockerd', 'docker-registry', 'busybox']);

describe.skipIf(gate.skip)(`workspace containers on a real dockerd ${gate.reason ?? ''}`, () => {
  let registry: Distribution;
  let dockerd: Dockerd;
  let docker: Docker;
  let reference: string;

  const publishAndPull = async (salt: string) => {
    await pushImage({
      registryUrl: registry.url,
      repository: 'molecule-ai/workspace-template-codex',
      tag: 'latest',
      image: await buildImage({ salt }),
    });
    const stream = (await docker.createImage({
      fromImage: reference.replace(/:latest$/, ''),
      tag: 'latest',
    })) as NodeJS.ReadableStream;
    for await (const _ of stream) {
      // drain the progress
    }
    return (await docker.getImage(reference).inspect()).Id;
  };

  beforeAll(async () => {
    registry = await startDistribution({ auth: 'none' });
    dockerd = await startDockerd({ insecureRegistries: [registry.host] });
    docker = new Docker({ socketPath: dockerd.socketPath });
    reference = `${registry.host}/molecule-ai/workspace-template-codex:latest`;
  }, 120_000);
  afterAll(async () => {
    await dockerd?.close();
    await registry?.close();
  });

  it('lists the configured reference until the tag moves, then the image id', async () => {
    const v1 = await publishAndPull('listing-v1');
    const running = await docker.createContainer({
      name: 'ws-listing-running',
      Image: reference,
      HostConfig: { NetworkMode: 'none' },
    });
    await running.start();
    await docker.createContainer({
      name: 'ws-listing-created',
      Image: reference,
      HostConfig: { NetworkMode: 'none' },
    });

    const before = await listWorkspaceContainers(docker);
    expect(before.map(resolveFromListing)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'ws-listing-running',
          configuredImage: reference,
          imageId: v1,
          running: true,
        }),
        expect.objectContaining({
          name: 'ws-listing-created',
          configuredImage: reference,
          imageId: v1,
          running: false,
        }),
      ]),
    );

    const v2 = await publishAndPull('listing-v2');
    expect(v2).not.toBe(v1);
    const after = await listWorkspaceContainers(docker);
    expect(after).toHaveLength(2);
    for (const container of after) {
      expect(container).toMatchObject({ listedImage: v1, imageId: v1 });
      expect(resolveFromListing(container)).toBeUndefined();
    }
  }, 120_000);

  it('removes a container that is not running at once; a running one only after its stop', async () => {
    const [created, running] = await Promise.all(
      ['ws-listing-created', 'ws-listing-running'].map(
        async (name) => (await docker.getContainer(name).inspect()).Id,
      ),
    );
    await expect(
      docker.getContainer(running as string).remove({ force: false }),
    ).rejects.toMatchObject({ statusCode: 409 });

    const since = Math.floor(Date.now() / 1000) - 1;
    // Listed as not running but running after all: refused without force, then stopped.
    const outcome = await stopAndRemove(
      docker,
      { id: running as string, name: 'ws-listing-running', running: false },
      5,
    );
    expect(outcome).toEqual({ ok: true, gone: false });
    // It exited on SIGTERM (its trap exits 0), not on a kill (137).
    const events = (await docker.getEvents({
      since,
      until: Math.floor(Date.now() / 1000) + 1,
      filters: JSON.stringify({ container: [running], event: ['die'] }),
    })) as NodeJS.ReadableStream;
    let text = '';
    for await (const chunk of events) text += chunk.toString();
    const dies = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { Actor: { Attributes: { exitCode: string } } });
    expect(dies.map((die) => die.Actor.Attributes.exitCode)).toEqual(['0']);
    expect(
      await stopAndRemove(
        docker,
        { id: created as string, name: 'ws-listing-created', running: false },
        5,
      ),
    ).toEqual({ ok: true, gone: false });
    expect(await listWorkspaceContainers(docker)).toEqual([]);
  }, 60_000);
});
