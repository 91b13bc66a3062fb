/**
 * What every WatchStore must do, as one table of cases that each store's suite runs
 * (file-store.test.ts on the state file, postgres-store.integration.test.ts on a real
 * PostgreSQL): seen digests, commits with compare-and-set that are all or nothing, listing
 * newest first with filters and a limit, active rollouts oldest first, pruning.
 */
import { expect } from 'vitest';
import { createRollout, type Rollout } from '../../src/rollouts/rollout.js';
import type { WatchStore } from '../../src/store/watch-store.js';
import { sha } from '../helpers.js';

export interface StoreHarness {
  /** A new store over an empty state, opened, reading the time from `now`. */
  open(now: () => Date): Promise<WatchStore>;
  /** Another store over the same state, opened: a restart, or another replica. */
  reopen(): Promise<WatchStore>;
}

export interface StoreContractCase {
  readonly name: string;
  readonly run: (harness: StoreHarness) => Promise<void>;
}

export const REF = 'ghcr.io/a/workspace-template-codex:latest';
export const T = new Date('2025-01-01T00:00:00Z');

export const rolloutAt = (id: string, at: Date, overrides: Partial<Rollout> = {}): Rollout => ({
  ...createRollout(
    {
      id,
      runtime: 'codex',
      reference: REF,
      from: sha(1),
      to: sha(2),
      waves: [['a'], ['b', 'c']],
    },
    at,
  ),
  ...overrides,
});

const fixed = (at: Date) => () => at;

