/**
 * Bodies authenticated by the bearer token (`IMAGE_WATCH_HOOK_TOKEN`) come in three formats;
 * they are told apart by shape, not by headers (proxies, EventBridge and Harbor all send
 * `application/json` or something close to it):
 *
 * - distribution envelope: `events[]`;
 * - Harbor, Default format: `type` + `event_data`;
 * - Harbor, CloudEvents format: `specversion`.
 */
import type { HookMatcher, HookParseResult, HookSource } from '../matcher.js';
import { parseDistributionEnvelope } from './distribution.js';
import { parseHarborCloudEvent, parseHarborWebhook } from './harbor.js';

export type BearerFormat = 'distribution' | 'harbor' | 'harbor-cloudevents';

/**
 * Which format a JSON body is written in. Anything that is none of them is read as a
 * distribution envelope, whose schema then says what is missing.
 */
export function bearerFormatOf(body: unknown): BearerFormat {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'distribution';
  if ('specversion' in body) return 'harbor-cloudevents';
  if ('events' in body) return 'distribution';
  if ('event_data' in body || 'type' in body) return 'harbor';
  return 'distribution';
}

/** A bearer-authenticated body (already JSON) → who sent it and its verdicts, or a 400 reason. */
export function parseBearerDelivery(
  body: unknown,
  matcher: HookMatcher,
): { readonly source: Exclude<HookSource, 'github'>; readonly result: HookParseResult } {
  switch (bearerFormatOf(body)) {
    case 'harbor':
      return { source: 'harbor', result: parseHarborWebhook(body, matcher) };
    case 'harbor-cloudevents':
      return { source: 'harbor', result: parseHarborCloudEvent(body, matcher) };
    case 'distribution':
      return { source: 'distribution', result: parseDistributionEnvelope(body, matcher) };
  }
}
