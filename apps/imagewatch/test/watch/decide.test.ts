import { describe, expect, it } from 'vitest';
import {
  type Decision,
  type DecisionInput,
  decide,
  digestToRecord,
  type LocalObservation,
  needsLocalLookup,
  shortDigest,
} from '../../src/watch/decide.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;
const resolved = (digest: string) => ({ kind: 'resolved', digest }) as const;
const failed = { kind: 'failed', code: 'NETWORK', message: 'connect ECONNREFUSED' } as const;
const none = new Map<string, LocalObservation>();
const one = (local: LocalObservation) => new Map([['default', local]]);
const hosts = (entries: Record<string, LocalObservation>) => new Map(Object.entries(entries));
const present = (digest: string | undefined) => ({ kind: 'present', digest }) as const;
const absent = { kind: 'absent' } as const;
const unavailable = (message: string) => ({ kind: 'unavailable', message }) as const;

interface Row {
  name: string;
  input: DecisionInput;
  expected: Decision;
  /** What ends up recorded as seen. */
  record: string | undefined;
}

const rows: Row[] = [
  {
    name: 'seed: first sight, host has no such image',
    input: { seen: undefined, remote: resolved(A), locals: one(absent), autoRefresh: true },
    expected: { action: 'seed', digest: A },
    record: A,
  },
  {
    name: 'seed: first sight, host already runs the remote digest',
    input: { seen: undefined, remote: resolved(A), locals: one(present(A)), autoRefresh: true },
    expected: { action: 'seed', digest: A },
    record: A,
  },
  {
    name: 'unchanged',
    input: { seen: A, remote: resolved(A), locals: none, autoRefresh: true },
    expected: { action: 'unchanged', digest: A },
    record: A,
  },
  {
    name: 'moved: roll out to every host, recorded with the rollout',
    input: { seen: A, remote: resolved(B), locals: none, autoRefresh: true },
    expected: { action: 'rollout', reason: 'moved', from: A, to: B, alreadyDone: [] },
    record: B,
  },
  {
    name: 'fetch failed: retry next tick, state untouched',
    input: { seen: A, remote: failed, locals: none, autoRefresh: true },
    expected: { action: 'retry', reason: 'fetch-failed', message: 'NETWORK: connect ECONNREFUSED' },
    record: undefined,
  },
  {
    name: 'fetch failed on first sight: nothing seeded',
    input: { seen: undefined, remote: failed, locals: none, autoRefresh: false },
    expected: { action: 'retry', reason: 'fetch-failed', message: 'NETWORK: connect ECONNREFUSED' },
    record: undefined,
  },
  {
    name: 'monitor-only: a move is reported and the seen digest advances',
    input: { seen: A, remote: resolved(B), locals: none, autoRefresh: false },
    expected: { action: 'report', reason: 'moved', from: A, to: B },
    record: B,
  },
  {
    name: 'local digest differs on first sight: roll out',
    input: { seen: undefined, remote: resolved(B), locals: one(present(A)), autoRefresh: true },
    expected: { action: 'rollout', reason: 'local-differs', from: A, to: B, alreadyDone: [] },
    record: B,
  },
  {
    name: 'local image without a repo digest on first sight: roll out, from unknown',
    input: {
      seen: undefined,
      remote: resolved(B),
      locals: one(present(undefined)),
      autoRefresh: true,
    },
    expected: {
      action: 'rollout',
      reason: 'local-differs',
      from: undefined,
      to: B,
      alreadyDone: [],
    },
    record: B,
  },
  {
    name: 'local digest differs on first sight, monitor-only: report and record',
    input: { seen: undefined, remote: resolved(B), locals: one(present(A)), autoRefresh: false },
    expected: { action: 'report', reason: 'local-differs', from: A, to: B },
    record: B,
  },
  {
    name: 'first sight, admin-api unreachable, auto-refresh: do not seed (an update could be lost)',
    input: {
      seen: undefined,
      remote: resolved(B),
      locals: one(unavailable('ECONNREFUSED')),
      autoRefresh: true,
    },
    expected: { action: 'retry', reason: 'local-unknown', message: 'default: ECONNREFUSED' },
    record: undefined,
  },
  {
    name: 'first sight, admin-api unreachable, monitor-only: seed',
    input: {
      seen: undefined,
      remote: resolved(B),
      locals: one(unavailable('ECONNREFUSED')),
      autoRefresh: false,
    },
    expected: { action: 'seed', digest: B },
    record: B,
  },
  {
    // The state is keyed by the full reference: after MOLECULE_IMAGE_REGISTRY changes, the new
    // reference has no seen digest even though the old one had A, so this is a first sight.
    name: 'registry switched: first sight of the new reference seeds, never "moved"',
    input: { seen: undefined, remote: resolved(B), locals: one(absent), autoRefresh: true },
    expected: { action: 'seed', digest: B },
    record: B,
  },
  {
    name: 'several hosts, first sight: the hosts on another digest get a rollout, the others count as done',
    input: {
      seen: undefined,
      remote: resolved(B),
      locals: hosts({ a: present(B), b: present(A), c: absent, d: present(A) }),
      autoRefresh: true,
    },
    expected: {
      action: 'rollout',
      reason: 'local-differs',
      from: A,
      to: B,
      alreadyDone: ['a', 'c'],
    },
    record: B,
  },
  {
    name: 'several hosts on different old digests: from is unknown',
    input: {
      seen: undefined,
      remote: resolved(B),
      locals: hosts({ a: present(A), b: present(C) }),
      autoRefresh: true,
    },
    expected: {
      action: 'rollout',
      reason: 'local-differs',
      from: undefined,
      to: B,
      alreadyDone: [],
    },
    record: B,
  },
  {
    name: 'several hosts, one unreachable: first sight waits for it',
    input: {
      seen: undefined,
      remote: resolved(B),
      locals: hosts({ a: present(A), b: unavailable('timeout') }),
      autoRefresh: true,
    },
    expected: { action: 'retry', reason: 'local-unknown', message: 'b: timeout' },
    record: undefined,
  },
  {
    name: 'several hosts all on the remote digest: seed',
    input: {
      seen: undefined,
      remote: resolved(B),
      locals: hosts({ a: present(B), b: present(B) }),
      autoRefresh: true,
    },
    expected: { action: 'seed', digest: B },
    record: B,
  },
  {
    name: 'not asked (monitor-only without a token): seed',
    input: {
      seen: undefined,
      remote: resolved(B),
      locals: hosts({ a: { kind: 'not-asked' } }),
      autoRefresh: false,
    },
    expected: { action: 'seed', digest: B },
    record: B,
  },
];