export const STORE_CONTRACT_CASES: readonly StoreContractCase[] = [
  {
    name: 'an empty store has no seen digest and no rollouts; an empty commit succeeds',
    async run(harness) {
      const store = await harness.open(fixed(T));
      expect(await store.seenDigest(REF)).toBeUndefined();
      expect(await store.getRollout('r-none')).toBeUndefined();
      expect(await store.listRollouts()).toEqual([]);
      expect(await store.activeRollouts()).toEqual([]);
      expect(await store.commit({})).toBe(true);
      expect(store.health()).toEqual({ ok: true });
    },
  },
  {
    name: 'records a seen digest with the time it was first seen; the time stays while the digest does',
    async run(harness) {
      let clock = T.getTime();
      const store = await harness.open(() => new Date(clock));
      expect(await store.commit({ seen: { image: REF, digest: sha(1) } })).toBe(true);
      clock += 60_000;
      expect(await store.commit({ seen: { image: REF, digest: sha(1) } })).toBe(true);
      expect(await store.seenDigest(REF)).toEqual({ digest: sha(1), seenAt: T.toISOString() });
      clock += 60_000;
      await store.commit({ seen: { image: REF, digest: sha(3) } });
      const moved = { digest: sha(3), seenAt: new Date(clock).toISOString() };
      expect(await store.seenDigest(REF)).toEqual(moved);
      // Keyed by the full reference: another registry's digest is another entry.
      expect(await store.seenDigest('localhost:5000/a/workspace-template-codex:latest')).toBe(
        undefined,
      );
      expect(await (await harness.reopen()).seenDigest(REF)).toEqual(moved);
    },
  },
  {
    name: 'commits a seen digest and a rollout together, and updates rollouts by version only',
    async run(harness) {
      const store = await harness.open(fixed(T));
      const first = rolloutAt('r-1', T);
      expect(await store.commit({ seen: { image: REF, digest: first.to }, create: [first] })).toBe(
        true,
      );
      expect(await store.getRollout('r-1')).toEqual(first);
      expect((await store.seenDigest(REF))?.digest).toBe(first.to);

      const next = { ...first, state: 'aborted' as const, version: 1 };
      expect(await store.commit({ update: [next] })).toBe(true);
      // A writer that read version 0 loses, and nothing of its commit is written.
      const stale = { ...first, state: 'halted' as const, version: 1 };
      const other = rolloutAt('r-2', T);
      expect(
        await store.commit({
          update: [stale],
          create: [other],
          seen: { image: REF, digest: sha(9) },
        }),
      ).toBe(false);
      expect((await store.getRollout('r-1'))?.state).toBe('aborted');
      expect(await store.getRollout('r-2')).toBeUndefined();
      expect((await store.seenDigest(REF))?.digest).toBe(first.to);
      expect(await store.activeRollouts()).toEqual([]);
      // An update of a rollout that does not exist is a conflict too.
      expect(await store.commit({ update: [{ ...other, version: 1 }] })).toBe(false);

      const reopened = await harness.reopen();
      expect(await reopened.getRollout('r-1')).toEqual(next);
    },
  },
  {
    name: 'updates several rollouts in one commit, all or nothing',
    async run(harness) {
      const store = await harness.open(fixed(T));
      const a = rolloutAt('r-a', T);
      const b = rolloutAt('r-b', new Date(T.getTime() + 1));
      await store.commit({ create: [a, b] });
      const halted = (r: Rollout) => ({ ...r, state: 'halted' as const, version: r.version + 1 });
      // b's update is made from a version that is not stored: a's is not written either.
      expect(await store.commit({ update: [halted(a), { ...halted(b), version: 5 }] })).toBe(false);
      expect((await store.getRollout('r-a'))?.version).toBe(0);
      expect(await store.commit({ update: [halted(a), halted(b)] })).toBe(true);
      expect((await store.activeRollouts()).map((r) => [r.id, r.state, r.version])).toEqual([
        ['r-a', 'halted', 1],
        ['r-b', 'halted', 1],
      ]);
    },
  },
  {
    name: 'keeps the rollout exactly as committed (hosts, errors, waves, nulls)',
    async run(harness) {
      const store = await harness.open(fixed(T));
      const r = rolloutAt('r-exact', T, {
        state: 'halted',
        wave: 1,
        soak_until: '2025-01-01T00:05:00.000Z',
        hosts: [
          { name: 'a', state: 'done', attempts: 1, updated_at: T.toISOString() },
          {
            name: 'b',
            state: 'failed',
            attempts: 4,
            error: '[POST] "x": 500 boom',
            updated_at: T.toISOString(),
          },
          { name: 'c', state: 'pending', attempts: 0, updated_at: T.toISOString() },
        ],
        kind: 'rollback',
        rollback_of: 'r-before',
      });
      await store.commit({ create: [r] });
      expect(await (await harness.reopen()).getRollout('r-exact')).toEqual(r);
    },
  },
  {
    name: 'lists rollouts newest first, filtered, limited; keeps every active one and the newest finished',
    async run(harness) {
      let clock = 0;
      const store = await harness.open(() => new Date(T.getTime() + clock));
      for (let n = 0; n < 210; n++) {
        clock = n * 1000;
        const r = createRollout(
          {
            id: `r-${n}`,
            runtime: n % 2 ? 'codex' : 'hermes',
            reference: REF,
            from: null,
            to: sha(n + 10),
            waves: [['default']],
          },
          new Date(T.getTime() + clock),
        );
        await store.commit({ create: [n < 205 ? { ...r, state: 'done' } : r] });
      }
      const all = await store.listRollouts({ limit: 1000 });
      // 5 running ones, and the 200 newest finished ones.
      expect(all).toHaveLength(205);
      expect(all[0]?.id).toBe('r-209');
      expect(all.at(-1)?.id).toBe('r-5');
      expect(await store.getRollout('r-4')).toBeUndefined();
      expect(
        (await store.listRollouts({ runtime: 'codex', state: 'running' })).map((r) => r.id),
      ).toEqual(['r-209', 'r-207', 'r-205']);
      expect((await store.listRollouts({ state: 'done', limit: 3 })).map((r) => r.id)).toEqual([
        'r-204',
        'r-203',
        'r-202',
      ]);
      expect(await store.listRollouts({ limit: 2 })).toHaveLength(2);
      expect(await store.listRollouts()).toHaveLength(200);
      expect((await store.activeRollouts()).map((r) => r.id)).toEqual([
        'r-205',
        'r-206',
        'r-207',
        'r-208',
        'r-209',
      ]);
    },
  },
  {
    name: 'a rollout created at the same instant as another is ordered by id',
    async run(harness) {
      const store = await harness.open(fixed(T));
      await store.commit({
        create: [rolloutAt('r-b', T), rolloutAt('r-a', T), rolloutAt('r-c', T)],
      });
      expect((await store.listRollouts()).map((r) => r.id)).toEqual(['r-c', 'r-b', 'r-a']);
    },
  },
];
