/**
 * Turns accepted notifications into `watcher.checkNow(runtime)` calls after the HTTP answer:
 * the registry's delivery is acknowledged at once, the check runs behind it.
 *
 * A burst for one runtime (a registry retrying, several tags pushed, duplicated deliveries)
 * is coalesced twice: events within `coalesceMs` of the first join one trigger, and
 * `checkNow` never runs two checks of a reference at once (one more queues behind a running
 * one). The decision logic then refreshes at most once per digest.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { shortDigest } from '../watch/decide.js';
import type { Watcher } from '../watch/watcher.js';

export interface HookDispatcher {
  /**
   * Schedules a check of `runtime` (joins one already scheduled). Never throws. `coalesceMs`:
   * this trigger's wait (0 for a check a follower already coalesced).
   */
  trigger(runtime: string, options?: { coalesceMs?: number }): void;
  /** Drops scheduled checks and resolves once the running ones are done. */
  close(): Promise<void>;
}

export interface HookDispatcherOptions {
  watcher: Pick<Watcher, 'checkNow'>;
  logger: Logger;
  metrics: Pick<Metrics, 'hookChecksPending'>;
  /** How long the first event of a burst waits for the others. Default 50 ms. */
  coalesceMs?: number;
}

export const DEFAULT_HOOK_COALESCE_MS = 50;

export function createHookDispatcher(options: HookDispatcherOptions): HookDispatcher {
  const { watcher, logger, metrics } = options;
  const coalesceMs = options.coalesceMs ?? DEFAULT_HOOK_COALESCE_MS;
  const scheduled = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;
  const updatePending = () => metrics.hookChecksPending.set(scheduled.size + inFlight.size);

  async function run(runtime: string): Promise<void> {
    try {
      const results = await watcher.checkNow(runtime);
      for (const result of results) {
        logger.info(
          {
            runtime,
            image: result.image,
            outcome: result.outcome,
            digest:
              result.remote?.kind === 'resolved' ? shortDigest(result.remote.digest) : undefined,
            ...(result.rollout === undefined ? {} : { rollout: result.rollout }),
          },
          'registry hook: check done',
        );
      }
    } catch (error) {
      // checkNow does not throw (failures are results); this is a bug or a state-store fault.
      logger.error({ runtime, err: error }, 'registry hook: check crashed');
    }
  }

  return {
    trigger(runtime, { coalesceMs: wait = coalesceMs } = {}) {
      if (closed || scheduled.has(runtime)) return;
      const timer = setTimeout(() => {
        scheduled.delete(runtime);
        const running = run(runtime).finally(() => {
          inFlight.delete(running);
          updatePending();
        });
        inFlight.add(running);
        updatePending();
      }, wait);
      scheduled.set(runtime, timer);
      updatePending();
    },
    async close() {
      closed = true;
      for (const timer of scheduled.values()) clearTimeout(timer);
      scheduled.clear();
      updatePending();
      await Promise.allSettled([...inFlight]);
    },
  };
}
