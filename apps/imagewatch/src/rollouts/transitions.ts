/**
 * The rollout state machine: pure. `applyRolloutEvent(rollout, event, context)` is the only
 * way a rollout changes; an event that its state does not allow is refused (the API answers
 * 409 with it), never half applied.
 *
 *   running ──wave settled, all done, more waves──▶ running (soak, next wave)
 *   running ──wave settled, all done, last wave───▶ done
 *   running ──wave settled, a host failed─────────▶ halted ──resume──▶ running
 *   running | halted ──abort─────▶ aborted
 *   running | halted ──supersede─▶ superseded   (a newer digest; the runner waits for the wave)
 *   running | halted | done | aborted ──roll back──▶ rolled_back  (a new rollout of `from`)
 *
 * Hosts: pending ──start──▶ running ──succeed──▶ done
 *                                    └─fail────▶ failed ──start (retry, resume)──▶ running
 */
import {
  FINAL_STATES,
  type HostProgress,
  type HostState,
  type Rollout,
  type RolloutState,
} from './rollout.js';

export type RolloutEvent =
  | { readonly type: 'host-started'; readonly host: string }
  | { readonly type: 'host-succeeded'; readonly host: string }
  | { readonly type: 'host-failed'; readonly host: string; readonly error: string }
  | { readonly type: 'wave-settled' }
  | { readonly type: 'soak-over' }
  | { readonly type: 'resume' }
  | { readonly type: 'abort' }
  | { readonly type: 'supersede'; readonly by: string }
  | { readonly type: 'roll-back'; readonly by: string };

export type RolloutEventType = RolloutEvent['type'];

export interface TransitionContext {
  readonly now: Date;
  /** `IMAGE_WATCH_ROLLOUT_SOAK`: the wait after a done wave. */
  readonly soakMs: number;
}

export type TransitionResult =
  | { readonly ok: true; readonly rollout: Rollout }
  | { readonly ok: false; readonly reason: string };

/** Which rollout states each event is allowed in. */
export const ALLOWED_IN: Readonly<Record<RolloutEventType, ReadonlySet<RolloutState>>> = {
  'host-started': new Set(['running']),
  'host-succeeded': new Set(['running']),
  'host-failed': new Set(['running']),
  'wave-settled': new Set(['running']),
  'soak-over': new Set(['running']),
  resume: new Set(['halted']),
  abort: new Set(['running', 'halted']),
  supersede: new Set(['running', 'halted']),
  'roll-back': new Set(['running', 'halted', 'done', 'aborted']),
};

/** Which host states each host event is allowed in. */
const HOST_ALLOWED_IN: Readonly<
  Record<'host-started' | 'host-succeeded' | 'host-failed', ReadonlySet<HostState>>
> = {
  'host-started': new Set(['pending', 'failed']),
  'host-succeeded': new Set(['running']),
  'host-failed': new Set(['running']),
};

export function applyRolloutEvent(
  rollout: Rollout,
  event: RolloutEvent,
  context: TransitionContext,
): TransitionResult {
  if (!ALLOWED_IN[event.type].has(rollout.state)) {
    return refuse(`cannot ${describe(event)} a rollout that is ${rollout.state}`);
  }
  const at = context.now.toISOString();
  const changed = (patch: Partial<Rollout>): TransitionResult => ({
    ok: true,
    rollout: { ...rollout, ...patch, updated_at: at, version: rollout.version + 1 },
  });

  switch (event.type) {
    case 'host-started':
    case 'host-succeeded':
    case 'host-failed': {
      const host = rollout.hosts.find((h) => h.name === event.host);
      if (host === undefined) return refuse(`host ${event.host} is not part of this rollout`);
      if (!HOST_ALLOWED_IN[event.type].has(host.state)) {
        return refuse(`cannot ${describe(event)}: it is ${host.state}`);
      }
      if (
        event.type === 'host-started' &&
        !(rollout.waves[rollout.wave] ?? []).includes(host.name)
      ) {
        return refuse(`host ${host.name} is not in the current wave`);
      }
      if (event.type === 'host-started' && rollout.soak_until !== null) {
        return refuse('the previous wave is still soaking');
      }
      const next: HostProgress =
        event.type === 'host-started'
          ? { name: host.name, state: 'running', attempts: host.attempts + 1, updated_at: at }
          : event.type === 'host-succeeded'
            ? { name: host.name, state: 'done', attempts: host.attempts, updated_at: at }
            : {
                name: host.name,
                state: 'failed',
                attempts: host.attempts,
                error: event.error,
                updated_at: at,
              };
      return changed({ hosts: rollout.hosts.map((h) => (h.name === host.name ? next : h)) });
    }
    case 'wave-settled': {
      const wave = new Set(rollout.waves[rollout.wave] ?? []);
      const hosts = rollout.hosts.filter((h) => wave.has(h.name));
      const open = hosts.filter((h) => h.state === 'pending' || h.state === 'running');
      if (open.length > 0) {
        return refuse(
          `wave ${rollout.wave + 1} is not settled: ${open.map((h) => h.name).join(', ')}`,
        );
      }
      if (hosts.some((h) => h.state === 'failed')) return changed({ state: 'halted' });
      if (rollout.wave >= rollout.waves.length - 1) return changed({ state: 'done' });
      return changed({
        wave: rollout.wave + 1,
        soak_until:
          context.soakMs > 0
            ? new Date(context.now.getTime() + context.soakMs).toISOString()
            : null,
      });
    }
    case 'soak-over':
      if (rollout.soak_until === null) return refuse('the rollout is not soaking');
      return changed({ soak_until: null });
    case 'resume':
      // The failed hosts are asked again, with their retries.
      return changed({
        state: 'running',
        hosts: rollout.hosts.map((h) =>
          h.state === 'failed'
            ? { name: h.name, state: 'pending', attempts: 0, updated_at: at }
            : h,
        ),
      });
    case 'abort':
      return changed({ state: 'aborted', hosts: settleRunning(rollout.hosts, 'aborted', at) });
    case 'supersede':
      return changed({
        state: 'superseded',
        replaced_by: event.by,
        hosts: settleRunning(rollout.hosts, 'superseded by a newer digest', at),
      });
    case 'roll-back':
      return changed({
        state: 'rolled_back',
        replaced_by: event.by,
        hosts: settleRunning(rollout.hosts, 'rolled back', at),
      });
  }
}

/** True when nothing more is refreshed for this rollout. */
export function isFinal(rollout: Rollout): boolean {
  return FINAL_STATES.has(rollout.state);
}

/** Hosts in flight when the rollout stops are failed with `reason` (their call was aborted). */
function settleRunning(hosts: readonly HostProgress[], reason: string, at: string): HostProgress[] {
  return hosts.map((h) =>
    h.state === 'running'
      ? { name: h.name, state: 'failed', attempts: h.attempts, error: reason, updated_at: at }
      : h,
  );
}

function refuse(reason: string): TransitionResult {
  return { ok: false, reason };
}

function describe(event: RolloutEvent): string {
  switch (event.type) {
    case 'host-started':
      return `start host ${event.host}`;
    case 'host-succeeded':
      return `mark host ${event.host} done`;
    case 'host-failed':
      return `mark host ${event.host} failed`;
    case 'wave-settled':
      return 'settle the wave of';
    case 'soak-over':
      return 'end the soak of';
    case 'resume':
      return 'resume';
    case 'abort':
      return 'abort';
    case 'supersede':
      return 'supersede';
    case 'roll-back':
      return 'roll back';
  }
}
