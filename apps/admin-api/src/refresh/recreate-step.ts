/**
 * The recreate step of a refresh, one runtime at a time: as soon as a runtime's pull is
 * verified, list the `ws-*` containers (workspace-index.ts), and stop and remove those of that
 * runtime not yet on its new image, so the platform re-provisions them, while other runtimes
 * still pull. Stops are bounded across the whole refresh. Once shutdown cancels the refresh,
 * no further container is touched.
 */
import type { Runtime } from '@molecule/registry';
import { createLimiter, type Logger } from '@molecule/service-kit';
import type Docker from 'dockerode';
import { stopAndRemove } from '../engine/containers.js';
import { describeEngineError, isEngineUnreachable } from '../engine/engine-errors.js';
import type { Metrics } from '../metrics.js';
import type { EmitRefreshEvent } from './events.js';
import { planRecreate, type RecreateTarget } from './recreate-plan.js';
import type { ListFailure, RefreshError, RefreshResult } from './result.js';
import { createWorkspaceIndex } from './workspace-index.js';

export interface RecreateStepOptions {
  readonly docker: Docker;
  /** Seconds a container gets to stop before it is killed, for this removal. */
  readonly stopGraceSeconds: () => number;
  /** How many containers are stopped at once, across runtimes (each may take the grace period). */
  readonly stopConcurrency: number;
  /** How many containers are inspected at once, across runtimes. */
  readonly inspectConcurrency: number;
  /** Aborted when shutdown cancels the refresh: containers not yet stopped are kept. */
  readonly signal: AbortSignal;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly emit: EmitRefreshEvent;
}

export interface RecreateStepResult extends Pick<RefreshResult, 'recreated' | 'unchanged'> {
  readonly errors: RefreshError[];
  /** The first failed listing: the refresh as a whole then failed. */
  readonly listFailure: ListFailure | undefined;
}

export interface RecreateStep {
  /** Start on `runtime`, whose pull was verified: the engine has it as `imageId`. */
  start(runtime: Runtime, imageId: string): void;
  /** Once every start was made: waits for them all; arrays sorted. */
  finish(): Promise<RecreateStepResult>;
}

/** One per refresh: the inspects it caches and the bounds it keeps span all its runtimes. */
export function createRecreateStep(options: RecreateStepOptions): RecreateStep {
  const { docker, metrics, logger, emit } = options;
  const index = createWorkspaceIndex({ docker, inspectConcurrency: options.inspectConcurrency });
  const stopLimit = createLimiter(options.stopConcurrency);
  const recreated: string[] = [];
  const unchanged: string[] = [];
  const errors: RefreshError[] = [];
  const started: Promise<void>[] = [];
  let listFailure: ListFailure | undefined;

  const containerFailed = (error: RefreshError & { container: string }) => {
    errors.push(error);
    emit({
      event: 'container-failed',
      container: error.container,
      stage: error.stage,
      error: error.message,
    });
  };

  async function remove(target: RecreateTarget): Promise<void> {
    if (options.signal.aborted) {
      containerFailed({
        stage: 'stop',
        container: target.name,
        runtime: target.runtime,
        code: 'SHUTTING_DOWN',
        message: 'not removed: the service is shutting down (the next refresh removes it)',
      });
      return;
    }
    const outcome = await stopAndRemove(docker, target, options.stopGraceSeconds());
    if (!outcome.ok) {
      containerFailed({
        stage: outcome.stage,
        container: target.name,
        runtime: target.runtime,
        code: 'ENGINE_ERROR',
        message: outcome.message,
      });
      logger.warn(
        { container: target.name, runtime: target.runtime, err: outcome.message },
        'recreate failed',
      );
      return;
    }
    if (outcome.gone) return;
    recreated.push(target.name);
    metrics.containersRecreated.inc({ runtime: target.runtime });
    emit({ event: 'container-removed', container: target.name, runtime: target.runtime });
    logger.info(
      { container: target.name, runtime: target.runtime },
      'container removed for re-provisioning',
    );
  }

  async function recreateRuntime(runtime: Runtime, imageId: string): Promise<void> {
    const listing = await index.list();
    if (!listing.ok) {
      const message = `listing ws-* containers failed: ${describeEngineError(listing.error)}`;
      const unreachable = isEngineUnreachable(listing.error);
      listFailure ??= { error: message, unreachable };
      const code = unreachable ? 'ENGINE_UNAVAILABLE' : 'ENGINE_ERROR';
      errors.push({ stage: 'list', runtime, code, message });
      return;
    }
    for (const failure of listing.inspectFailures) {
      const { container, message } = failure;
      containerFailed({ stage: 'inspect', container, code: 'ENGINE_ERROR', message });
    }
    const plan = planRecreate(listing.containers, new Map([[runtime, imageId]]));
    unchanged.push(...plan.current);
    await Promise.all(plan.targets.map((target) => stopLimit(() => remove(target))));
  }

  return {
    start(runtime, imageId) {
      started.push(recreateRuntime(runtime, imageId));
    },
    async finish() {
      await Promise.all(started);
      recreated.sort();
      unchanged.sort();
      return { recreated, unchanged, errors, listFailure };
    },
  };
}
