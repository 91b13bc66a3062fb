/**
 * The real distribution registry (token auth) with a notification endpoint pointing at a
 * running imagewatch (`POST /hooks/registry`, bearer secret), polling set to an hour, and
 * the fake admin-api. Used by the integration test and `bench:hooks`.
 */
import { join } from 'node:path';
import {
  buildImage,
  type Distribution,
  getFreePort,
  pushImage,
  startDistribution,
} from '@molecule/real-parts';
import type { Logger } from '@molecule/service-kit';
import { loadConfig } from '../../src/config.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { tempDir } from '../helpers.js';
import { type TestService as Service, startService } from '../service.js';

export const RIG_USER = { username: 'pusher', password: 'real-dist-pa55-secret' };
export const RIG_ADMIN_TOKEN = 'rig-admin-token-secret';
export const RIG_HOOK_TOKEN = 'rig-hook-token-secret';
export const RIG_REPOSITORY = 'molecule-ai/workspace-template-langgraph';

export interface PushHookRig {
  readonly registry: Distribution;
  readonly admin: FakeAdminApi;
  readonly service: Service;
  /** Where imagewatch listens (its /hooks/registry). */
  readonly port: number;
  /** `<registry host>/molecule-ai/workspace-template-langgraph:latest` */
  readonly image: string;
  /** Pushes a new image as `latest`; resolves with its digest once the manifest PUT answered. */
  push(salt: string): Promise<string>;
  close(): Promise<void>;
}

export async function startPushHookRig(options: { logger: Logger }): Promise<PushHookRig> {
  const { dir, cleanup } = await tempDir();
  const closers: Array<() => Promise<unknown>> = [cleanup];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  };
  try {
    // imagewatch's port is chosen first: the registry's config names the endpoint.
    const port = await getFreePort();
    const registry = await startDistribution({
      auth: 'token',
      users: [RIG_USER],
      notifications: [
        {
          url: `http://127.0.0.1:${port}/hooks/registry`,
          headers: { Authorization: `Bearer ${RIG_HOOK_TOKEN}` },
        },
      ],
    });
    closers.push(() => registry.close());
    const admin = await startFakeAdminApi({ token: RIG_ADMIN_TOKEN });
    closers.push(() => admin.close());

    const config = loadConfig({
      MOLECULE_IMAGE_REGISTRY: `${registry.host}/molecule-ai`,
      MOLECULE_REGISTRY_USERNAME: RIG_USER.username,
      MOLECULE_REGISTRY_PASSWORD: RIG_USER.password,
      IMAGE_WATCH_RUNTIMES: 'langgraph',
      // Polling is the safety net only: every refresh in these runs comes from a hook.
      IMAGE_WATCH_INTERVAL: '1h',
      IMAGE_AUTO_REFRESH: 'true',
      MOLECULE_ADMIN_TOKEN: RIG_ADMIN_TOKEN,
      MOLECULE_ADMIN_API_URL: admin.url,
      IMAGE_WATCH_STATE_FILE: join(dir, 'state.json'),
      IMAGE_WATCH_HOST: '127.0.0.1',
      IMAGE_WATCH_PORT: String(port),
      IMAGE_WATCH_HOOK_TOKEN: RIG_HOOK_TOKEN,
    });
    const service = await startService(config, { logger: options.logger });
    closers.push(() => service.close({ graceMs: 500 }));
    await service.app.http.listen({ host: config.host, port: config.port });
    // The first tick finds no image yet (NOT_FOUND); the first push seeds through the hook.
    await service.app.start();

    return {
      registry,
      admin,
      service,
      port,
      image: `${registry.host}/${RIG_REPOSITORY}:latest`,
      async push(salt) {
        return pushImage({
          registryUrl: registry.url,
          repository: RIG_REPOSITORY,
          tag: 'latest',
          image: await buildImage({ salt }),
          credentials: RIG_USER,
        });
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
