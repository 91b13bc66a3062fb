/**
 * The CNCF distribution notification envelope (`application/vnd.docker.distribution.events.v1+json`),
 * parsed at the boundary and matched: pure, no I/O.
 * https://distribution.github.io/distribution/about/notifications/
 */
import { z } from 'zod';
import type { HookMatcher, HookParseResult } from '../matcher.js';
import { describeIssue } from './schema-issue.js';

/**
 * One event of the distribution envelope. Only what every event kind (push, pull, mount,
 * delete) carries is required: a stricter schema would make the registry retry a whole
 * envelope forever over one event of a kind we do not care about.
 * https://distribution.github.io/distribution/about/notifications/#events
 */
export const DistributionEvent = z.object({
  id: z.string().optional(),
  action: z.string(),
  target: z.object({
    mediaType: z.string().optional(),
    repository: z.string(),
    digest: z.string().optional(),
    /** Set for manifest pushes and pulls by tag only (not for blobs or pushes by digest). */
    tag: z.string().optional(),
  }),
  request: z.object({ host: z.string().optional() }).optional(),
});
export type DistributionEvent = z.infer<typeof DistributionEvent>;

/** https://distribution.github.io/distribution/about/notifications/#envelope */
export const DistributionEnvelope = z.object({ events: z.array(DistributionEvent) });
export type DistributionEnvelope = z.infer<typeof DistributionEnvelope>;

/**
 * A distribution envelope (already JSON) → one verdict per event, or a 400 reason.
 *
 * @example
 * parseDistributionEnvelope({ events: [{ action: 'push', target: { repository: 'acme/workspace-template-codex', tag: 'latest' }, request: { host: 'registry.example.com' } }] }, matcher)
 */
export function parseDistributionEnvelope(body: unknown, matcher: HookMatcher): HookParseResult {
  const parsed = DistributionEnvelope.safeParse(body);
  if (!parsed.success)
    return { ok: false, error: describeIssue('a distribution envelope', parsed.error) };
  const verdicts = parsed.data.events.map((event) =>
    matcher.match({
      isPush: event.action === 'push',
      action: event.action,
      host: event.request?.host,
      repository: event.target.repository,
      tag: event.target.tag,
      claimedDigest: event.target.digest,
    }),
  );
  return { ok: true, verdicts };
}
