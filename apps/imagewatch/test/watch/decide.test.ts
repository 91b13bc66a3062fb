import { describe, expect, it } from 'vitest';
import {
  type Decision,
  type DecisionInput,
  decide,
  digestToRecord,
  needsLocalLookup,
  shortDigest,
} from '../../src/watch/decide.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const resolved = (digest: string) => ({ kind: 'resolved', digest }) as const;
const failed = { kind: 'failed', code: 'NETWORK', message: 'connect ECONNREFUSED' } as const;
const notAsked = { kind: 'not-asked' } as const;

interface Row {
  name: string;
  input: DecisionInput;
  expected: Decision;
  /** What ends up in the state file when a refresh succeeds / fails. */
  recordOnSuccess: string | undefined;
  recordOnFailure: string | undefined;
}

const rows: Row[] = [
  {
    name: 'seed: first sight, host has no such image',
    input: { seen: undefined, remote: resolved(A), local: { kind: 'absent' }, autoRefresh: true },
    expected: { action: 'seed', digest: A },
    recordOnSuccess: A,
    recordOnFailure: A,
  },
  {
    name: 'seed: first sight, host already runs the remote digest',
    input: {
      seen: undefined,
      remote: resolved(A),
      local: { kind: 'present', digest: A },
      autoRefresh: true,
    },
    expected: { action: 'seed', digest: A },
    recordOnSuccess: A,
    recordOnFailure: A,
  },
  {
    name: 'unchanged',
    input: { seen: A, remote: resolved(A), local: notAsked, autoRefresh: true },
    expected: { action: 'unchanged', digest: A },
    recordOnSuccess: A,
    recordOnFailure: A,
  },
  {
    name: 'moved: refresh, record only after success',
    input: { seen: A, remote: resolved(B), local: notAsked, autoRefresh: true },
    expected: { action: 'refresh', reason: 'moved', from: A, to: B },
    recordOnSuccess: B,
    recordOnFailure: undefined,
  },
  {
    name: 'refresh failed: the old digest stays (nothing recorded) so the next tick retries',
    input: { seen: A, remote: resolved(B), local: notAsked, autoRefresh: true },
    expected: { action: 'refresh', reason: 'moved', from: A, to: B },
    recordOnSuccess: B,
    recordOnFailure: undefined,
  },
  {
    name: 'fetch failed: retry next tick, state untouched',
    input: { seen: A, remote: failed, local: notAsked, autoRefresh: true },
    expected: { action: 'retry', reason: 'fetch-failed', message: 'NETWORK: connect ECONNREFUSED' },
    recordOnSuccess: undefined,
    recordOnFailure: undefined,
  },
  {
    name: 'fetch failed on first sight: nothing seeded',
    input: { seen: undefined, remote: failed, local: notAsked, autoRefresh: false },
    expected: { action: 'retry', reason: 'fetch-failed', message: 'NETWORK: connect ECONNREFUSED' },
    recordOnSuccess: undefined,
    recordOnFailure: undefined,
  },
  {
    name: 'monitor-only: a move is reported and the seen digest advances',
    input: { seen: A, remote: resolved(B), local: notAsked, autoRefresh: false },
    expected: { action: 'report', reason: 'moved', from: A, to: B },
    recordOnSuccess: B,
    recordOnFailure: B,
  },
  {
    name: 'local digest differs on first sight: refresh',
    input: {
      seen: undefined,
      remote: resolved(B),
      local: { kind: 'present', digest: A },
      autoRefresh: true,
    },
    expected: { action: 'refresh', reason: 'local-differs', from: A, to: B },
    recordOnSuccess: B,
    recordOnFailure: undefined,
  },
  {
    name: 'local image without a repo digest on first sight: refresh',
    input: {
      seen: undefined,
      remote: resolved(B),
      local: { kind: 'present', digest: undefined },
      autoRefresh: true,
    },
    expected: { action: 'refresh', reason: 'local-differs', from: undefined, to: B },
    recordOnSuccess: B,
    recordOnFailure: undefined,
  },
  {
    name: 'local digest differs on first sight, monitor-only: report and record',
    input: {
      seen: undefined,
      remote: resolved(B),
      local: { kind: 'present', digest: A },
      autoRefresh: false,
    },
    expected: { action: 'report', reason: 'local-differs', from: A, to: B },
    recordOnSuccess: B,
    recordOnFailure: B,
  },
  {
    name: 'first sight, admin-api unreachable, auto-refresh: do not seed (an update could be lost)',
    input: {
      seen: undefined,
      remote: resolved(B),
      local: { kind: 'unavailable', message: 'ECONNREFUSED' },
      autoRefresh: true,
    },
    expected: { action: 'retry', reason: 'local-unknown', message: 'ECONNREFUSED' },
    recordOnSuccess: undefined,
    recordOnFailure: undefined,
  },
  {
    name: 'first sight, admin-api unreachable, monitor-only: seed',
    input: {
      seen: undefined,
      remote: resolved(B),
      local: { kind: 'unavailable', message: 'ECONNREFUSED' },
      autoRefresh: false,
    },
    expected: { action: 'seed', digest: B },
    recordOnSuccess: B,
    recordOnFailure: B,
  },
  {
    // The state is keyed by the full reference: after MOLECULE_IMAGE_REGISTRY changes, the new
    // reference has no seen digest even though the old one had A, so this is a first sight.
    name: 'registry switched: first sight of the new reference seeds, never "moved"',
    input: { seen: undefined, remote: resolved(B), local: { kind: 'absent' }, autoRefresh: true },
    expected: { action: 'seed', digest: B },
    recordOnSuccess: B,
    recordOnFailure: B,
  },
];

describe('decide', () => {
  it.each(rows)('$name', ({ input, expected, recordOnSuccess, recordOnFailure }) => {
    const decision = decide(input);
    expect(decision).toEqual(expected);
    expect(digestToRecord(decision, true)).toBe(recordOnSuccess);
    expect(digestToRecord(decision, false)).toBe(recordOnFailure);
  });

  it('asks for the local image only on a resolved first sight', () => {
    expect(needsLocalLookup(undefined, resolved(A))).toBe(true);
    expect(needsLocalLookup(A, resolved(A))).toBe(false);
    expect(needsLocalLookup(undefined, failed)).toBe(false);
  });

  it('shortens digests to 12 hex characters', () => {
    expect(shortDigest(A)).toBe('sha256:aaaaaaaaaaaa');
    expect(shortDigest(undefined)).toBe('none');
  });
});
