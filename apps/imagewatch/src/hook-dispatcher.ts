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
import { shortDigest } from './decide.js';
import type { CheckResult, Watcher } from './watcher.js';

export interface HookDispatcher {
  /** Schedules a check of `runtime` (joins one already scheduled). Never throws. */
  trigger(runtime: string): void;
  /** Resolves once no check is scheduled or running (tests and the benchmark wait on it). */
  settled(): Promise<void>;
  /** Drops scheduled checks; running ones finish under `watcher.stop()`. */
  close(): void;
}

export interface HookDispatcherOptions {
  watcher: Pick<Watcher, 'checkNow'>;
  logger: Logger;
  /** How long the first event of a burst waits for the others. Default 50 ms. */
  coalesceMs?: number;
  /** Observer of each finished check (tests, benchmark). */
  onChecked?: (runtime: string, results: readonly CheckResult[]) => void;
}

export const DEFAULT_HOOK_COALESCE_MS = 50;

interface Pending {
  timer: NodeJS.Timeout | undefined;
  readonly done: Promise<void>;
  resolve(): void;
}

export function createHookDispatcher(options: HookDispatcherOptions): HookDispatcher {
  const { watcher, logger } = options;
  const coalesceMs = options.coalesceMs ?? DEFAULT_HOOK_COALESCE_MS;
  const scheduled = new Map<string, Pending>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;

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
            ...(result.refreshed === undefined ? {} : { refreshed: result.refreshed }),
          },
          'registry hook: check done',
        );
      }
      options.onChecked?.(runtime, results);
    } catch (error) {
      // checkNow does not throw (failures are results); this is a bug or a state-store fault.
      logger.error({ runtime, err: error }, 'registry hook: check crashed');
    }
  }

  return {
    trigger(runtime) {
      if (closed || scheduled.has(runtime)) return;
      let resolve!: () => void;
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      const pending: Pending = { timer: undefined, done, resolve };
      scheduled.set(runtime, pending);
      pending.timer = setTimeout(() => {
        scheduled.delete(runtime);
        const running = run(runtime);
        inFlight.add(running);
        running.finally(() => {
          inFlight.delete(running);
          resolve();
        });
      }, coalesceMs);
    },
    async settled() {
      while (scheduled.size > 0 || inFlight.size > 0) {
        await Promise.allSettled([...[...scheduled.values()].map((p) => p.done), ...inFlight]);
      }
    },
    close() {
      closed = true;
      for (const pending of scheduled.values()) {
        clearTimeout(pending.timer);
        pending.resolve();
      }
      scheduled.clear();
    },
  };
}
