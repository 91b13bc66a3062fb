/**
 * The service as `imagewatch run` builds it (createDeps + buildApp: real registry client,
 * admin client and state file), without listening: tests drive it through `app.watcher` and
 * `app.http.inject`.
 */
import type { Logger } from '@molecule/service-kit';
import { buildApp, type ImagewatchApp } from '../src/app.js';
import type { ImagewatchConfig } from '../src/config.js';
import { createDeps } from '../src/deps.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import type { WatchStore } from '../src/store/watch-store.js';
import { rolloutsSettled } from './helpers.js';

export interface TestService {
  readonly app: ImagewatchApp;
  readonly metrics: Metrics;
  readonly store: WatchStore;
  /** Resolves once no rollout is running. */
  rolloutsSettled(): Promise<void>;
  /** Drains (aborting the running tick after `graceMs`) and closes the clients. */
  close(options?: { graceMs?: number }): Promise<void>;
}

export async function startService(
  config: ImagewatchConfig,
  options: { logger: Logger; hookCoalesceMs?: number },
): Promise<TestService> {
  const metrics = createMetrics({ defaultMetrics: false });
  const deps = createDeps(config, { logger: options.logger, metrics });
  const app = await buildApp(config, {
    ...deps,
    ...(options.hookCoalesceMs === undefined ? {} : { hookCoalesceMs: options.hookCoalesceMs }),
  });
  // The rollout engine drives rollouts; the watch loop is left to the test (ticks by hand).
  await app.open();
  await app.rollouts.activate();
  let closed: Promise<void> | undefined;
  return {
    app,
    metrics,
    store: deps.store,
    rolloutsSettled: () => rolloutsSettled(deps.store),
    close({ graceMs = 10_000 } = {}) {
      closed ??= (async () => {
        await app.drain(AbortSignal.timeout(graceMs));
        await app.http.close();
        await deps.close();
      })();
      return closed;
    },
  };
}
