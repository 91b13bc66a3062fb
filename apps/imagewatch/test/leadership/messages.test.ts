import { describe, expect, it } from 'vitest';
import {
  CHECK_CHANNEL,
  encodeMessage,
  parseMessage,
  ROLLOUT_CHANNEL,
} from '../../src/leadership/messages.js';

describe('replica messages', () => {
  it('round-trips a check request and a rollout announcement', () => {
    const check = encodeMessage({ kind: 'check', runtime: 'codex', from: 'a-1' });
    expect(check).toEqual({
      channel: CHECK_CHANNEL,
      payload: '{"v":1,"runtime":"codex","from":"a-1"}',
    });
    expect(parseMessage(check.channel, check.payload)).toEqual({
      ok: true,
      message: { kind: 'check', runtime: 'codex', from: 'a-1' },
    });
    const rollout = encodeMessage({ kind: 'rollout', id: 'r-codex-0123456789ab-17', from: 'b' });
    expect(rollout.channel).toBe(ROLLOUT_CHANNEL);
    expect(parseMessage(rollout.channel, rollout.payload)).toEqual({
      ok: true,
      message: { kind: 'rollout', id: 'r-codex-0123456789ab-17', from: 'b' },
    });
  });

  it('a message without a sender still counts (from: unknown)', () => {
    expect(parseMessage(CHECK_CHANNEL, '{"v":1,"runtime":"hermes"}')).toEqual({
      ok: true,
      message: { kind: 'check', runtime: 'hermes', from: 'unknown' },
    });
  });

  it.each([
    ['another channel', 'other_channel', '{"v":1,"runtime":"codex"}', /unknown channel/],
    ['no payload', CHECK_CHANNEL, undefined, /not JSON/],
    ['not JSON', CHECK_CHANNEL, 'codex', /not JSON/],
    ['not an object', CHECK_CHANNEL, '"codex"', /not an object/],
    ['a future version', CHECK_CHANNEL, '{"v":2,"runtime":"codex"}', /version 2/],
    [
      'a runtime on the rollout channel',
      ROLLOUT_CHANNEL,
      '{"v":1,"runtime":"codex"}',
      /no valid id/,
    ],
    ['a name with spaces', CHECK_CHANNEL, '{"v":1,"runtime":"co dex"}', /no valid runtime/],
    [
      'a name too long',
      CHECK_CHANNEL,
      JSON.stringify({ v: 1, runtime: 'x'.repeat(201) }),
      /no valid runtime/,
    ],
    ['a number', CHECK_CHANNEL, '{"v":1,"runtime":7}', /no valid runtime/],
  ])('refuses %s as a value, never a throw', (_name, channel, payload, reason) => {
    const parsed = parseMessage(channel, payload);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });
});
