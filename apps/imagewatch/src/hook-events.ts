/**
 * Registry push notifications, parsed at the boundary and matched against what imagewatch
 * watches: pure, no I/O. The body's digest is never trusted; a match only says "check this
 * runtime now", the registry client then asks the registry itself.
 *
 * Wire formats:
 * - CNCF distribution notification envelope (`application/vnd.docker.distribution.events.v1+json`):
 *   https://distribution.github.io/distribution/about/notifications/
 * - GitHub `package` and `registry_package` webhooks (GHCR):
 *   https://docs.github.com/en/webhooks/webhook-events-and-payloads#package
 *   https://docs.github.com/en/webhooks/webhook-events-and-payloads#registry_package
 * - Harbor's own webhooks: harbor-events.ts; telling the bearer formats apart: hook-formats.ts.
 */
import {
  GITHUB_CONTAINER_REGISTRY_HOST,
  parseImageReference,
  parseRegistryPrefix,
  TEMPLATE_REPOSITORY_PREFIX,
} from '@molecule/registry';
import { z } from 'zod';
import type { WatchTarget } from './config.js';

/** `source` label of `imagewatch_hook_events_total`: who sent the notification. */
export type HookSource = 'distribution' | 'github' | 'harbor';

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
 * The package object of GitHub's `package` (`package`) and `registry_package`
 * (`registry_package`) webhooks, as much of it as we read.
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#package
 */
