/**
 * The signed-image gate of admin-api against the real thing: Debian's dockerd on a private
 * socket and CNCF distribution with token auth, signatures in cosign's layouts. An unsigned
 * `:latest` is failed with UNTRUSTED_IMAGE (nothing pulled, containers kept); once signed the
 * refresh pulls exactly the verified digest, tags it as `:latest` and recreates.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BuiltImage,
  buildImage,
  type CosignKeyPair,
  type Distribution,
  type Dockerd,
  generateCosignKeyPair,
  pushImage,
  realPartsGate,
  signImageLegacy,
  signImageWithBundles,
  startDistribution,
  startDockerd,
} from '@molecule/real-parts';
import {
  createCredentialResolver,
  createRegistryClient,
  type RegistryClient,
} from '@molecule/registry-client';
import { createLogger } from '@molecule/service-kit';
import type Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connectEngine } from '../src/engine/connect.js';
import { createMetrics, type Metrics } from '../src/metrics.js';

const gate = realPartsGate(['dockerd', 'docker-registry', 'busybox']);
const TOKEN = 'signatures-admin-token';
const USER = { username: 'gatekeeper', password: 'gate-dist-pa55-secret' };

describe.skipIf(gate.skip)(
  `admin-api's signed-image gate, real dockerd + distribution ${gate.reason ?? ''}`,
  () => {
    let dockerd: Dockerd;
    let registry: Distribution;
    let client: RegistryClient;
    let app: FastifyInstance;
    let docker: Docker;
    let metrics: Metrics;
    let dir: string;
    let key: CosignKeyPair;
    let prefix: string;

    const repository = (runtime: string) => `molecule-ai/workspace-template-${runtime}`;
    const push = async (runtime: string, salt: string): Promise<BuiltImage> => {
      const image = await buildImage({ salt });
      await pushImage({
        registryUrl: registry.url,
        repository: repository(runtime),
        tag: 'latest',
        image,
        credentials: USER,
      });
      return image;
    };
    const refresh = (query: string) =>
      app.inject({
        method: 'POST',
        url: `/admin/workspace-images/refresh${query}`,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
    const pullsOf = async (runtime: string) =>
      (await docker.listImages()).filter((image) =>
        (image.RepoDigests ?? []).some((d) =>
          d.startsWith(`${prefix}/workspace-template-${runtime}@`),
        ),
      );

    beforeAll(async () => {
      dockerd = await startDockerd();
      registry = await startDistribution({
        auth: 'token',
        users: [USER],
        allowAnonymousPull: false,
      });
      prefix = `${registry.host}/molecule-ai`;
      dir = await mkdtemp(join(tmpdir(), 'admin-api-gate-'));
      key = generateCosignKeyPair();
      await writeFile(join(dir, 'cosign.pub'), key.publicKeyPem);
      const config = loadConfig({
        MOLECULE_ADMIN_TOKEN: TOKEN,
        MOLECULE_IMAGE_REGISTRY: prefix,
        MOLECULE_REGISTRY_USERNAME: USER.username,
        MOLECULE_REGISTRY_PASSWORD: USER.password,
        MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'cosign.pub'),
        DOCKER_HOST: dockerd.dockerHost,
        DOCKER_CONFIG: dir,
        ADMIN_API_STOP_GRACE_SECONDS: '2',
        LOG_LEVEL: 'silent',
      });
      expect(config.signatures.mode).toBe('enforce');
      const credentials = createCredentialResolver({ settings: config.registry });
      client = createRegistryClient({ settings: config.registry, credentials });
      docker = (await connectEngine(config.docker)).docker;
      metrics = createMetrics({ defaultMetrics: false });
      ({ http: app } = await buildApp(config, {
        docker,
        credentials,
        registry: client,
        logger: createLogger({ service: 'admin-api', level: 'silent' }),
        metrics,
      }));
    }, 120_000);
    afterAll(async () => {
      await app?.close();
      await client?.close();
      await dockerd?.close();
      await registry?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('unsigned: failed with UNTRUSTED_IMAGE, nothing pulled, the workspace kept; signed (.sig): pulled by digest and recreated', async () => {
      // v1 is signed and running; v2 is pushed unsigned.
      const v1 = await push('codex', 'gate-codex-v1');
      await signImageLegacy({
        registryUrl: registry.url,
        repository: repository('codex'),
        credentials: USER,
        digest: v1.digest,
        keys: [key],
      });
      const first = await refresh('?runtime=codex&recreate=false');
      expect(first.json()).toMatchObject({ pulled: ['codex'], failed: [] });
      expect(first.json().images.codex.digest).toBe(v1.digest);
      const workspace = await docker.createContainer({
        name: 'ws-gate-1',
        Image: `${prefix}/workspace-template-codex:latest`,
        HostConfig: { NetworkMode: 'none' },
      });
      await workspace.start();

      const v2 = await push('codex', 'gate-codex-v2');
      const refused = await refresh('?runtime=codex');
      expect(refused.statusCode).toBe(200);
      expect(refused.json()).toMatchObject({ pulled: [], failed: ['codex'], recreated: [] });
      expect(refused.json().errors).toEqual([
        expect.objectContaining({ stage: 'trust', runtime: 'codex', code: 'UNTRUSTED_IMAGE' }),
      ]);
      expect(JSON.stringify(refused.json())).not.toContain(USER.password);
      expect((await pullsOf('codex')).flatMap((i) => i.RepoDigests)).not.toContain(
        `${prefix}/workspace-template-codex@${v2.digest}`,
      );
      expect((await workspace.inspect()).State.Running).toBe(true);

      // Signed now: the same refresh pulls exactly v2 by digest, tags it :latest, recreates.
      await signImageLegacy({
        registryUrl: registry.url,
        repository: repository('codex'),
        credentials: USER,
        digest: v2.digest,
        keys: [key],
      });
      const signed = await refresh('?runtime=codex');
      expect(signed.json()).toMatchObject({
        pulled: ['codex'],
        failed: [],
        recreated: ['ws-gate-1'],
      });
      expect(signed.json().images.codex.digest).toBe(v2.digest);
      const latest = await docker.getImage(`${prefix}/workspace-template-codex:latest`).inspect();
      expect(latest.RepoDigests).toContain(`${prefix}/workspace-template-codex@${v2.digest}`);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(
        /admin_api_signature_verifications_total\{outcome="unsigned",reason="NO_SIGNATURE"\} 1/,
      );
      expect(text).toMatch(
        /admin_api_signature_verifications_total\{outcome="trusted",reason="OK"\} [23]/,
      );
    });

    it('a cosign 3 bundle (referrers tag schema) is trusted; another key is not', async () => {
      const v1 = await push('langgraph', 'gate-langgraph-v1');
      const stranger = generateCosignKeyPair();
      await signImageWithBundles({
        registryUrl: registry.url,
        repository: repository('langgraph'),
        credentials: USER,
        subject: {
          digest: v1.digest,
          mediaType: v1.manifest.mediaType,
          size: v1.manifest.body.length,
        },
        keys: [stranger],
      });
      const refused = await refresh('?runtime=langgraph&recreate=false');
      expect(refused.json().errors[0]).toMatchObject({ code: 'UNTRUSTED_IMAGE' });
      expect(await pullsOf('langgraph')).toEqual([]);

      await signImageWithBundles({
        registryUrl: registry.url,
        repository: repository('langgraph'),
        credentials: USER,
        subject: {
          digest: v1.digest,
          mediaType: v1.manifest.mediaType,
          size: v1.manifest.body.length,
        },
        keys: [key],
      });
      const trusted = await refresh(`?runtime=langgraph&digest=${v1.digest}&recreate=false`);
      expect(trusted.json()).toMatchObject({ pulled: ['langgraph'], failed: [] });
      expect(trusted.json().images.langgraph.digest).toBe(v1.digest);
    });
  },
);
