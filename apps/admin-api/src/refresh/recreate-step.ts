/**
 * The recreate step of a refresh: list the `ws-*` containers, inspect those whose listing
 * does not say what they were created from, and stop and remove those of the pulled runtimes
 * that are not yet on the new image, so the platform re-provisions them. Once shutdown
 * cancels the refresh, no further container is touched.
 */
import type { Runtime } from '@molecule/registry';
import { type Logger, mapLimit } from '@molecule/service-kit';
import type Docker from 'dockerode';
import {
  type InspectedContainer,
  inspectContainer,
  type ListedContainer,
  listWorkspaceContainers,
  resolveFromListing,
  stopAndRemove,
} from '../engine/containers.js';
import { describeEngineError, isEngineUnreachable } from '../engine/engine-errors.js';
import type { Metrics } from '../metrics.js';
import type { EmitRefreshEvent } from './events.js';
import { planRecreate } from './recreate-plan.js';
import type { ListFailure, RefreshError, RefreshResult } from './result.js';

export interface RecreateStepOptions {
  readonly docker: Docker;
  /** Seconds a container gets to stop before it is killed, for this removal. */
  readonly stopGraceSeconds: () => number;
  /** How many containers are stopped at once (each may take the whole grace period). */
  readonly stopConcurrency: number;
  /** How many containers are inspected at once. */
  readonly inspectConcurrency: number;
  /** Aborted when shutdown cancels the refresh: containers not yet stopped are kept. */
  readonly signal: AbortSignal;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly emit: EmitRefreshEvent;
}

export interface RecreateStepResult extends Pick<RefreshResult, 'recreated' | 'unchanged'> {
  readonly errors: RefreshError[];
  /** Set when listing the containers failed: the refresh as a whole then failed. */
  readonly listFailure: ListFailure | undefined;
}

/** `pulledIds`: the image id each pulled runtime now resolves to in the engine. */
export async function runRecreateStep(
  pulledIds: ReadonlyMap<Runtime, string>,
  options: RecreateStepOptions,
): Promise<RecreateStepResult> {
  const { docker, metrics, logger, emit } = options;
  const recreated: string[] = [];
  const unchanged: string[] = [];
  const errors: RefreshError[] = [];
  const containerFailed = (error: RefreshError & { container: string }) => {
    errors.push(error);
    emit({
      event: 'container-failed',
      container: error.container,
      stage: error.stage,
      error: error.message,
    });
  };

  let listed: ListedContainer[];
  try {
    listed = await listWorkspaceContainers(docker);
  } catch (error) {
    const message = `listing ws-* containers failed: ${describeEngineError(error)}`;
    const listFailure = { error: message, unreachable: isEngineUnreachable(error) };
    errors.push({
      stage: 'list',
      code: listFailure.unreachable ? 'ENGINE_UNAVAILABLE' : 'ENGINE_ERROR',
      message,
    });
    return { recreated, unchanged, errors, listFailure };
  }

  // The listing alone tells about a container whose tag has not moved; the others need an
  // inspect for the reference they were created from.
  const inspected: InspectedContainer[] = [];
  const unresolved: ListedContainer[] = [];
  for (const container of listed) {
    const resolved = resolveFromListing(container);
    if (resolved === undefined) unresolved.push(container);
    else inspected.push(resolved);
  }
  await mapLimit(unresolved, options.inspectConcurrency, async (container) => {
    const outcome = await inspectContainer(docker, container);
    if (outcome.kind === 'found') inspected.push(outcome.container);
    else if (outcome.kind === 'failed') {
      containerFailed({
        stage: 'inspect',
        container: container.name,
        code: 'ENGINE_ERROR',
        message: outcome.message,
      });
    }
  });
  const plan = planRecreate(inspected, pulledIds);
  unchanged.push(...plan.current);

  await mapLimit(plan.targets, options.stopConcurrency, async (target) => {
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
  });
  recreated.sort();
  unchanged.sort();
  return { recreated, unchanged, errors, listFailure: undefined };
}
