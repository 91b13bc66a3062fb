import {
  type BuiltImage,
  buildImage,
  type Dockerd,
  encodeRegistryAuth,
  pullWithEngine,
  realPartsGate,
  socketGet,
  startDockerd,
} from '@molecule/real-parts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeRegistry } from './server.js';
import type { FakeAuthMode, FakeRegistry } from './types.js';

const gate = realPartsGate(['dockerd', 'containerd', 'runc', 'busybox']);
const USER = { username: 'engine-user', password: 'engine-pass-7f3c9a' };
const REPO = 'molecule-ai/workspace-template-langgraph';
const PULL_TIMEOUT_MS = 60_000;

describe.skipIf(gate.skip)(
  `a real dockerd pulls from the fake registry ${gate.reason ?? ''}`,
  () => {
    let engine: Dockerd;
    let image: BuiltImage;
    const registries: FakeRegistry[] = [];

    beforeAll(async () => {
      engine = await startDockerd();
    });
    afterAll(async () => {
      await Promise.all(registries.map((registry) => registry.close()));
      await engine?.close();
    });

    /** A new image per registry: the engine skips blobs it already has (the busybox layer). */
    async function startWithImage(auth: FakeAuthMode): Promise<FakeRegistry> {
      image = await buildImage();
      const registry = await startFakeRegistry({ auth, users: [USER] });
      registries.push(registry);
      for (const blob of image.blobs.values()) registry.putBlob(blob);
      registry.putManifest(REPO, 'latest', image.manifest);
      return registry;
    }

    function pull(registry: FakeRegistry, authenticated: boolean) {
      return pullWithEngine({
        socketPath: engine.socketPath,
        fromImage: `${registry.host}/${REPO}`,
        tag: 'latest',
        timeoutMs: PULL_TIMEOUT_MS,
        ...(authenticated
          ? { registryAuth: encodeRegistryAuth({ ...USER, serveraddress: registry.host }) }
          : {}),
      });
    }

    it("refuses an anonymous pull in 'bearer' mode (the engine answers 500 unauthorized)", async () => {
      const registry = await startWithImage('bearer');
      const result = await pull(registry, false);
      expect(result.status).toBe(500);
      expect(result.error).toMatch(/unauthorized|authentication required/i);
      const tokenRequests = registry.requests.filter((request) => request.kind === 'token');
      expect(tokenRequests.length).toBeGreaterThan(0);
      expect(tokenRequests.every((request) => request.status === 401)).toBe(true);
      expect(registry.requests.some((request) => request.kind === 'blob')).toBe(false);
    });

    for (const auth of ['bearer', 'bearer-external-realm', 'basic'] as const) {
      it(`pulls with X-Registry-Auth in '${auth}' mode, by the token flow docker uses`, async () => {
        const registry = await startWithImage(auth);
        const result = await pull(registry, true);
        expect(result.error).toBeUndefined();
        expect(result.status).toBe(200);

        const inspect = await socketGet(
          engine.socketPath,
          `/images/${registry.host}/${REPO}:latest/json`,
        );
        expect(inspect?.status).toBe(200);
        const { RepoDigests } = JSON.parse(inspect!.body) as { RepoDigests: string[] };
        expect(RepoDigests).toContain(`${registry.host}/${REPO}@${image.digest}`);

        const { requests } = registry;
        if (auth === 'basic') {
          expect(requests.some((request) => request.kind === 'token')).toBe(false);
        } else {
          const token = requests.find(
            (request) => request.kind === 'token' && request.status === 200,
          );
          expect(token).toMatchObject({
            origin: auth === 'bearer' ? 'registry' : 'realm',
            presented: { scheme: 'basic', username: USER.username },
            query: { service: 'fake-registry', scope: `repository:${REPO}:pull` },
          });
        }
        const scheme = auth === 'basic' ? 'basic' : 'bearer';
        const served = requests.filter(
          (request) =>
            (request.kind === 'manifest' || request.kind === 'blob') && request.status === 200,
        );
        expect(served.map((request) => request.path)).toEqual(
          expect.arrayContaining([
            `/v2/${REPO}/blobs/${image.configDigest}`,
            `/v2/${REPO}/manifests/latest`,
          ]),
        );
        expect(served.every((request) => request.presented.scheme === scheme)).toBe(true);
        expect(JSON.stringify(requests)).not.toContain(USER.password);
      });
    }
  },
);
