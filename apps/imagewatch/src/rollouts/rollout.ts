/**
 * A rollout: one move of one runtime to one digest, over every host, in waves (SPEC
 * "Rollouts across hosts"). Plain data, persisted as it is by the stores; how it changes is
 * transitions.ts.
 */
import type { Runtime } from '@molecule/registry';

export const ROLLOUT_STATES = [
  'running',
  'halted',
  'done',
  'aborted',
  'superseded',
  'rolled_back',
] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export const HOST_STATES = ['pending', 'running', 'done', 'failed'] as const;
export type HostState = (typeof HOST_STATES)[number];

/** States after which nothing more is refreshed for the rollout. */
export const FINAL_STATES: ReadonlySet<RolloutState> = new Set([
  'done',
  'aborted',
  'superseded',
  'rolled_back',
]);

export interface HostProgress {
  readonly name: string;
  readonly state: HostState;
  /** Refresh calls made to this host for this rollout (a retry adds one). */
  readonly attempts: number;
  readonly error?: string;
  readonly updated_at: string;
}

export interface Rollout {
  /** `r-<runtime>-<short digest>-<n>`, unique and readable in logs. */
  readonly id: string;
  readonly runtime: Runtime;
  /** The runtime's `:latest` reference on the configured registry. */
  readonly reference: string;
  /** The digest the hosts ran before, when known. */
  readonly from: string | null;
  readonly to: string;
  readonly state: RolloutState;
  /** Host names per wave, in configured order. */
  readonly waves: readonly (readonly string[])[];
  readonly hosts: readonly HostProgress[];
  /** Index into `waves` of the wave being worked on (or, while soaking, the next one). */
  readonly wave: number;
  /** While soaking after a done wave: when the next wave may start (ISO time). */
  readonly soak_until: string | null;
  /** `rollout` for a digest move, `rollback` for a rollback's new rollout. */
  readonly kind: 'rollout' | 'rollback';
  /** The rollout this one rolls back, or the rollout that rolled this one back / superseded it. */
  readonly rollback_of: string | null;
  readonly replaced_by: string | null;
  readonly created_at: string;
  readonly updated_at: string;
  /** Bumped by every change; stores update only the version they read (compare and set). */
  readonly version: number;
}

export interface NewRollout {
  readonly id: string;
  readonly runtime: Runtime;
  readonly reference: string;
  readonly from: string | null;
  readonly to: string;
  readonly waves: readonly (readonly string[])[];
  /** Hosts that already run `to` (first sight): done from the start. */
  readonly alreadyDone?: ReadonlySet<string>;
  readonly kind?: Rollout['kind'];
  readonly rollbackOf?: string;
}

export function createRollout(input: NewRollout, now: Date): Rollout {
  const at = now.toISOString();
  const hosts = input.waves.flat().map(
    (name): HostProgress => ({
      name,
      state: input.alreadyDone?.has(name) ? 'done' : 'pending',
      attempts: 0,
      updated_at: at,
    }),
  );
  const rollout: Rollout = {
    id: input.id,
    runtime: input.runtime,
    reference: input.reference,
    from: input.from,
    to: input.to,
    state: 'running',
    waves: input.waves.map((wave) => [...wave]),
    hosts,
    wave: 0,
    soak_until: null,
    kind: input.kind ?? 'rollout',
    rollback_of: input.rollbackOf ?? null,
    replaced_by: null,
    created_at: at,
    updated_at: at,
    version: 0,
  };
  return rollout;
}

/** `r-langgraph-0123456789ab-<n>`: readable, and unique with the sequence number. */
export function rolloutId(runtime: string, digest: string, sequence: number): string {
  const hex = digest.split(':')[1] ?? digest;
  return `r-${runtime}-${hex.slice(0, 12)}-${sequence}`;
}

export function hostOf(rollout: Rollout, name: string): HostProgress | undefined {
  return rollout.hosts.find((host) => host.name === name);
}

/** The hosts of the wave being worked on. */
export function currentWaveHosts(rollout: Rollout): HostProgress[] {
  const names = new Set(rollout.waves[rollout.wave] ?? []);
  return rollout.hosts.filter((host) => names.has(host.name));
}

/** The hosts that got `to` (done), for a rollback. */
export function hostsDone(rollout: Rollout): string[] {
  return rollout.hosts.filter((host) => host.state === 'done').map((host) => host.name);
}
