/**
 * The rollout engine: turns rollouts in the store into refresh calls, wave by wave, host by
 * host (the hosts of a wave at once), with retries and backoff, a soak between waves, halting
 * on a wave that still has a failed host, and supersede, abort, resume and rollback. Every
 * step is a state-machine event committed to the store before the next call, so a restart (or
 * another replica taking over) resumes where it was: a host that finished is not called again,
 * the host that was in flight is asked again (its local digest first).
 *
 * The engine only acts while `mayAct()` says so (the leader's lock, checked before every
 * refresh call); an admin-api that has accepted a newer epoch stops it at once.
 */
import { createSharedAbortController, type Logger, sleep } from '@molecule/service-kit';
import type { AdminClient } from '../admin-client/client.js';
import type { WatchTarget } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { WatchStore } from '../store/watch-store.js';
import { shortDigest } from '../watch/decide.js';
import { refreshHost } from './host-refresh.js';
import type { AdminHosts } from './hosts.js';
import { mutateRollout } from './mutate.js';
import {
  createRollout,
  currentWaveHosts,
  hostOf,
  hostsDone,
  type Rollout,
  rolloutId,
} from './rollout.js';
import type { RolloutEvent } from './transitions.js';

export interface RolloutSettings {
  readonly waves: readonly (readonly string[])[];
  readonly soakMs: number;
  /** Retries of a failed host before its wave halts the rollout. */
  readonly retries: number;
}

export interface RolloutEngineDeps {
  readonly store: WatchStore;
  readonly hosts: AdminHosts<Pick<AdminClient, 'refresh' | 'listImages'>>;
  readonly settings: RolloutSettings;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Checked before every refresh call: the leader still holds its lock. Default: always. */
  readonly mayAct?: () => Promise<boolean>;
  /** admin-api refused our epoch: a newer leader exists. */
  readonly onStaleEpoch?: (message: string) => void;
  /** First retry backoff; doubles per attempt up to a minute (default 2 s). */
  readonly backoffMs?: number;
  /** How often a rollout waiting for an older one of its runtime looks again (default 1 s). */
  readonly waitPollMs?: number;
  readonly now?: () => Date;
  readonly random?: () => number;
}

export type RolloutAction = 'resume' | 'abort' | 'rollback';

export type ActionResult =
  | { readonly ok: true; readonly rollout: Rollout; readonly created?: Rollout }
  | {
      readonly ok: false;
      readonly code: 'NOT_FOUND' | 'CONFLICT';
      readonly reason: string;
      readonly rollout?: Rollout;
    };

export interface BeginRollout {
  readonly target: WatchTarget;
  readonly from: string | undefined;
  readonly to: string;
  /** Hosts that already run `to` (first sight). */
  readonly alreadyDone: readonly string[];
}

export interface RolloutEngine {
  /** Records `to` as seen and starts its rollout (or returns the one already running for it). */
  begin(input: BeginRollout): Promise<Rollout>;
  /** An operator's action (`/rollouts/<id>/<action>`); a wrong state is a CONFLICT. */
  act(id: string, action: RolloutAction): Promise<ActionResult>;
  /** Drives every running rollout in the store (at start, or after taking over). */
  activate(): Promise<void>;
  /** A rollout changed in the store elsewhere (another replica's API): look at it again. */
  poke(id: string): void;
  /**
   * Drives every running rollout of the store that has no driver here (one resumed or created
   * on another replica whose announcement was lost). Does nothing while inactive.
   */
  adoptRunning(): Promise<void>;
  /** Stops driving; in-flight refresh calls are aborted when `signal` aborts (now, if absent). */
  deactivate(signal?: AbortSignal): Promise<void>;
}

interface Driver {
  readonly promise: Promise<void>;
  /** Aborts this rollout's in-flight calls (abort, rollback, losing the lead). */
  readonly calls: AbortController;
  /** Ends a wait (soak, backoff, an older rollout) early. */
  wake(): void;
}

const MAX_BACKOFF_MS = 60_000;