describe('decide', () => {
  it.each(rows)('$name', ({ input, expected, record }) => {
    const decision = decide(input);
    expect(decision).toEqual(expected);
    expect(digestToRecord(decision)).toBe(record);
  });

  it('asks for the local images only on a resolved first sight', () => {
    expect(needsLocalLookup(undefined, resolved(A))).toBe(true);
    expect(needsLocalLookup(A, resolved(A))).toBe(false);
    expect(needsLocalLookup(undefined, failed)).toBe(false);
  });

  it('shortens digests to 12 hex characters', () => {
    expect(shortDigest(A)).toBe('sha256:aaaaaaaaaaaa');
    expect(shortDigest(undefined)).toBe('none');
    expect(shortDigest(null)).toBe('none');
    // Without an algorithm: the first 19 characters, as long as `sha256:` + 12 hex.
    expect(shortDigest('a'.repeat(64))).toBe('a'.repeat(19));
  });

  it('names every host it cannot ask, in host order', () => {
    expect(
      decide({
        seen: undefined,
        remote: resolved(A),
        locals: hosts({ a: unavailable('ECONNREFUSED'), b: present(A), c: unavailable('timeout') }),
        autoRefresh: true,
      }),
    ).toEqual({ action: 'retry', reason: 'local-unknown', message: 'a: ECONNREFUSED; c: timeout' });
  });
});
