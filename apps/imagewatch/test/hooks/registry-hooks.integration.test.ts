/**
 * Push-driven refresh against the real CNCF distribution registry (token auth) with a
 * notifications endpoint pointing at imagewatch: polling is set to an hour, so every
 * refresh seen here comes from a notification.
 */
import { realPartsGate } from '@molecule/real-parts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hooksSettled, memoryLogger, waitFor } from '../helpers.js';
import {
  type PushHookRig,
  RIG_ADMIN_TOKEN,
  RIG_HOOK_TOKEN,
  RIG_USER,
  startPushHookRig,
} from './push-hook-rig.js';

const gate = realPartsGate(['docker-registry', 'openssl', 'busybox']);

describe.skipIf(gate.skip)(
  `registry notifications from real distribution ${gate.reason ?? ''}`,
  () => {
    let rig: PushHookRig;
    const log = memoryLogger();

    beforeAll(async () => {
      rig = await startPushHookRig({ logger: log.logger });
    });
    afterAll(async () => {
      await rig?.close();
    });

    it('a push is seen, and a second push is refreshed within 2 s', async () => {
      const { service, admin } = rig;
      // First push: first sight through the hook (no local image on the host): seeded.
      const first = await rig.push(`first-${Date.now()}`);
      await waitFor(
        async () => (await service.store.seenDigest(rig.image))?.digest === first,
        3_000,
      );
      expect(admin.refreshes).toEqual([]);

      const second = await rig.push(`second-${Date.now()}`);
      const pushedAt = Date.now();
      await waitFor(() => admin.refreshes.length > 0, 3_000);
      const latencyMs = admin.refreshes[0]!.at - pushedAt;
      // Polling is every hour here: the hook did it (2 s is slack for a loaded machine).
      expect(latencyMs).toBeLessThan(2_000);
      expect(admin.refreshes[0]).toMatchObject({
        runtime: 'langgraph',
        recreate: 'true',
        authorized: true,
      });
      await hooksSettled(service.metrics);
      expect((await service.store.seenDigest(rig.image))?.digest).toBe(second);
      // One refresh for the push, however many events (blobs, manifest) distribution sent.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await hooksSettled(service.metrics);
      expect(admin.refreshes).toHaveLength(1);

      const metrics = await service.metrics.registry.metrics();
      expect(metrics).toMatch(
        /imagewatch_hook_events_total\{source="distribution",outcome="accepted"\} [1-9]/,
      );
      // Blob pushes arrive too, without a tag: acknowledged and ignored.
      expect(metrics).toMatch(
        /imagewatch_hook_events_total\{source="distribution",outcome="ignored_tag"\} [1-9]/,
      );
      expect(metrics).not.toMatch(/outcome="unauthorized"/);
      for (const secret of [RIG_USER.password, RIG_ADMIN_TOKEN, RIG_HOOK_TOKEN]) {
        expect(log.text()).not.toContain(secret);
      }
    });

    it('the registry could not make imagewatch refresh with a wrong bearer', async () => {
      const response = await fetch(`http://127.0.0.1:${rig.port}/hooks/registry`, {
        method: 'POST',
        headers: {
          'content-type': 'application/vnd.docker.distribution.events.v1+json',
          authorization: 'Bearer wrong',
        },
        body: JSON.stringify({ events: [] }),
      });
      expect(response.status).toBe(401);
    });
  },
);
