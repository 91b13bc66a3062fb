/**
 * The rollout state machine, by tables: every event in every state (the allowed ones change
 * exactly what they should, every other one is refused and changes nothing), then host events
 * in every host state, then whole paths.
 */
import { describe, expect, it } from 'vitest';
import {
  createRollout,
  HOST_STATES,
  type HostState,
  ROLLOUT_STATES,
  type Rollout,
  type RolloutState,
} from '../../src/rollouts/rollout.js';
import {
  ALLOWED_IN,
  applyRolloutEvent,
  isFinal,
  type RolloutEvent,
} from '../../src/rollouts/transitions.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const T1 = new Date('2026-12-01T10:00:05.000Z');
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function rollout(patch: Partial<Rollout> = {}): Rollout {
  return {
    ...createRollout(
      {
        id: 'r-codex-222222222222-1',
        runtime: 'codex',
        reference: 'registry.example.com/acme/workspace-template-codex:latest',
        from: D1,
        to: D2,
        waves: [['a'], ['b', 'c']],
      },
      T0,
    ),
    ...patch,
  };
}

function withHost(r: Rollout, name: string, state: HostState, attempts = 1): Rollout {
  return {
    ...r,
    hosts: r.hosts.map((h) => (h.name === name ? { ...h, state, attempts } : h)),
  };
}

const apply = (r: Rollout, event: RolloutEvent, soakMs = 0) =>
  applyRolloutEvent(r, event, { now: T1, soakMs });

const EVENTS: RolloutEvent[] = [
  { type: 'host-started', host: 'a' },
  { type: 'host-succeeded', host: 'a' },
  { type: 'host-failed', host: 'a', error: 'x' },
  { type: 'wave-settled' },
  { type: 'soak-over' },
  { type: 'resume' },
  { type: 'abort' },
  { type: 'supersede', by: 'r-next' },
  { type: 'roll-back', by: 'r-back' },
];

describe('createRollout', () => {
  it('starts running at wave one with every host pending, or done when it already runs the digest', () => {
    const r = createRollout(
      {
        id: 'r1',
        runtime: 'codex',
        reference: 'x',
        from: null,
        to: D2,
        waves: [['a'], ['b']],
        alreadyDone: new Set(['b']),
      },
      T0,
    );
    expect(r).toMatchObject({
      state: 'running',
      wave: 0,
      soak_until: null,
      version: 0,
      kind: 'rollout',
    });
    expect(r.hosts).toEqual([
      { name: 'a', state: 'pending', attempts: 0, updated_at: T0.toISOString() },
      { name: 'b', state: 'done', attempts: 0, updated_at: T0.toISOString() },
    ]);
  });
});

describe('every event in every rollout state', () => {
  const cases = ROLLOUT_STATES.flatMap((state) => EVENTS.map((event) => [state, event] as const));
  it.each(cases)('%s + %o', (state, event) => {
    // A rollout in `state` where the event's host precondition holds, when it can.
    let r = rollout({ state });
    if (event.type === 'host-succeeded' || event.type === 'host-failed')
      r = withHost(r, 'a', 'running');
    if (event.type === 'wave-settled') r = withHost(r, 'a', 'done');
    if (event.type === 'soak-over') r = { ...r, soak_until: T1.toISOString() };
    const result = apply(r, event);
    if (!ALLOWED_IN[event.type].has(state)) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toContain(`is ${state}`);
      return;
    }
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rollout.version).toBe(r.version + 1);
    expect(result.rollout.updated_at).toBe(T1.toISOString());
    expect(r.version).toBe(0); // the input is not mutated
  });

  it('allows exactly the documented events per state', () => {
    const allowed = (state: RolloutState) =>
      EVENTS.filter((e) => ALLOWED_IN[e.type].has(state)).map((e) => e.type);
    expect(allowed('running')).toEqual([
      'host-started',
      'host-succeeded',
      'host-failed',
      'wave-settled',
      'soak-over',
      'abort',
      'supersede',
      'roll-back',
    ]);
    expect(allowed('halted')).toEqual(['resume', 'abort', 'supersede', 'roll-back']);
    expect(allowed('done')).toEqual(['roll-back']);
    expect(allowed('aborted')).toEqual(['roll-back']);
    expect(allowed('superseded')).toEqual([]);
    expect(allowed('rolled_back')).toEqual([]);
  });

  it('final states: done, aborted, superseded, rolled_back', () => {
    expect(ROLLOUT_STATES.filter((state) => isFinal(rollout({ state })))).toEqual([
      'done',
      'aborted',
      'superseded',
      'rolled_back',
    ]);
  });
});

