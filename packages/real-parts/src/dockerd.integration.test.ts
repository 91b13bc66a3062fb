import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realPartsGate } from './binaries.js';
import { type Distribution, startDistribution } from './distribution.js';
import { type Dockerd, socketGet, startDockerd } from './dockerd.js';
import { encodeRegistryAuth, pullWithEngine } from './engine.js';
import { type BuiltImage, buildImage } from './image.js';
import { pushImage } from './push.js';

const gate = realPartsGate([
  'dockerd',
  'containerd',
  'runc',
  'docker-registry',
  'openssl',
  'busybox',
]);
const PASSWORD = 'engine-pass-5d2b';
const users = [{ username: 'bob', password: PASSWORD }];

describe('encodeRegistryAuth', () => {
  it('is base64url with the = padding kept', () => {
    // 'serveraddress' JSON chosen so standard base64 would contain '+' or '/' and padding
    const value = encodeRegistryAuth({ username: 'u?>', password: 'p~~~', serveraddress: 'h' });
    expect(value).toMatch(/^[A-Za-z0-9_-]+={1,2}$/);
    const decoded = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString(
      'utf8',
    );
    expect(JSON.parse(decoded)).toEqual({ username: 'u?>', password: 'p~~~', serveraddress: 'h' });
  });
});

describe.skipIf(gate.skip)(`startDockerd ${gate.reason ?? ''}`, () => {
  let registry: Distribution;
  let engine: Dockerd;
  let image: BuiltImage;
  let docker: Docker;
  const repository = 'acme/runner';

  beforeAll(async () => {
    [registry, engine, image] = await Promise.all([
      startDistribution({ auth: 'token', users }),
      startDockerd(),
      buildImage({ salt: `engine-${Date.now()}` }),
    ]);
    await pushImage({
      registryUrl: registry.url,
      repository,
      tag: 'latest',
      image,
      credentials: users[0]!,
    });
    docker = new Docker({ socketPath: engine.socketPath });
  });
  afterAll(async () => {
    await engine?.close();
    await registry?.close();
  });

  it('answers on its private socket and reports its API version', async () => {
    expect(engine.socketPath.length).toBeLessThan(100);
    expect(engine.dockerHost).toBe(`unix://${engine.socketPath}`);
    expect(engine.apiVersion).toMatch(/^1\.\d+$/);
    expect((await socketGet(engine.socketPath, '/_ping'))?.body).toBe('OK');
    const info = await docker.info();
    expect(info.Driver).toBe('vfs');
  });

  it('refuses an anonymous pull from the token registry with HTTP 500 unauthorized', async () => {
    const result = await pullWithEngine({
      socketPath: engine.socketPath,
      fromImage: `${registry.host}/${repository}`,
      tag: 'latest',
    });
    expect(result.status).toBe(500);
    expect(result.error).toMatch(/unauthorized|authentication required/i);
  });

  it('pulls with X-Registry-Auth, then runs, stops (TERM trap) and removes a container', async () => {
    registry.tokenServer?.clearRequests();
    const result = await pullWithEngine({
      socketPath: engine.socketPath,
      fromImage: `${registry.host}/${repository}`,
      tag: 'latest',
      registryAuth: encodeRegistryAuth({
        username: 'bob',
        password: PASSWORD,
        serveraddress: registry.host,
      }),
    });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(200);
    expect(result.messages.some((message) => message.status?.includes(image.digest))).toBe(true);
    expect(registry.tokenServer?.requests).toContainEqual({
      method: 'GET',
      username: 'bob',
      scope: `repository:${repository}:pull`,
      status: 200,
    });

    const reference = `${registry.host}/${repository}:latest`;
    const inspected = await docker.getImage(reference).inspect();
    expect(inspected.RepoDigests).toContain(`${registry.host}/${repository}@${image.digest}`);

    const container = await docker.createContainer({
      Image: reference,
      name: `rp-test-${process.pid}-${Date.now()}`,
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await container.start();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const running = await container.inspect();
      expect(running.State.Running).toBe(true);
      expect(running.Config.Image).toBe(reference);

      const started = Date.now();
      await container.stop({ t: 10 });
      expect(Date.now() - started).toBeLessThan(5_000);
      const stopped = await container.inspect();
      expect(stopped.State.Running).toBe(false);
      expect(stopped.State.ExitCode).toBe(0);
    } finally {
      await container.remove({ force: true });
    }
    await expect(container.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('runs two engines at once; close() stops one, even with a container ignoring TERM, and removes its dirs', async () => {
    const other = await startDockerd();
    expect(other.socketPath).not.toBe(engine.socketPath);
    expect((await socketGet(engine.socketPath, '/_ping'))?.status).toBe(200);
    expect((await socketGet(other.socketPath, '/_ping'))?.status).toBe(200);

    const pulled = await pullWithEngine({
      socketPath: other.socketPath,
      fromImage: `${registry.host}/${repository}`,
      tag: 'latest',
      registryAuth: encodeRegistryAuth({
        username: 'bob',
        password: PASSWORD,
        serveraddress: registry.host,
      }),
    });
    expect(pulled.error).toBeUndefined();
    const stubborn = await new Docker({ socketPath: other.socketPath }).createContainer({
      Image: `${registry.host}/${repository}:latest`,
      // busybox sh as PID 1 ignores SIGTERM: only a kill ends this one
      Cmd: ['sh', '-c', 'sleep 1000'],
      HostConfig: { NetworkMode: 'none' },
    });
    await stubborn.start();

    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(other.dir)).toBe(false);
    expect(await socketGet(other.socketPath, '/_ping')).toBeUndefined();
    expect((await socketGet(engine.socketPath, '/_ping'))?.status).toBe(200);
  });

  it('stop() takes the engine down keeping its data; start() brings images and containers back', async () => {
    const reference = `${registry.host}/${repository}:latest`;
    const created = await docker.createContainer({
      name: 'kept-across-restart',
      Image: reference,
      HostConfig: { NetworkMode: 'none' },
    });
    const before = engine.pid;
    await engine.stop();
    expect(await socketGet(engine.socketPath, '/_ping')).toBeUndefined();
    await engine.start();
    expect((await socketGet(engine.socketPath, '/_ping'))?.status).toBe(200);
    expect(engine.pid).not.toBe(before);
    expect((await docker.getContainer(created.id).inspect()).Name).toBe('/kept-across-restart');
    expect((await docker.getImage(reference).inspect()).RepoDigests).toContain(
      `${registry.host}/${repository}@${image.digest}`,
    );
    await docker.getContainer(created.id).remove({ force: true });
  });
});
