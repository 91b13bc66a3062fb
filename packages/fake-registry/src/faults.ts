import type { Fault, FaultMatch, RequestKind } from './types.js';

/** Where a fault takes effect: as the request arrives, or on the successful response. */
export type FaultPhase = 'arrival' | 'response';

interface Entry {
  readonly match: FaultMatch;
  readonly fault: Fault;
  readonly phase: FaultPhase;
  remaining: number;
}

export interface FaultTarget {
  readonly method: string;
  readonly kind: RequestKind;
  readonly path: string;
}

function phaseOf(fault: Fault): FaultPhase {
  if (fault.status !== undefined || fault.reset) return 'arrival';
  const changesResponse =
    fault.omitDigestHeader ||
    fault.wrongDigest ||
    fault.omitContentLength ||
    fault.oversizedBodyBytes !== undefined;
  return changesResponse ? 'response' : 'arrival';
}

function matches(match: FaultMatch, target: FaultTarget): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== target.method) return false;
  if (match.kind !== undefined && match.kind !== target.kind) return false;
  if (match.path === undefined) return true;
  if (typeof match.path === 'string') return match.path === target.path;
  match.path.lastIndex = 0;
  return match.path.test(target.path);
}

/** Faults in the order they were added; the first match with uses left applies. */
export class FaultTable {
  #entries: Entry[] = [];

  add(match: FaultMatch, fault: Fault): void {
    if (fault.times !== undefined && (!Number.isInteger(fault.times) || fault.times < 1)) {
      throw new TypeError(`fault times must be a positive integer, got ${fault.times}`);
    }
    if (fault.status !== undefined && (fault.status < 100 || fault.status > 599)) {
      throw new TypeError(`fault status must be an HTTP status, got ${fault.status}`);
    }
    this.#entries.push({
      match,
      fault,
      phase: phaseOf(fault),
      remaining: fault.times ?? Number.POSITIVE_INFINITY,
    });
  }

  clear(): void {
    this.#entries = [];
  }

  /** Uses up one application of the first fault of `phase` matching `target`. */
  take(phase: FaultPhase, target: FaultTarget): Fault | undefined {
    const entry = this.#entries.find(
      (candidate) =>
        candidate.phase === phase && candidate.remaining > 0 && matches(candidate.match, target),
    );
    if (!entry) return undefined;
    entry.remaining -= 1;
    return entry.fault;
  }
}