export const GitHubPackage = z.object({
  name: z.string(),
  namespace: z.string().nullish(),
  /** `CONTAINER` (sometimes lowercase) for GHCR images. */
  package_type: z.string(),
  owner: z.object({ login: z.string() }),
  package_version: z
    .object({
      version: z.string().nullish(),
      /** `<GitHub container registry host>/<owner>/<name>:<tag>` */
      package_url: z.string().nullish(),
      container_metadata: z
        .object({
          tag: z.object({ name: z.string().nullish(), digest: z.string().nullish() }).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});
export type GitHubPackage = z.infer<typeof GitHubPackage>;

/** `X-GitHub-Event: package` */
export const GitHubPackageEvent = z.object({ action: z.string(), package: GitHubPackage });
export type GitHubPackageEvent = z.infer<typeof GitHubPackageEvent>;

/** `X-GitHub-Event: registry_package` */
export const GitHubRegistryPackageEvent = z.object({
  action: z.string(),
  registry_package: GitHubPackage,
});
export type GitHubRegistryPackageEvent = z.infer<typeof GitHubRegistryPackageEvent>;

export type IgnoreReason =
  /** A GitHub event that is not about packages (`ping`, `push`, ...). */
  | 'event'
  /** Not a push (`pull`, `delete`, `mount`; a GitHub action other than published/updated). */
  | 'action'
  /** A GitHub package that is not a container image (npm, maven, ...). */
  | 'package_type'
  /** Another registry than `registryHost()`. */
  | 'registry'
  /** A repository that is not `<prefix>/workspace-template-<runtime>`. */
  | 'repository'
  /** A workspace template of a runtime this instance does not watch (IMAGE_WATCH_RUNTIMES). */
  | 'not_watched'
  /** Not the watched tag (`latest`), or no tag at all (blob pushes, pushes by digest). */
  | 'tag';

export type HookVerdict =
  | {
      readonly outcome: 'accepted';
      readonly runtime: string;
      readonly repository: string;
      readonly tag: string;
      /** What the body claims; logged, never acted on. */
      readonly claimedDigest: string | undefined;
    }
  | {
      readonly outcome: 'ignored';
      readonly reason: IgnoreReason;
      readonly detail: string;
      readonly repository?: string;
      readonly tag?: string;
    };

/** A body parsed and matched: the verdict per event, or why the body is malformed (400). */
export type HookParseResult =
  | { readonly ok: true; readonly verdicts: readonly HookVerdict[] }
  | { readonly ok: false; readonly error: string };

/** One push, whatever the source said it in. */
export interface PushNotice {
  readonly isPush: boolean;
  readonly action: string;
  readonly host: string | undefined;
  readonly repository: string;
  readonly tag: string | undefined;
  readonly claimedDigest: string | undefined;
}

export interface HookMatcher {
  match(notice: PushNotice): HookVerdict;
}

interface WatchedRepository {
  readonly runtime: string;
  readonly tag: string;
}

/**
 * Matches notices against the watched references: same registry host as `registryHost()`,
 * repository `<prefix path>/workspace-template-<runtime>` of a watched runtime, its tag.
 */
export function createHookMatcher(options: {
  registryHost: string;
  registryPrefix: string;
  targets: readonly WatchTarget[];
}): HookMatcher {
  const host = normalizeHost(options.registryHost);
  const prefixPath = parseRegistryPrefix(options.registryPrefix).path;
  const templatePrefix =
    prefixPath === '' ? TEMPLATE_REPOSITORY_PREFIX : `${prefixPath}/${TEMPLATE_REPOSITORY_PREFIX}`;
  const byRepository = new Map<string, WatchedRepository>();
  for (const target of options.targets) {
    const reference = parseImageReference(target.image);
    byRepository.set(reference.path, { runtime: target.runtime, tag: reference.tag ?? 'latest' });
  }

  return {
    match(notice) {
      const { repository, tag } = notice;
      const where = { repository, ...(tag === undefined ? {} : { tag }) };
      if (!notice.isPush) {
        return {
          outcome: 'ignored',
          reason: 'action',
          detail: `action ${notice.action}`,
          ...where,
        };
      }
      const noticeHost = notice.host === undefined ? undefined : normalizeHost(notice.host);
      if (noticeHost !== host) {
        return {
          outcome: 'ignored',
          reason: 'registry',
          detail: `registry ${notice.host ?? '(none)'} is not ${options.registryHost}`,
          ...where,
        };
      }
      const watched = byRepository.get(repository);
      if (watched === undefined) {
        const isTemplate =
          repository.startsWith(templatePrefix) &&
          !repository.slice(templatePrefix.length).includes('/');
        return isTemplate
          ? {
              outcome: 'ignored',
              reason: 'not_watched',
              detail: `runtime ${repository.slice(templatePrefix.length)} is not watched`,
              ...where,
            }
          : {
              outcome: 'ignored',
              reason: 'repository',
              detail: `repository ${repository} is not ${templatePrefix}<runtime>`,
              ...where,
            };
      }
      if (tag !== watched.tag) {
        return {
          outcome: 'ignored',
          reason: 'tag',
          detail: tag === undefined ? 'no tag (a blob or a push by digest)' : `tag ${tag}`,
          ...where,
        };
      }
      return {
        outcome: 'accepted',
        runtime: watched.runtime,
        repository,
        tag,
        claimedDigest: notice.claimedDigest,
      };
    },
  };
}

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

/** GitHub actions that mean "a version (tag) now points at something new". */
const GITHUB_PUSH_ACTIONS = new Set(['published', 'updated']);

/**
 * A GitHub delivery (`X-GitHub-Event` and the JSON body) → its verdict, or a 400 reason.
 * Events other than `package`/`registry_package` are acknowledged and ignored.
 */
export function parseGitHubDelivery(
  event: string | undefined,
  body: unknown,
  matcher: HookMatcher,
): HookParseResult {
  let pkg: GitHubPackage;
  let action: string;
  if (event === 'package') {
    const parsed = GitHubPackageEvent.safeParse(body);
    if (!parsed.success)
      return { ok: false, error: describeIssue('a GitHub package event', parsed.error) };
    ({ action, package: pkg } = parsed.data);
  } else if (event === 'registry_package') {
    const parsed = GitHubRegistryPackageEvent.safeParse(body);
    if (!parsed.success)
      return { ok: false, error: describeIssue('a GitHub registry_package event', parsed.error) };
    ({ action, registry_package: pkg } = parsed.data);
  } else {
    return {
      ok: true,
      verdicts: [{ outcome: 'ignored', reason: 'event', detail: `event ${event ?? '(none)'}` }],
    };
  }

  const url = splitPackageUrl(pkg.package_version?.package_url);
  const repository = `${pkg.owner.login}/${pkg.name}`.toLowerCase();
  const tag = pkg.package_version?.container_metadata?.tag?.name || url.tag || undefined;
  if (pkg.package_type.toLowerCase() !== 'container') {
    return {
      ok: true,
      verdicts: [
        {
          outcome: 'ignored',
          reason: 'package_type',
          detail: `package type ${pkg.package_type}`,
          repository,
        },
      ],
    };
  }
  const verdict = matcher.match({
    isPush: GITHUB_PUSH_ACTIONS.has(action),
    action,
    // GitHub package webhooks are GHCR's; package_url names the host when present.
    host: url.host ?? GITHUB_CONTAINER_REGISTRY_HOST,
    repository,
    tag,
    claimedDigest:
      pkg.package_version?.container_metadata?.tag?.digest ??
      pkg.package_version?.version ??
      undefined,
  });
  return { ok: true, verdicts: [verdict] };
}

/** `<github registry host>/owner/name:tag` → its host and tag (either may be absent). */
function splitPackageUrl(url: string | null | undefined): { host?: string; tag?: string } {
  if (!url) return {};
  try {
    const reference = parseImageReference(url);
    return {
      host: reference.domain,
      ...(reference.tag === undefined ? {} : { tag: reference.tag }),
    };
  } catch {
    return {};
  }
}

/** Host names compare case-insensitively; an explicit default https/http port is the same host. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/:(443|80)$/, '');
}

/** The first schema issue as a 400 message: `not <what> at <path>: <message>`. */
export function describeIssue(what: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return `not ${what}`;
  const path = issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
  return `not ${what}${path}: ${issue.message}`;
}
