/**
 * Where one side's time went, from the engine calls it made (see engine-trace.ts): each phase's
 * window and busy time, each container's stop and remove, and how long no engine call was in
 * flight at all (client-side work: CLI start-up, bookkeeping, anything serial between calls).
 */
import { type CallKind, callContainer, callKind, type EngineCall } from './engine-trace.js';

export interface PhaseTiming {
  readonly calls: number;
  /** ms from the side's start to the phase's first call and to the end of its last. */
  readonly from_ms: number;
  readonly to_ms: number;
  /** Sum of the calls' durations (more than the window when calls overlap). */
  readonly busy_ms: number;
  readonly max_ms: number;
}

export interface SideReport {
  readonly engine_calls: number;
  readonly client_connections: number;
  readonly phases: Partial<Record<CallKind, PhaseTiming>>;
  /** Time at least one engine call was in flight, and the rest of the side's wall time. */
  readonly engine_in_flight_ms: number;
  readonly nothing_in_flight_ms: number;
  /** Per container: `stop <ms> + rm <ms>, done at <ms>` (ms from the side's start). */
  readonly containers: Record<string, string>;
  readonly stop_ms: Spread | undefined;
  readonly remove_ms: Spread | undefined;
}

export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

const round = (value: number): number => Math.round(value);

function spread(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: round(sorted[0] as number),
    median: round(sorted[Math.floor(sorted.length / 2)] as number),
    max: round(sorted.at(-1) as number),
  };
}

/** Length of the union of [start, end) intervals. */
function unionLength(calls: readonly EngineCall[]): number {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  let total = 0;
  let open = Number.NEGATIVE_INFINITY;
  let close = Number.NEGATIVE_INFINITY;
  for (const call of sorted) {
    if (call.start > close) {
      if (close > open) total += close - open;
      open = call.start;
      close = call.end;
    } else close = Math.max(close, call.end);
  }
  if (close > open) total += close - open;
  return total;
}

/**
 * `origin`: performance.now() at the side's start; `wallMs`: its whole duration;
 * `nameOf`: a container name for the id, short id or name a call addresses.
 */
export function reportSide(
  calls: readonly EngineCall[],
  connections: number,
  origin: number,
  wallMs: number,
  nameOf: (ref: string) => string | undefined,
): SideReport {
  const phases: Partial<Record<CallKind, PhaseTiming>> = {};
  const byKind = new Map<CallKind, EngineCall[]>();
  for (const call of calls) {
    const kind = callKind(call);
    byKind.set(kind, [...(byKind.get(kind) ?? []), call]);
  }
  for (const [kind, group] of byKind) {
    phases[kind] = {
      calls: group.length,
      from_ms: round(Math.min(...group.map((c) => c.start)) - origin),
      to_ms: round(Math.max(...group.map((c) => c.end)) - origin),
      busy_ms: round(group.reduce((sum, c) => sum + (c.end - c.start), 0)),
      max_ms: round(Math.max(...group.map((c) => c.end - c.start))),
    };
  }

  const perContainer = new Map<string, { stop?: number; remove?: number; done: number }>();
  for (const call of calls) {
    const kind = callKind(call);
    if (kind !== 'stop' && kind !== 'remove') continue;
    const ref = callContainer(call) ?? '?';
    const name = nameOf(decodeURIComponent(ref)) ?? ref;
    const entry = perContainer.get(name) ?? { done: 0 };
    entry[kind === 'stop' ? 'stop' : 'remove'] = call.end - call.start;
    entry.done = Math.max(entry.done, call.end - origin);
    perContainer.set(name, entry);
  }
  const containers: Record<string, string> = {};
  for (const [name, entry] of [...perContainer].sort((a, b) => a[1].done - b[1].done)) {
    const stop = entry.stop === undefined ? '' : `stop ${round(entry.stop)} + `;
    containers[name] = `${stop}rm ${round(entry.remove ?? 0)}, done at ${round(entry.done)}`;
  }

  const inFlight = unionLength(calls);
  return {
    engine_calls: calls.length,
    client_connections: connections,
    phases,
    engine_in_flight_ms: round(inFlight),
    nothing_in_flight_ms: round(wallMs - inFlight),
    containers,
    stop_ms: spread((byKind.get('stop') ?? []).map((c) => c.end - c.start)),
    remove_ms: spread((byKind.get('remove') ?? []).map((c) => c.end - c.start)),
  };
}
