import diagnosticsChannel from 'node:diagnostics_channel';
import {
  buildImage,
  type Distribution,
  type DistributionAuth,
  pushImage,
  realPartsGate,
  startDistribution,
} from '@molecule/real-parts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCredentialResolver,
  createRegistryClient,
  isRegistryError,
  type RegistryClient,
  type RegistryRequestEvent,
} from '../src/index.js';
import { everythingAbout, rejectionOf } from './helpers.js';

// Skips locally without docker-registry; fails under CI=true.
const gate = realPartsGate(['docker-registry', 'htpasswd', 'openssl']);
const USER = { username: 'molecule-int', password: 'int-Secret-4d3c2b1a' };
const REPOSITORY = 'molecule-ai/workspace-template-langgraph';

describe.skipIf(gate.skip).each(['none', 'htpasswd', 'token'] as const)(
  `real distribution registry, auth %s ${gate.reason ?? ''}`,
  (auth: DistributionAuth) => {
    let registry: Distribution;
    let client: RegistryClient;
    let digest: string;
    const events: RegistryRequestEvent[] = [];
    const credentials = auth === 'none' ? undefined : USER;
    const envFor = (extra: Record<string, string> = {}) => ({
      MOLECULE_IMAGE_REGISTRY: `${registry.host}/molecule-ai`,
      DOCKER_CONFIG: '/nonexistent-docker-config',
      ...extra,
    });

    beforeAll(async () => {
      registry = await startDistribution({ auth, users: [USER] });
      digest = await pushImage({
        registryUrl: registry.url,
        repository: REPOSITORY,
        tag: 'latest',
        image: await buildImage(),
        ...(credentials ? { credentials } : {}),
      });
      registry.tokenServer?.clearRequests(); // the push fetched tokens of its own
      const env = envFor(
        credentials
          ? {
              MOLECULE_REGISTRY_USERNAME: credentials.username,
              MOLECULE_REGISTRY_PASSWORD: credentials.password,
            }
          : {},
      );
      client = createRegistryClient({
        credentials: createCredentialResolver({ env }),
        env,
        onRequest: (event) => events.push(event),
      });
    });
    afterAll(async () => {
      await client?.close();
      await registry?.close();
    });

    it('resolves the pushed digest, then costs one HEAD per check', async () => {
      const ref = `${registry.host}/${REPOSITORY}:latest`;
      expect(await client.getManifestDigest(ref)).toEqual({
        digest,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      });
      // One more warm-up check: distribution drops the connection that carried the first
      // 401 ping after its next response, so the pool settles after the second check.
      await client.getManifestDigest(ref);
      events.length = 0;
      let connects = 0;
      const onConnect = () => connects++;
      diagnosticsChannel.subscribe('undici:client:connected', onConnect);
      try {
        for (let i = 0; i < 5; i++)
          expect((await client.getManifestDigest(ref)).digest).toBe(digest);
      } finally {
        diagnosticsChannel.unsubscribe('undici:client:connected', onConnect);
      }
      expect(connects).toBe(0); // the keep-alive connection is reused
      expect(events.map((e) => `${e.method} ${e.kind} ${e.status}`)).toEqual(
        Array.from({ length: 5 }, () => 'HEAD manifest 200'),
      );
      if (auth === 'token') {
        expect(registry.tokenServer?.requests.filter((r) => r.status === 200)).toHaveLength(1);
        expect(registry.tokenServer?.requests[0]).toMatchObject({
          username: USER.username,
          scope: `repository:${REPOSITORY}:pull`,
        });
      }
    });

    it('a missing tag is NOT_FOUND', async () => {
      const error = await rejectionOf(
        client.getManifestDigest(`${registry.host}/${REPOSITORY}:nope`),
      );
      expect(isRegistryError(error) && error.code).toBe('NOT_FOUND');
    });

    it.skipIf(auth === 'none')(
      'wrong or missing credentials are UNAUTHORIZED, without the secret',
      async () => {
        for (const extra of [
          {
            MOLECULE_REGISTRY_USERNAME: USER.username,
            MOLECULE_REGISTRY_PASSWORD: 'Wrong-Pass-9z8y',
          },
          {},
        ]) {
          const env = envFor(extra);
          const other = createRegistryClient({
            credentials: createCredentialResolver({ env }),
            env,
          });
          try {
            const error = await rejectionOf(
              other.getManifestDigest(`${registry.host}/${REPOSITORY}:latest`),
            );
            expect(isRegistryError(error) && error.code).toBe('UNAUTHORIZED');
            expect(everythingAbout(error)).not.toContain('Wrong-Pass-9z8y');
          } finally {
            await other.close();
          }
        }
      },
    );
  },
);
