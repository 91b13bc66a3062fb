import {
  buildImage,
  type Distribution,
  type Dockerd,
  pushImage,
  realPartsGate,
  startDistribution,
  startDockerd,
} from '@molecule/real-parts';
import { createCredentialResolver } from '@molecule/registry-client';
import { createLogger } from '@molecule/service-kit';
import type Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connectEngine } from '../src/engine/connect.js';
import { createMetrics } from '../src/metrics.js';

/**
 * The real thing: Debian's dockerd on a private socket and CNCF distribution with auth that
 * refuses anonymous pulls, so a successful pull proves the X-Registry-Auth header works.
 */
const gate = realPartsGate(['dockerd', 'docker-registry', 'busybox']);
const TOKEN = 'integration-admin-token';

let dockerd: Dockerd;
beforeAll(async () => {
  if (gate.skip) return;
  dockerd = await startDockerd();
}, 120_000);
afterAll(async () => {
  await dockerd?.close();
});

async function createWorkspace(
  docker: Docker,
  name: string,
  image: string,
  start = true,
): Promise<string> {
  const container = await docker.createContainer({
    name,
    Image: image,
    HostConfig: { NetworkMode: 'none' },
  });
  if (start) await container.start();
  return container.id;
}

async function exists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getContainer(name).inspect();
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(gate.skip).each(['htpasswd', 'token'] as const)(
  `refresh against real dockerd + distribution (%s auth) ${gate.reason ?? ''}`,
  (auth) => {
    let registry: Distribution;
    let app: FastifyInstance;
    let docker: Docker;
    let prefix: string;
    const credentials = () => registry.users[0]!;

    const push = async (runtime: string, salt: string) =>
      pushImage({
        registryUrl: registry.url,
        repository: `molecule-ai/workspace-template-${runtime}`,
        tag: 'latest',
        image: await buildImage({ salt }),
        credentials: credentials(),
      });

    const refresh = (query: string) =>
      app.inject({
        method: 'POST',
        url: `/admin/workspace-images/refresh${query}`,
        headers: { authorization: `Bearer ${TOKEN}` },
      });

    beforeAll(async () => {
      registry = await startDistribution({ auth, allowAnonymousPull: false });
      prefix = `${registry.host}/molecule-ai`;
      const config = loadConfig({
        MOLECULE_ADMIN_TOKEN: TOKEN,
        MOLECULE_IMAGE_REGISTRY: prefix,
        MOLECULE_REGISTRY_USERNAME: credentials().username,
        MOLECULE_REGISTRY_PASSWORD: credentials().password,
        DOCKER_HOST: dockerd.dockerHost,
        DOCKER_CONFIG: '/nonexistent-docker-config',
        ADMIN_API_STOP_GRACE_SECONDS: '5',
        ADMIN_API_PULL_TIMEOUT: '60s',
        LOG_LEVEL: 'silent',
      });
      const engine = await connectEngine(config.docker);
      expect(engine.apiVersion).toBe(dockerd.apiVersion);
      docker = engine.docker;
      ({ http: app } = await buildApp(config, {
        docker,
        credentials: createCredentialResolver({ settings: config.registry }),
        logger: createLogger({ service: 'admin-api', level: 'silent' }),
        metrics: createMetrics({ defaultMetrics: false }),
      }));
    }, 120_000);
    afterAll(async () => {
      await app?.close();
      if (docker) {
        for (const c of await docker.listContainers({ all: true })) {
          await docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined);
        }
      }
      await registry?.close();
    });

    it('the registry refuses anonymous pulls (so a pull below proves X-Registry-Auth)', async () => {
      await push('hermes', `${auth}-anon`);
      await expect(
        docker.createImage({ fromImage: `${prefix}/workspace-template-hermes`, tag: 'latest' }),
      ).rejects.toMatchObject({ statusCode: 500 });
    });

    it('pulls a moved digest with credentials and recreates exactly the matching ws-* containers', async () => {
      await push('codex', `${auth}-codex-v1`);
      await push('langgraph', `${auth}-langgraph-v1`);
      const first = await refresh('?runtime=&recreate=false');
      expect(first.json().failed).toContain('autogen'); // never pushed: a 404 from the engine
      expect(first.json().pulled).toEqual(['codex', 'hermes', 'langgraph']);

      const codex = `${prefix}/workspace-template-codex:latest`;
      const langgraph = `${prefix}/workspace-template-langgraph:latest`;
      await createWorkspace(docker, 'ws-codex-1', codex);
      await createWorkspace(docker, 'ws-codex-2', codex, false);
      await createWorkspace(docker, 'ws-langgraph-1', langgraph);
      await createWorkspace(docker, 'codex-not-a-workspace', codex);

      const v2 = await push('codex', `${auth}-codex-v2`);
      const response = await refresh('?runtime=codex');
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({
        pulled: ['codex'],
        failed: [],
        recreated: ['ws-codex-1', 'ws-codex-2'],
      });
      expect(body.images.codex.digest).toBe(v2);

      const image = await docker.getImage(codex).inspect();
      expect(image.RepoDigests).toContain(`${prefix}/workspace-template-codex@${v2}`);
      expect(await exists(docker, 'ws-codex-1')).toBe(false);
      expect(await exists(docker, 'ws-codex-2')).toBe(false);
      expect((await docker.getContainer('ws-langgraph-1').inspect()).State.Running).toBe(true);
      expect((await docker.getContainer('codex-not-a-workspace').inspect()).State.Running).toBe(
        true,
      );
      if (registry.tokenServer) {
        const tokenRequests = registry.tokenServer.requests.filter((r) => r.status === 200);
        expect(tokenRequests.some((r) => r.username === credentials().username)).toBe(true);
      }

      // A second refresh: containers already on the new image stay.
      await createWorkspace(docker, 'ws-codex-3', codex);
      const again = (await refresh('?runtime=codex')).json();
      expect(again).toMatchObject({ pulled: ['codex'], recreated: [], unchanged: ['ws-codex-3'] });

      const list = (
        await app.inject({
          method: 'GET',
          url: '/admin/workspace-images',
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).json();
      expect(list.find((e: { runtime: string }) => e.runtime === 'codex').local.digest).toBe(v2);
      expect(list.find((e: { runtime: string }) => e.runtime === 'autogen').local).toBeNull();
    }, 120_000);

    it('refreshes to a digest: pulls it, tags it as :latest, keeps containers on it, rolls back; unknown digests and stale epochs change nothing', async () => {
      const v1 = await push('crewai', `${auth}-crewai-v1`);
      const v2 = await push('crewai', `${auth}-crewai-v2`);
      const latest = `${prefix}/workspace-template-crewai:latest`;
      const at = (digest: string, epoch?: number) =>
        app.inject({
          method: 'POST',
          url: `/admin/workspace-images/refresh?runtime=crewai&digest=${digest}`,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(epoch === undefined ? {} : { 'x-rollout-epoch': String(epoch) }),
          },
        });
      // The tag says v2; pulling v1 by digest makes :latest v1 on this engine.
      const first = await at(v1, 3);
      expect(first.json()).toMatchObject({ pulled: ['crewai'], failed: [] });
      const local = await docker.getImage(latest).inspect();
      expect(local.RepoDigests).toContain(`${prefix}/workspace-template-crewai@${v1}`);
      expect(first.json().images.crewai.digest).toBe(v1);

      await createWorkspace(docker, 'ws-crewai-on-v1', latest);
      const again = await at(v1, 3);
      expect(again.json()).toMatchObject({ recreated: [], unchanged: ['ws-crewai-on-v1'] });

      const forward = await at(v2, 4);
      expect(forward.json()).toMatchObject({ pulled: ['crewai'], recreated: ['ws-crewai-on-v1'] });
      expect((await docker.getImage(latest).inspect()).RepoDigests).toContain(
        `${prefix}/workspace-template-crewai@${v2}`,
      );

      await createWorkspace(docker, 'ws-crewai-on-v2', latest);
      const unknown = `sha256:${'0'.repeat(64)}`;
      const missing = await at(unknown, 4);
      expect(missing.json()).toMatchObject({ pulled: [], failed: ['crewai'], recreated: [] });
      expect(await exists(docker, 'ws-crewai-on-v2')).toBe(true);

      const before = (await docker.getImage(latest).inspect()).Id;
      const stale = await at(v1, 2);
      expect(stale.statusCode).toBe(409);
      expect(stale.json()).toMatchObject({ code: 'STALE_EPOCH', epoch: 4 });
      expect((await docker.getImage(latest).inspect()).Id).toBe(before);
      expect(await exists(docker, 'ws-crewai-on-v2')).toBe(true);

      const back = await at(v1, 5);
      expect(back.json()).toMatchObject({ pulled: ['crewai'], recreated: ['ws-crewai-on-v2'] });
      expect(back.json().images.crewai.digest).toBe(v1);
    }, 120_000);
  },
);
