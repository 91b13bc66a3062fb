/**
 * Harbor's own webhooks (project → Webhooks, notify type `http`), both payload formats, parsed
 * and matched like the other registry notifications: pure, no I/O, the body's digest never
 * trusted.
 *
 * - "Default": `{ type: "PUSH_ARTIFACT", occur_at, operator, event_data: { resources, repository } }`
 * - "CloudEvents" (Harbor 2.8+): a structured CloudEvents 1.0 event, `type: "harbor.artifact.pushed"`,
 *   whose `data` is the Default format's `event_data`.
 *
 * https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/
 * Harbor's formatters: https://github.com/goharbor/harbor/tree/main/src/pkg/notifier/formats
 * (payload model: src/pkg/notifier/model/event.go).
 */
import { isValidTag, parseImageReference } from '@molecule/registry';
import { z } from 'zod';
import type { HookMatcher, HookParseResult, HookVerdict } from '../matcher.js';
import { describeIssue } from './schema-issue.js';

/**
 * One artifact of an event. Harbor sets `tag` to the digest again for a push by digest, and
 * `resource_url` to `<Harbor host>/<project>/<repository>:<tag>` (or `@sha256:…`), the host being
 * that of Harbor's external URL. Everything is optional: other event types fill in less.
 */
export const HarborResource = z.object({
  digest: z.string().nullish(),
  tag: z.string().nullish(),
  resource_url: z.string().nullish(),
});
export type HarborResource = z.infer<typeof HarborResource>;

/** `repo_full_name` is `<project>/<name>`, the registry path without the host. */
export const HarborRepository = z.object({
  date_created: z.number().nullish(),
  name: z.string().nullish(),
  namespace: z.string().nullish(),
  repo_full_name: z.string().nullish(),
  repo_type: z.string().nullish(),
});
export type HarborRepository = z.infer<typeof HarborRepository>;

/** Replication, retention and quota events carry other keys instead (not read here). */
export const HarborEventData = z.object({
  resources: z.array(HarborResource).nullish(),
  repository: HarborRepository.nullish(),
});
export type HarborEventData = z.infer<typeof HarborEventData>;

/** Payload format "Default" (`Content-Type: application/json`). */
export const HarborWebhook = z.object({
  /** `PUSH_ARTIFACT`, `PULL_ARTIFACT`, `DELETE_ARTIFACT`, `SCANNING_COMPLETED`, ... */
  type: z.string(),
  /** Unix seconds. */
  occur_at: z.number().optional(),
  operator: z.string().nullish(),
  event_data: HarborEventData,
});
export type HarborWebhook = z.infer<typeof HarborWebhook>;

/**
 * Payload format "CloudEvents" (`Content-Type: application/cloudevents+json`, structured mode).
 * https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md
 */
export const HarborCloudEvent = z.object({
  specversion: z.string(),
  id: z.string().optional(),
  /** `/projects/<id>/webhook/policies/<id>` */
  source: z.string().optional(),
  /** `harbor.artifact.pushed`, `harbor.artifact.pulled`, `harbor.scan.completed`, ... */
  type: z.string(),
  datacontenttype: z.string().optional(),
  time: z.string().optional(),
  /** Harbor's extension attributes. */
  operator: z.string().nullish(),
  requestid: z.string().nullish(),
  data: HarborEventData.nullish(),
});
export type HarborCloudEvent = z.infer<typeof HarborCloudEvent>;

/** The event type of a push, per format. */
export const HARBOR_PUSH_TYPE = 'PUSH_ARTIFACT';
export const HARBOR_CLOUDEVENTS_PUSH_TYPE = 'harbor.artifact.pushed';

/**
 * A Harbor webhook in the Default format (already JSON) → one verdict per resource, or a 400
 * reason.
 *
 * @example
 * parseHarborWebhook({ type: 'PUSH_ARTIFACT', event_data: { resources: [{ tag: 'latest', resource_url: 'harbor.example.com/acme/workspace-template-codex:latest' }] } }, matcher)
 */
export function parseHarborWebhook(body: unknown, matcher: HookMatcher): HookParseResult {
  const parsed = HarborWebhook.safeParse(body);
  if (!parsed.success) return { ok: false, error: describeIssue('a Harbor webhook', parsed.error) };
  const { type, event_data } = parsed.data;
  return { ok: true, verdicts: verdictsOf(type, type === HARBOR_PUSH_TYPE, event_data, matcher) };
}

/** A Harbor webhook in the CloudEvents format → one verdict per resource, or a 400 reason. */
export function parseHarborCloudEvent(body: unknown, matcher: HookMatcher): HookParseResult {
  const parsed = HarborCloudEvent.safeParse(body);
  if (!parsed.success)
    return { ok: false, error: describeIssue('a Harbor CloudEvent', parsed.error) };
  const { type, data } = parsed.data;
  return {
    ok: true,
    verdicts: verdictsOf(type, type === HARBOR_CLOUDEVENTS_PUSH_TYPE, data, matcher),
  };
}

function verdictsOf(
  type: string,
  isPush: boolean,
  data: HarborEventData | null | undefined,
  matcher: HookMatcher,
): HookVerdict[] {
  const repository = data?.repository?.repo_full_name || undefined;
  const resources = data?.resources ?? [];
  if (resources.length === 0) {
    // Quota, replication and retention events name no artifact; neither would a push we can use.
    return [
      {
        outcome: 'ignored',
        reason: isPush ? 'tag' : 'action',
        detail: isPush ? 'no resources (no artifact named)' : `action ${type}`,
        ...(repository === undefined ? {} : { repository }),
      },
    ];
  }
  return resources.map((resource) => {
    const url = splitResourceUrl(resource.resource_url);
    return matcher.match({
      isPush,
      action: type,
      // Without a resource_url the repository comes from `repo_full_name`; the host is only
      // logged (events match on the repository's last component and the tag, any host).
      host: url.host,
      repository: url.path ?? repository ?? '(none)',
      tag: tagOf(resource.tag) ?? url.tag,
      claimedDigest: resource.digest || url.digest,
    });
  });
}

/**
 * Harbor repeats the digest in `tag` for a push by digest; that is no tag. The tag grammar:
 * https://github.com/distribution/reference/blob/main/reference.go
 */

function tagOf(tag: string | null | undefined): string | undefined {
  return tag && isValidTag(tag) ? tag : undefined;
}

/** `<host>/<path>:<tag>` or `<host>/<path>@<digest>` → its parts (none when unparsable). */
function splitResourceUrl(url: string | null | undefined): {
  host?: string;
  path?: string;
  tag?: string;
  digest?: string;
} {
  if (!url) return {};
  try {
    const { domain, path, tag, digest } = parseImageReference(url);
    return {
      host: domain,
      path,
      ...(tag === undefined ? {} : { tag }),
      ...(digest === undefined ? {} : { digest }),
    };
  } catch {
    return {};
  }
}
