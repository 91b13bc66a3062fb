import {
  buildImage,
  type Distribution,
  type FaultProxy,
  pushImage,
  realPartsGate,
  startDistribution,
  startFaultProxy,
} from '@molecule/real-parts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCredentialResolver,
  createRegistryClient,
  isRegistryError,
  type RegistryClient,
} from '../src/index.js';
import { rejectionOf } from './helpers.js';

// Skips locally without docker-registry; fails under CI=true.
const gate = realPartsGate(['docker-registry']);
const REPOSITORY = 'molecule-ai/workspace-template-langgraph';

describe.skipIf(gate.skip)(
  `a login page in front of the real distribution registry ${gate.reason ?? ''}`,
  () => {
    let registry: Distribution;
    let proxy: FaultProxy;
    let client: RegistryClient;
    let digest: string;

    beforeAll(async () => {
      registry = await startDistribution({ auth: 'none' });
      digest = await pushImage({
        registryUrl: registry.url,
        repository: REPOSITORY,
        tag: 'latest',
        image: await buildImage(),
      });
      proxy = await startFaultProxy({ upstream: registry.url, mode: 'pass' });
      const env = {
        MOLECULE_IMAGE_REGISTRY: `${proxy.host}/molecule-ai`,
        DOCKER_CONFIG: '/nonexistent-docker-config',
      };
      client = createRegistryClient({ credentials: createCredentialResolver({ env }), env });
    });
    afterAll(async () => {
      await client?.close();
      await proxy?.close();
      await registry?.close();
    });

    it('is BAD_RESPONSE naming host, path, status and text/html, then the digest once it is gone', async () => {
      const ref = `${proxy.host}/${REPOSITORY}:latest`;
      expect((await client.getManifestDigest(ref)).digest).toBe(digest);

      proxy.setMode('html');
      for (let tick = 0; tick < 3; tick++) {
        const error = await rejectionOf(client.getManifestDigest(ref));
        if (!isRegistryError(error)) throw error;
        expect(error.code).toBe('BAD_RESPONSE');
        expect(error.status).toBe(200);
        expect(error.host).toBe(proxy.host);
        expect(error.path).toBe(`/v2/${REPOSITORY}/manifests/latest`);
        expect(error.message).toContain(`http://${proxy.host}/v2/${REPOSITORY}/manifests/latest`);
        expect(error.message).toContain('text/html');
      }
      expect(proxy.requests.html).toBeGreaterThanOrEqual(3);

      proxy.setMode('pass');
      expect(await client.getManifestDigest(ref)).toEqual({
        digest,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      });
    });
  },
);
