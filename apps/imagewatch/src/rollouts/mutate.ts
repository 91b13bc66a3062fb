/**
 * Applies a state-machine event to a stored rollout: read, apply, compare-and-set, again on a
 * version conflict (another writer — a host of the same wave, an operator's abort, another
 * replica's API — changed it meanwhile). Refusals are values, not errors.
 */
import type { WatchStore } from '../store/watch-store.js';
import type { Rollout } from './rollout.js';
import { applyRolloutEvent, type RolloutEvent, type TransitionContext } from './transitions.js';

export type MutateResult =
  | { readonly ok: true; readonly rollout: Rollout; readonly before: Rollout }
  | { readonly ok: false; readonly reason: string; readonly rollout: Rollout | undefined };

const MAX_CONFLICTS = 20;

export async function mutateRollout(
  store: Pick<WatchStore, 'getRollout' | 'commit'>,
  id: string,
  event: RolloutEvent,
  context: () => TransitionContext,
  extra: { create?: readonly Rollout[]; seen?: { image: string; digest: string } } = {},
): Promise<MutateResult> {
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
    const before = await store.getRollout(id);
    if (before === undefined) return { ok: false, reason: `no rollout ${id}`, rollout: undefined };
    const result = applyRolloutEvent(before, event, context());
    if (!result.ok) return { ok: false, reason: result.reason, rollout: before };
    if (await store.commit({ update: [result.rollout], ...extra })) {
      return { ok: true, rollout: result.rollout, before };
    }
  }
  return { ok: false, reason: `rollout ${id} kept changing under us`, rollout: undefined };
}
