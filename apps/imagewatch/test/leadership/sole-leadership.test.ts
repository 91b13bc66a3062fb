import { describe, expect, it } from 'vitest';
import { createSoleLeadership } from '../../src/leadership/leadership.js';

describe('sole leadership (the state file: one process)', () => {
  it('is the leader from the start, confirms always, reports the change once on start', async () => {
    let epoch = 0;
    const gauge: number[] = [];
    const leadership = createSoleLeadership({
      epoch: () => epoch,
      metrics: { leader: { set: (value) => gauge.push(value) } },
    });
    const changes: boolean[] = [];
    leadership.onChange((leader) => changes.push(leader));
    expect(leadership.isLeader()).toBe(true);
    expect(await leadership.confirm()).toBe(true);
    epoch = 3; // the file store's open() took it
    expect(leadership.epoch()).toBe(3);
    leadership.start();
    leadership.start();
    expect(changes).toEqual([true]);
    expect(gauge).toEqual([1]);
    expect(leadership.health()).toEqual({ ok: true });
    await leadership.stop();
    expect(leadership.isLeader()).toBe(false);
    expect(await leadership.confirm()).toBe(false);
    expect(changes).toEqual([true, false]);
    expect(gauge).toEqual([1, 0]);
  });

  it('check requests and rollout announcements reach the local listeners; a throwing one is contained', async () => {
    const errors: unknown[] = [];
    const leadership = createSoleLeadership({ epoch: 1, onListenerError: (e) => errors.push(e) });
    const checks: string[] = [];
    const ids: string[] = [];
    leadership.onCheckRequested(() => {
      throw new Error('listener bug');
    });
    const off = leadership.onCheckRequested((runtime) => checks.push(runtime));
    leadership.onRolloutAnnounced((id) => ids.push(id));
    await leadership.requestCheck('codex');
    await leadership.announceRollout('r-1');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(checks).toEqual(['codex']);
    expect(ids).toEqual(['r-1']);
    expect(errors).toHaveLength(1);
    off();
    await leadership.requestCheck('hermes');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(checks).toEqual(['codex']);
  });
});