describe('host events in every host state', () => {
  const allowedFrom: Record<'host-started' | 'host-succeeded' | 'host-failed', HostState[]> = {
    'host-started': ['pending', 'failed'],
    'host-succeeded': ['running'],
    'host-failed': ['running'],
  };
  const cases = HOST_STATES.flatMap((hostState) =>
    (['host-started', 'host-succeeded', 'host-failed'] as const).map(
      (type) => [hostState, type] as const,
    ),
  );
  it.each(cases)('host %s + %s', (hostState, type) => {
    const r = withHost(rollout(), 'a', hostState, 2);
    const event: RolloutEvent =
      type === 'host-failed' ? { type, host: 'a', error: 'pull failed' } : { type, host: 'a' };
    const result = apply(r, event);
    if (!allowedFrom[type].includes(hostState)) {
      expect(result).toEqual({ ok: false, reason: expect.stringContaining(`it is ${hostState}`) });
      return;
    }
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const host = result.rollout.hosts.find((h) => h.name === 'a')!;
    if (type === 'host-started') expect(host).toMatchObject({ state: 'running', attempts: 3 });
    if (type === 'host-succeeded') expect(host).toMatchObject({ state: 'done', attempts: 2 });
    if (type === 'host-failed')
      expect(host).toMatchObject({ state: 'failed', attempts: 2, error: 'pull failed' });
    expect(host.error === undefined).toBe(type !== 'host-failed');
  });

  it('refuses a host outside the rollout or outside the current wave, and while soaking', () => {
    expect(apply(rollout(), { type: 'host-started', host: 'zz' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not part of this rollout'),
    });
    expect(apply(rollout(), { type: 'host-started', host: 'b' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not in the current wave'),
    });
    const soaking = rollout({ wave: 1, soak_until: T1.toISOString() });
    expect(apply(soaking, { type: 'host-started', host: 'b' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('soaking'),
    });
  });
});

describe('paths', () => {
  function must(result: ReturnType<typeof apply>): Rollout {
    if (!result.ok) throw new Error(result.reason);
    return result.rollout;
  }

  it('a wave settles into the next wave (with a soak), then into done', () => {
    let r = must(apply(rollout(), { type: 'host-started', host: 'a' }));
    r = must(apply(r, { type: 'host-succeeded', host: 'a' }));
    r = must(apply(r, { type: 'wave-settled' }, 30_000));
    expect(r).toMatchObject({ state: 'running', wave: 1, soak_until: '2026-12-01T10:00:35.000Z' });
    r = must(apply(r, { type: 'soak-over' }));
    expect(r.soak_until).toBeNull();
    for (const host of ['b', 'c']) {
      r = must(apply(r, { type: 'host-started', host }));
      r = must(apply(r, { type: 'host-succeeded', host }));
    }
    r = must(apply(r, { type: 'wave-settled' }));
    expect(r.state).toBe('done');
    expect(r.wave).toBe(1);
  });

  it('no soak: the next wave may start at once', () => {
    let r = must(apply(withHost(rollout(), 'a', 'done'), { type: 'wave-settled' }, 0));
    expect(r.soak_until).toBeNull();
    r = must(apply(r, { type: 'host-started', host: 'b' }));
    expect(r.hosts.find((h) => h.name === 'b')?.state).toBe('running');
  });

  it('an unsettled wave cannot settle', () => {
    expect(apply(withHost(rollout(), 'a', 'running'), { type: 'wave-settled' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not settled: a'),
    });
  });

  it('a failed host halts the rollout; resume asks the failed hosts again with fresh retries', () => {
    const failed = { ...withHost(rollout(), 'a', 'failed', 4) };
    const halted = must(apply(failed, { type: 'wave-settled' }));
    expect(halted.state).toBe('halted');
    expect(halted.wave).toBe(0);
    const resumed = must(apply(halted, { type: 'resume' }));
    expect(resumed.state).toBe('running');
    expect(resumed.hosts.find((h) => h.name === 'a')).toEqual({
      name: 'a',
      state: 'pending',
      attempts: 0,
      updated_at: T1.toISOString(),
    });
  });

  it('abort, supersede and roll back fail the host in flight and record who replaced it', () => {
    const inFlight = withHost(rollout(), 'a', 'running');
    const aborted = must(apply(inFlight, { type: 'abort' }));
    expect(aborted.state).toBe('aborted');
    expect(aborted.hosts[0]).toMatchObject({ state: 'failed', error: 'aborted' });
    const superseded = must(apply(inFlight, { type: 'supersede', by: 'r-next' }));
    expect(superseded).toMatchObject({ state: 'superseded', replaced_by: 'r-next' });
    const rolledBack = must(
      apply(must(apply(rollout(), { type: 'abort' })), { type: 'roll-back', by: 'r-back' }),
    );
    expect(rolledBack).toMatchObject({ state: 'rolled_back', replaced_by: 'r-back' });
  });

  it('supersede and roll back say why the host in flight failed', () => {
    const inFlight = withHost(rollout(), 'a', 'running');
    expect(must(apply(inFlight, { type: 'supersede', by: 'r-next' })).hosts[0]).toMatchObject({
      state: 'failed',
      error: 'superseded by a newer digest',
    });
    expect(must(apply(inFlight, { type: 'roll-back', by: 'r-back' })).hosts[0]).toMatchObject({
      state: 'failed',
      error: 'rolled back',
    });
  });

  it('a pending host keeps its wave open, and the refusal names the wave by its number', () => {
    expect(apply(rollout(), { type: 'wave-settled' })).toEqual({
      ok: false,
      reason: 'wave 1 is not settled: a',
    });
    const second = rollout({ wave: 1 });
    expect(apply(withHost(second, 'c', 'running'), { type: 'wave-settled' })).toEqual({
      ok: false,
      reason: 'wave 2 is not settled: b, c',
    });
  });

  it('soak-over is refused when the rollout is not soaking', () => {
    expect(apply(rollout(), { type: 'soak-over' })).toEqual({
      ok: false,
      reason: 'the rollout is not soaking',
    });
  });

  it('only starting a host waits for its wave and the soak: a host in flight can still finish', () => {
    const soaking = withHost(rollout({ wave: 1, soak_until: T1.toISOString() }), 'a', 'running');
    expect(must(apply(soaking, { type: 'host-succeeded', host: 'a' })).hosts[0]?.state).toBe(
      'done',
    );
    expect(
      must(apply(soaking, { type: 'host-failed', host: 'a', error: 'x' })).hosts[0]?.state,
    ).toBe('failed');
    expect(
      apply(rollout({ soak_until: T1.toISOString() }), { type: 'host-started', host: 'a' }),
    ).toEqual({
      ok: false,
      reason: 'the previous wave is still soaking',
    });
  });

  it.each([
    [{ type: 'host-started', host: 'a' }, 'cannot start host a a rollout that is done'],
    [{ type: 'host-succeeded', host: 'a' }, 'cannot mark host a done a rollout that is done'],
    [
      { type: 'host-failed', host: 'a', error: 'x' },
      'cannot mark host a failed a rollout that is done',
    ],
    [{ type: 'wave-settled' }, 'cannot settle the wave of a rollout that is done'],
    [{ type: 'soak-over' }, 'cannot end the soak of a rollout that is done'],
    [{ type: 'resume' }, 'cannot resume a rollout that is done'],
    [{ type: 'abort' }, 'cannot abort a rollout that is done'],
    [{ type: 'supersede', by: 'r' }, 'cannot supersede a rollout that is done'],
  ] as const)('refuses %o in a done rollout: %s', (event, reason) => {
    expect(apply(rollout({ state: 'done' }), event)).toEqual({ ok: false, reason });
  });

  it('names the roll back it refuses', () => {
    expect(apply(rollout({ state: 'superseded' }), { type: 'roll-back', by: 'r' })).toEqual({
      ok: false,
      reason: 'cannot roll back a rollout that is superseded',
    });
  });

  it('names the host event it refuses for the host state', () => {
    expect(apply(rollout(), { type: 'host-succeeded', host: 'a' })).toEqual({
      ok: false,
      reason: 'cannot mark host a done: it is pending',
    });
  });
});
