/**
 * The rollouts API on `IMAGE_WATCH_PORT` (SPEC "Rollouts across hosts"), behind
 * `Authorization: Bearer <MOLECULE_ADMIN_TOKEN>`:
 *
 *   GET  /rollouts                  newest first; ?runtime=&state=&limit=
 *   GET  /rollouts/<id>
 *   POST /rollouts/<id>/resume      a halted rollout retries its failed hosts and goes on
 *   POST /rollouts/<id>/abort       stops; nothing more is refreshed
 *   POST /rollouts/<id>/rollback    a new rollout of `from` to the hosts that got `to`
 *
 * A state that does not allow the action answers 409 `ROLLOUT_STATE` with the current state.
 */
import { isKnownRuntime } from '@molecule/registry';
import { bearerAuthHook } from '@molecule/service-kit';
import type { FastifyPluginAsync } from 'fastify';
import { ImagewatchError } from '../errors.js';
import type { RolloutAction, RolloutEngine } from '../rollouts/engine.js';
import { ROLLOUT_STATES, type RolloutState } from '../rollouts/rollout.js';
import type { WatchStore } from '../store/watch-store.js';

export interface RolloutsRouteOptions {
  readonly adminToken: string;
  readonly store: Pick<WatchStore, 'getRollout' | 'listRollouts'>;
  readonly engine: Pick<RolloutEngine, 'act'>;
  /**
   * A rollout was changed or created by an action here: tell the replica that drives it. A
   * failure to tell is not the action's: the leader's next tick adopts it anyway.
   */
  readonly onChanged?: (id: string) => Promise<void>;
}

interface ListQuery {
  runtime?: string;
  state?: string;
  limit?: string;
}

const ACTIONS: readonly RolloutAction[] = ['resume', 'abort', 'rollback'];

export const rolloutsRoute: FastifyPluginAsync<RolloutsRouteOptions> = async (app, options) => {
  const { store, engine } = options;
  app.addHook('onRequest', bearerAuthHook(options.adminToken, 'imagewatch'));

  app.get<{ Querystring: ListQuery }>('/rollouts', async (request) => {
    const { runtime, state, limit } = request.query;
    if (runtime !== undefined && runtime !== '' && !isKnownRuntime(runtime)) {
      throw new ImagewatchError('BAD_REQUEST', `unknown runtime: ${runtime.slice(0, 64)}`);
    }
    if (state !== undefined && state !== '' && !ROLLOUT_STATES.includes(state as RolloutState)) {
      throw new ImagewatchError(
        'BAD_REQUEST',
        `unknown state: ${state.slice(0, 64)}; one of ${ROLLOUT_STATES.join(', ')}`,
      );
    }
    let max: number | undefined;
    if (limit !== undefined && limit !== '') {
      max = Number(limit);
      if (!/^\d+$/.test(limit) || max < 1 || max > 1000) {
        throw new ImagewatchError('BAD_REQUEST', 'limit must be a whole number from 1 to 1000');
      }
    }
    return store.listRollouts({
      ...(runtime ? { runtime } : {}),
      ...(state ? { state: state as RolloutState } : {}),
      ...(max === undefined ? {} : { limit: max }),
    });
  });

  app.get<{ Params: { id: string } }>('/rollouts/:id', async (request) => {
    const rollout = await store.getRollout(request.params.id);
    if (rollout === undefined) {
      throw new ImagewatchError('NOT_FOUND', `no rollout ${request.params.id.slice(0, 100)}`);
    }
    return rollout;
  });

  app.post<{ Params: { id: string; action: string } }>('/rollouts/:id/:action', async (request) => {
    const action = request.params.action as RolloutAction;
    if (!ACTIONS.includes(action)) {
      throw new ImagewatchError(
        'NOT_FOUND',
        `no action ${request.params.action.slice(0, 40)}; one of ${ACTIONS.join(', ')}`,
      );
    }
    const result = await engine.act(request.params.id, action);
    if (!result.ok) {
      throw new ImagewatchError(
        result.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'ROLLOUT_STATE',
        result.reason,
        result.rollout === undefined ? {} : { details: { state: result.rollout.state } },
      );
    }
    const changed = [
      result.rollout.id,
      ...(result.created === undefined ? [] : [result.created.id]),
    ];
    await Promise.all(changed.map((id) => options.onChanged?.(id).catch(() => undefined)));
    return result.created === undefined
      ? result.rollout
      : { ...result.rollout, rollback: result.created };
  });
};
