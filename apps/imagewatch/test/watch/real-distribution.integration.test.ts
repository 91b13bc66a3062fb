/**
 * Against the real CNCF distribution registry with token auth (a JWT token server of our
 * own, as GHCR and Docker Hub do it): a newly pushed image moves the digest and the running
 * watcher notices it, and asks admin-api to refresh, within one interval.
 */
import { join } from 'node:path';
import {
  buildImage,
  type Distribution,
  pushImage,
  realPartsGate,
  startDistribution,
} from '@molecule/real-parts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { memoryLogger, tempDir, waitFor } from '../helpers.js';
import { type TestService as Service, startService } from '../service.js';

const gate = realPartsGate(['docker-registry', 'openssl', 'busybox']);
const USER = { username: 'watcher', password: 'real-dist-pa55-secret' };
const ADMIN_TOKEN = 'real-admin-token-secret';
const REPOSITORY = 'molecule-ai/workspace-template-langgraph';
const INTERVAL_MS = 1_500;

describe.skipIf(gate.skip)(
  `imagewatch against real distribution (token auth) ${gate.reason ?? ''}`,
  () => {
    let registry: Distribution;
    let admin: FakeAdminApi;
    let service: Service | undefined;
    let cleanup: () => Promise<void> = async () => {};
    let dir: string;
    const log = memoryLogger();

    beforeAll(async () => {
      ({ dir, cleanup } = await tempDir());
      registry = await startDistribution({ auth: 'token', users: [USER] });
      admin = await startFakeAdminApi({ token: ADMIN_TOKEN });
      await pushImage({
        registryUrl: registry.url,
        repository: REPOSITORY,
        tag: 'latest',
        image: await buildImage({ salt: 'first' }),
        credentials: USER,
      });
    });
    afterAll(async () => {
      await service?.close({ graceMs: 500 });
      await admin?.close();
      await registry?.close();
      await cleanup();
    });

    it('notices a newly pushed image within one interval and refreshes that runtime', async () => {
      const config = loadConfig({
        MOLECULE_IMAGE_REGISTRY: `${registry.host}/molecule-ai`,
        MOLECULE_REGISTRY_USERNAME: USER.username,
        MOLECULE_REGISTRY_PASSWORD: USER.password,
        IMAGE_WATCH_RUNTIMES: 'langgraph',
        IMAGE_WATCH_INTERVAL: `${INTERVAL_MS}ms`,
        IMAGE_AUTO_REFRESH: 'true',
        MOLECULE_ADMIN_TOKEN: ADMIN_TOKEN,
        MOLECULE_ADMIN_API_URL: admin.url,
        IMAGE_WATCH_STATE_FILE: join(dir, 'state.json'),
      });
      service = await startService(config, { logger: log.logger });
      await service.app.start();
      const image = `${registry.host}/${REPOSITORY}:latest`;
      const seeded = await waitFor(
        async () => (await service!.store.seenDigest(image))?.digest,
        10_000,
      );
      expect(admin.refreshes).toEqual([]);

      const pushed = await pushImage({
        registryUrl: registry.url,
        repository: REPOSITORY,
        tag: 'latest',
        image: await buildImage({ salt: `second-${Date.now()}` }),
        credentials: USER,
      });
      const pushedAt = Date.now();
      expect(pushed).not.toBe(seeded);

      await waitFor(() => admin.refreshes.length > 0, 2 * INTERVAL_MS + 2_000);
      const noticedAfterMs = admin.refreshes[0]!.at - pushedAt;
      // One interval (+10% jitter) plus the tick's own requests.
      expect(noticedAfterMs).toBeLessThan(INTERVAL_MS * 1.1 + 2_000);
      expect(admin.refreshes[0]).toMatchObject({
        runtime: 'langgraph',
        recreate: 'true',
        authorized: true,
      });
      await waitFor(async () => (await service!.store.seenDigest(image))?.digest === pushed, 2_000);

      // The token server saw our user (token auth, not anonymous), and no secret was logged.
      expect(
        registry.tokenServer?.requests.some(
          (r) => r.username === USER.username && r.status === 200,
        ),
      ).toBe(true);
      expect(log.text()).not.toContain(USER.password);
      expect(log.text()).not.toContain(ADMIN_TOKEN);
    });
  },
);
