/**
 * What replicas tell the leader over PostgreSQL NOTIFY: "check this runtime now" (a registry
 * hook a follower received) and "this rollout changed in the store" (an operator's action on
 * a follower). One channel per kind; the payload is a small versioned JSON object, so a later
 * release can add fields without confusing an older leader. Parsing is pure and never throws:
 * a payload that is not ours is a value the listener logs and drops.
 * https://www.postgresql.org/docs/15/sql-notify.html (payload under 8000 bytes)
 */

export const CHECK_CHANNEL = 'imagewatch_check';
export const ROLLOUT_CHANNEL = 'imagewatch_rollout';
export const CHANNELS = [CHECK_CHANNEL, ROLLOUT_CHANNEL] as const;
export type Channel = (typeof CHANNELS)[number];

export type LeaderMessage =
  | { readonly kind: 'check'; readonly runtime: string; readonly from: string }
  | { readonly kind: 'rollout'; readonly id: string; readonly from: string };

export type ParsedMessage =
  | { readonly ok: true; readonly message: LeaderMessage }
  | { readonly ok: false; readonly reason: string };

/** Runtime names and rollout ids (`r-<runtime>-<hex>-<n>`): short, no spaces or quotes. */
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const MESSAGE_VERSION = 1;

/** The channel and payload of `message` for `pg_notify`. */
export function encodeMessage(message: LeaderMessage): { channel: Channel; payload: string } {
  return message.kind === 'check'
    ? {
        channel: CHECK_CHANNEL,
        payload: JSON.stringify({
          v: MESSAGE_VERSION,
          runtime: message.runtime,
          from: message.from,
        }),
      }
    : {
        channel: ROLLOUT_CHANNEL,
        payload: JSON.stringify({ v: MESSAGE_VERSION, id: message.id, from: message.from }),
      };
}

/** A NOTIFY as the listener received it, or why it is not one of ours. */
export function parseMessage(channel: string, payload: string | undefined): ParsedMessage {
  if (channel !== CHECK_CHANNEL && channel !== ROLLOUT_CHANNEL) {
    return { ok: false, reason: `unknown channel ${JSON.stringify(channel.slice(0, 64))}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(payload ?? '');
  } catch {
    return { ok: false, reason: `payload on ${channel} is not JSON` };
  }
  if (typeof json !== 'object' || json === null) {
    return { ok: false, reason: `payload on ${channel} is not an object` };
  }
  const body = json as Record<string, unknown>;
  if (body.v !== MESSAGE_VERSION) {
    return { ok: false, reason: `payload on ${channel} has version ${String(body.v)}, not 1` };
  }
  const from = typeof body.from === 'string' ? body.from.slice(0, 200) : 'unknown';
  const field = channel === CHECK_CHANNEL ? 'runtime' : 'id';
  const value = body[field];
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    return { ok: false, reason: `payload on ${channel} has no valid ${field}` };
  }
  return {
    ok: true,
    message:
      channel === CHECK_CHANNEL
        ? { kind: 'check', runtime: value, from }
        : { kind: 'rollout', id: value, from },
  };
}

/** True when `value` can be sent (the leader would drop anything else). */
export function isMessageToken(value: string): boolean {
  return TOKEN.test(value);
}
