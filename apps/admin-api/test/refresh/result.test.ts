import { describe, expect, it } from 'vitest';
import { type RefreshResult, resolveOutcome } from '../../src/refresh/result.js';

const result = (patch: Partial<RefreshResult> = {}): RefreshResult => ({
  pulled: ['codex'],
  failed: [],
  recreated: ['ws-a'],
  unchanged: [],
  errors: [],
  images: {},
  ...patch,
});

describe('resolveOutcome', () => {
  it('is ok when nothing failed', () => {
    const r = result();
    expect(resolveOutcome(r, undefined, undefined)).toEqual({
      outcome: { status: 'ok', result: r },
      label: 'ok',
    });
  });

  it('is partial (still 200) when a runtime failed, or any error was recorded', () => {
    const failed = result({ failed: ['hermes'] });
    expect(resolveOutcome(failed, undefined, undefined)).toEqual({
      outcome: { status: 'ok', result: failed },
      label: 'partial',
    });
    const errored = result({
      errors: [{ stage: 'stop', container: 'ws-a', code: 'ENGINE_ERROR', message: 'x' }],
    });
    expect(resolveOutcome(errored, undefined, undefined).label).toBe('partial');
  });

  it('is engine-error when listing the containers failed with the engine reachable', () => {
    const r = result();
    expect(resolveOutcome(r, { error: 'list failed: 500', unreachable: false }, undefined)).toEqual(
      {
        outcome: { status: 'engine-error', error: 'list failed: 500', partialResult: r },
        label: 'engine_error',
      },
    );
  });

  it('is engine-unavailable when listing failed because the engine is gone, with the list error', () => {
    const r = result();
    expect(
      resolveOutcome(
        r,
        { error: 'connect ENOENT /var/run/docker.sock', unreachable: true },
        'ping failed',
      ),
    ).toEqual({
      outcome: {
        status: 'engine-unavailable',
        error: 'connect ENOENT /var/run/docker.sock',
        partialResult: r,
      },
      label: 'engine_unavailable',
    });
  });

  it('is engine-unavailable when the engine went away during the pulls and no listing failed', () => {
    const r = result({ failed: ['codex'], pulled: [] });
    expect(resolveOutcome(r, undefined, 'connect ECONNREFUSED')).toEqual({
      outcome: {
        status: 'engine-unavailable',
        error: 'docker engine unreachable: connect ECONNREFUSED',
        partialResult: r,
      },
      label: 'engine_unavailable',
    });
  });

  it('lets a list failure with a reachable engine decide over an earlier unreachable engine', () => {
    const r = result();
    expect(
      resolveOutcome(r, { error: 'list failed: 500', unreachable: false }, 'ping failed').outcome,
    ).toEqual({ status: 'engine-error', error: 'list failed: 500', partialResult: r });
  });
});
