import type { Runtime } from '@molecule/registry';
import type Docker from 'dockerode';
import { describeEngineError, isEngineUnreachable } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { mapLimit } from './limit.js';
import type { Logger } from './logger.js';
import { listWorkspaceContainers, planRecreate, stopAndRemove } from './recreate.js';
import type { EmitRefreshEvent } from './refresh-events.js';
import type { ListFailure, RefreshError, RefreshResult } from './refresh-result.js';

export interface RecreatePhaseOptions {
  readonly docker: Docker;
  readonly stopGraceSeconds: number;
  /** How many containers are stopped at once (each may take the whole grace period). */
  readonly stopConcurrency: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly emit: EmitRefreshEvent;
}

export interface RecreatePhaseResult extends Pick<RefreshResult, 'recreated' | 'unchanged'> {
  readonly errors: RefreshError[];
  /** Set when listing the containers failed: the refresh as a whole then failed. */
  readonly listFailure: ListFailure | undefined;
}

/**
 * Stop and remove the ws-* containers of the pulled runtimes that are not yet on the new
 * image, so the platform re-provisions them. `pulledIds` holds each pulled runtime's image id.
 */
export async function runRecreatePhase(
  pulledIds: ReadonlyMap<Runtime, string>,
  options: RecreatePhaseOptions,
): Promise<RecreatePhaseResult> {
  const { docker, metrics, logger, emit } = options;
  const recreated: string[] = [];
  const unchanged: string[] = [];
  const errors: RefreshError[] = [];
  try {
    const containers = await listWorkspaceContainers(docker);
    const plan = await planRecreate(docker, containers, pulledIds);
    unchanged.push(...plan.current);
    for (const issue of plan.issues) {
      errors.push({ ...issue, code: 'ENGINE_ERROR' });
      emit({
        event: 'container-failed',
        container: issue.container,
        stage: issue.stage,
        error: issue.message,
      });
    }
    await mapLimit(plan.targets, options.stopConcurrency, async (target) => {
      const outcome = await stopAndRemove(docker, target, options.stopGraceSeconds);
      if (!outcome.ok) {
        errors.push({ ...outcome.issue, code: 'ENGINE_ERROR' });
        emit({
          event: 'container-failed',
          container: target.name,
          stage: outcome.issue.stage,
          error: outcome.issue.message,
        });
        logger.warn(
          { container: target.name, runtime: target.runtime, err: outcome.issue.message },
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
    return { recreated, unchanged, errors, listFailure: undefined };
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
}