export function createRolloutEngine(deps: RolloutEngineDeps): RolloutEngine {
  const { store, hosts, settings, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const backoffBase = deps.backoffMs ?? 2_000;
  const waitPollMs = deps.waitPollMs ?? 1_000;
  const mayAct = deps.mayAct ?? (async () => true);
  const drivers = new Map<string, Driver>();
  let active = false;
  let stopAll = createSharedAbortController();

  const context = () => ({ now: now(), soakMs: settings.soakMs });
  const fields = (r: Rollout, extra: Record<string, unknown> = {}) => ({
    rollout: r.id,
    runtime: r.runtime,
    digest: shortDigest(r.to),
    ...extra,
  });

  function mutate(id: string, event: RolloutEvent, extra?: Parameters<typeof mutateRollout>[4]) {
    return mutateRollout(store, id, event, context, extra);
  }

  /** Waits `ms`, or less when woken, stopped or the calls are aborted. */
  async function pause(driver: { wakeSignal: AbortSignal }, ms: number): Promise<void> {
    await sleep(ms, driver.wakeSignal).catch(() => undefined);
  }

  function launch(id: string): void {
    if (!active || drivers.has(id)) return;
    const calls = createSharedAbortController();
    const onStop = () => calls.abort();
    stopAll.signal.addEventListener('abort', onStop, { once: true });
    let wakeController = new AbortController();
    const state = {
      get wakeSignal() {
        return wakeController.signal;
      },
    };
    const driver: Driver = {
      calls,
      wake() {
        wakeController.abort();
        wakeController = new AbortController();
      },
      promise: Promise.resolve()
        .then(() => drive(id, calls.signal, state))
        .catch((error: unknown) =>
          logger.error({ rollout: id, err: error }, 'rollout driver failed'),
        )
        .finally(() => {
          stopAll.signal.removeEventListener('abort', onStop);
          drivers.delete(id);
        }),
    };
    drivers.set(id, driver);
  }

  async function olderActive(r: Rollout): Promise<Rollout | undefined> {
    return (await store.activeRollouts()).find(
      (other) =>
        other.runtime === r.runtime &&
        other.id !== r.id &&
        other.created_at <= r.created_at &&
        other.state === 'running',
    );
  }

  async function newerActive(r: Rollout): Promise<Rollout | undefined> {
    return (await store.activeRollouts()).find(
      (other) =>
        other.runtime === r.runtime && other.id !== r.id && other.created_at > r.created_at,
    );
  }

  async function supersede(r: Rollout, by: Rollout): Promise<void> {
    const result = await mutate(r.id, { type: 'supersede', by: by.id });
    if (!result.ok) return;
    metrics.rollouts.inc({ state: 'superseded' });
    logger.warn(
      fields(result.rollout, { by: by.id, newDigest: shortDigest(by.to) }),
      'rollout superseded by a newer digest',
    );
    start(by.id);
  }

  /** Drives `id`, or wakes its driver when it is already waiting (for an older rollout). */
  function start(id: string): void {
    const driver = drivers.get(id);
    if (driver !== undefined) driver.wake();
    else launch(id);
  }

  async function drive(
    id: string,
    signal: AbortSignal,
    wait: { wakeSignal: AbortSignal },
  ): Promise<void> {
    let waveStarted = Date.now();
    while (active && !signal.aborted) {
      const r = await store.getRollout(id);
      if (r === undefined || r.state !== 'running') return;
      if (!(await mayAct())) {
        // Not the leader (or no longer sure): act again once leadership is back.
        await pause(wait, waitPollMs);
        continue;
      }
      const older = await olderActive(r);
      if (older !== undefined) {
        // One rollout of a runtime at a time: the older one ends its wave first.
        await pause(wait, waitPollMs);
        continue;
      }
      if (r.soak_until !== null) {
        const newer = await newerActive(r);
        if (newer !== undefined) return supersede(r, newer);
        const left = Date.parse(r.soak_until) - now().getTime();
        if (left > 0) {
          await pause(wait, left);
          continue;
        }
        await mutate(id, { type: 'soak-over' });
        waveStarted = Date.now();
        continue;
      }
      const open = currentWaveHosts(r).filter(
        (h) =>
          h.state === 'pending' ||
          h.state === 'running' ||
          (h.state === 'failed' && h.attempts <= settings.retries),
      );
      if (open.length > 0) {
        if (open.every((h) => h.state === 'pending' && h.attempts === 0) && r.wave > 0)
          waveStarted = Date.now();
        await Promise.all(open.map((h) => driveHost(id, h.name, signal, wait)));
        continue;
      }
      const settled = await mutate(id, { type: 'wave-settled' });
      if (!settled.ok) continue;
      const next = settled.rollout;
      metrics.waveDuration.observe({ runtime: next.runtime }, (Date.now() - waveStarted) / 1000);
      if (next.state === 'halted') {
        metrics.rollouts.inc({ state: 'halted' });
        metrics.rolloutsHalted.inc({ runtime: next.runtime });
        const failed = currentWaveHosts(next).filter((h) => h.state === 'failed');
        logger.error(
          fields(next, {
            wave: next.wave + 1,
            failed: failed.map((h) => ({ host: h.name, error: h.error })),
          }),
          'rollout halted: a host of the wave still fails; later waves keep the old image (resume, abort or roll back)',
        );
        const newer = await newerActive(next);
        if (newer !== undefined) await supersede(next, newer);
        return;
      }
      if (next.state === 'done') {
        metrics.rollouts.inc({ state: 'done' });
        logger.info(
          fields(next, { hosts: next.hosts.length }),
          'rollout done: every host runs the digest',
        );
        const newer = await newerActive(next);
        if (newer !== undefined) start(newer.id);
        return;
      }
      logger.info(
        fields(next, { wave: next.wave, nextWave: next.wave + 1, soakUntil: next.soak_until }),
        next.soak_until === null ? 'wave done' : 'wave done: soaking before the next wave',
      );
      const newer = await newerActive(next);
      if (newer !== undefined) return supersede(next, newer);
      waveStarted = Date.now();
    }
  }

  async function driveHost(
    id: string,
    name: string,
    signal: AbortSignal,
    wait: { wakeSignal: AbortSignal },
  ): Promise<void> {
    for (;;) {
      if (!active || signal.aborted) return;
      let r = await store.getRollout(id);
      if (r === undefined || r.state !== 'running') return;
      const host = hostOf(r, name);
      if (host === undefined || host.state === 'done') return;
      if (host.state === 'failed' && host.attempts > settings.retries) return;
      const checkFirst = host.state === 'running' || host.attempts > 0;
      if (host.state !== 'running') {
        const started = await mutate(id, { type: 'host-started', host: name });
        if (!started.ok) return;
        r = started.rollout;
      }
      const attempt = hostOf(r, name)?.attempts ?? 1;
      if (!(await mayAct())) return;
      logger.info(fields(r, { host: name, wave: r.wave + 1, attempt }), 'refreshing host');
      const outcome = await refreshHost({
        rollout: r,
        client: hosts.client(name),
        epoch: store.epoch(),
        checkFirst,
        signal,
      });
      if (outcome.kind === 'aborted') return;
      if (outcome.kind === 'stale-epoch') {
        metrics.hostRefreshes.inc({ host: name, outcome: 'stale_epoch' });
        logger.error(
          fields(r, { host: name, err: outcome.error }),
          'admin-api accepted a newer leader: this replica stops acting',
        );
        stopActing();
        deps.onStaleEpoch?.(outcome.error);
        return;
      }
      if (outcome.kind === 'done') {
        metrics.hostRefreshes.inc({ host: name, outcome: 'success' });
        metrics.refreshes.inc({ runtime: r.runtime, outcome: 'success' });
        await mutate(id, { type: 'host-succeeded', host: name });
        logger.info(
          fields(r, {
            host: name,
            wave: r.wave + 1,
            recreated: outcome.recreated,
            refreshed: outcome.refreshed,
          }),
          outcome.refreshed ? 'host refreshed' : 'host already runs the digest',
        );
        return;
      }
      metrics.hostRefreshes.inc({ host: name, outcome: 'failure' });
      metrics.refreshes.inc({ runtime: r.runtime, outcome: 'failure' });
      const failed = await mutate(id, { type: 'host-failed', host: name, error: outcome.error });
      const attempts = failed.ok ? (hostOf(failed.rollout, name)?.attempts ?? attempt) : attempt;
      const willRetry = failed.ok && attempts <= settings.retries;
      logger.warn(
        fields(r, {
          host: name,
          wave: r.wave + 1,
          attempt: attempts,
          code: outcome.code,
          err: outcome.error,
          willRetry,
        }),
        willRetry ? 'host refresh failed: retrying' : 'host refresh failed',
      );
      if (!willRetry) return;
      const backoff = Math.min(MAX_BACKOFF_MS, backoffBase * 2 ** (attempts - 1));
      await pause(wait, Math.round(backoff * (0.8 + random() * 0.4)));
    }
  }

  return {
    async begin(input) {
      const { target } = input;
      for (;;) {
        const current = (await store.activeRollouts()).filter((r) => r.runtime === target.runtime);
        const same = current.find((r) => r.to === input.to);
        if (same !== undefined) return same;
        const rollout = createRollout(
          {
            id: rolloutId(target.runtime, input.to, Date.now() + Math.floor(random() * 1000)),
            runtime: target.runtime,
            reference: target.image,
            from: input.from ?? null,
            to: input.to,
            waves: settings.waves,
            alreadyDone: new Set(input.alreadyDone),
          },
          now(),
        );
        // A halted rollout of the runtime is superseded at once; a running one at its wave's end.
        const halted = current
          .filter((r) => r.state === 'halted')
          .map((r) => ({
            ...r,
            state: 'superseded' as const,
            replaced_by: rollout.id,
            updated_at: rollout.created_at,
            version: r.version + 1,
          }));
        const committed = await store.commit({
          seen: { image: target.image, digest: input.to },
          create: [rollout],
          update: halted,
        });
        if (!committed) continue;
        metrics.rollouts.inc({ state: 'running' });
        for (const r of halted) {
          metrics.rollouts.inc({ state: 'superseded' });
          logger.warn(fields(r, { by: rollout.id }), 'halted rollout superseded by a newer digest');
        }
        logger.warn(
          fields(rollout, {
            from: shortDigest(rollout.from),
            waves: rollout.waves,
            alreadyDone: input.alreadyDone,
          }),
          'rollout started',
        );
        launch(rollout.id);
        return rollout;
      }
    },

    async act(id, action) {
      const before = await store.getRollout(id);
      if (before === undefined) return { ok: false, code: 'NOT_FOUND', reason: `no rollout ${id}` };
      if (action === 'rollback') return rollBack(before);
      const result = await mutate(id, { type: action });
      if (!result.ok) {
        return {
          ok: false,
          code: 'CONFLICT',
          reason: result.reason,
          ...(result.rollout === undefined ? {} : { rollout: result.rollout }),
        };
      }
      metrics.rollouts.inc({ state: result.rollout.state });
      logger.warn(
        fields(result.rollout, { action }),
        `rollout ${action === 'abort' ? 'aborted' : 'resumed'} by an operator`,
      );
      if (action === 'abort') drivers.get(id)?.calls.abort();
      else launch(id);
      return { ok: true, rollout: result.rollout };
    },

    async activate() {
      if (active) return;
      active = true;
      stopAll = createSharedAbortController();
      for (const r of await store.activeRollouts()) {
        if (r.state === 'running') launch(r.id);
      }
    },

    poke(id) {
      void store
        .getRollout(id)
        .then((r) => {
          const driver = drivers.get(id);
          if (r === undefined) return;
          if (driver !== undefined) {
            // Aborted or rolled back elsewhere: its in-flight calls end now, as they would here.
            if (r.state !== 'running') driver.calls.abort();
            driver.wake();
            return;
          }
          if (r.state === 'running') launch(id);
        })
        .catch((error: unknown) => logger.warn({ rollout: id, err: error }, 'rollout not re-read'));
    },

    async adoptRunning() {
      if (!active) return;
      for (const r of await store.activeRollouts()) {
        if (r.state === 'running' && !drivers.has(r.id)) launch(r.id);
      }
    },

    async deactivate(signal) {
      active = false;
      for (const driver of drivers.values()) driver.wake();
      if (signal === undefined || signal.aborted) stopAll.abort();
      else signal.addEventListener('abort', () => stopAll.abort(), { once: true });
      await Promise.allSettled([...drivers.values()].map((driver) => driver.promise));
    },
  };

  /** A newer epoch exists downstream: stop every driver and abort their calls at once. */
  function stopActing(): void {
    active = false;
    for (const driver of drivers.values()) driver.wake();
    stopAll.abort();
  }

  async function rollBack(r: Rollout): Promise<ActionResult> {
    if (r.from === null) {
      return {
        ok: false,
        code: 'CONFLICT',
        reason: `rollout ${r.id} has no previous digest to roll back to`,
        rollout: r,
      };
    }
    const back = createRollout(
      {
        id: rolloutId(r.runtime, r.from, Date.now() + Math.floor(random() * 1000)),
        runtime: r.runtime,
        reference: r.reference,
        from: r.to,
        to: r.from,
        waves: r.waves,
        // Only the hosts that got `to` go back.
        alreadyDone: new Set(
          r.hosts.map((h) => h.name).filter((name) => !hostsDone(r).includes(name)),
        ),
        kind: 'rollback',
        rollbackOf: r.id,
      },
      now(),
    );
    const result = await mutate(r.id, { type: 'roll-back', by: back.id }, { create: [back] });
    if (!result.ok) {
      return {
        ok: false,
        code: 'CONFLICT',
        reason: result.reason,
        ...(result.rollout === undefined ? {} : { rollout: result.rollout }),
      };
    }
    drivers.get(r.id)?.calls.abort();
    metrics.rollouts.inc({ state: 'rolled_back' });
    metrics.rollouts.inc({ state: 'running' });
    logger.warn(
      fields(result.rollout, { rollback: back.id, backTo: shortDigest(back.to) }),
      'rollout rolled back by an operator',
    );
    launch(back.id);
    return { ok: true, rollout: result.rollout, created: back };
  }
}
