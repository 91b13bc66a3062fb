import { request } from 'node:http';
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

/** POST to the engine API with an optional X-Registry-Auth; resolves with status and body. */
function enginePost(
  socketPath: string,
  path: string,
  registryAuth?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method: 'POST',
        path,
        headers: registryAuth === undefined ? {} : { 'x-registry-auth': registryAuth },
        timeout: PULL_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`engine POST ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

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

    it("accepts a docker push over HTTP in 'bearer' mode (uploads, manifest PUT)", async () => {
      const source = await startWithImage('bearer');
      const auth = (registry: FakeRegistry) =>
        encodeRegistryAuth({ ...USER, serveraddress: registry.host });
      expect((await pull(source, true)).error).toBeUndefined();
      const target = await startFakeRegistry({ auth: 'bearer', users: [USER] });
      registries.push(target);
      const tag = await enginePost(
        engine.socketPath,
        `/images/${source.host}/${REPO}:latest/tag?${new URLSearchParams({ repo: `${target.host}/acme/pushed`, tag: 'v1' })}`,
      );
      expect(tag.status).toBe(201);
      const push = await enginePost(
        engine.socketPath,
        `/images/${target.host}/acme/pushed/push?tag=v1`,
        auth(target),
      );
      expect(push.status).toBe(200);
      expect(push.body).not.toMatch(/"error"/);
      // The engine pushes its own recompressed layer, so the digest is the one it reports.
      const reported = /digest: (sha256:[a-f0-9]{64})/.exec(push.body)?.[1];
      expect(reported).toBeDefined();
      expect(target.digestOf('acme/pushed', 'v1')).toBe(reported);
      const token = target.requests.find((r) => r.kind === 'token' && r.status === 200);
      expect(token?.query.scope).toMatch(/repository:acme\/pushed:(pull,push|push,pull)/);
      expect(target.requests.some((r) => r.method === 'PUT' && r.kind === 'manifest')).toBe(true);
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
