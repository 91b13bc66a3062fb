/**
 * GitHub `package` and `registry_package` webhooks (GHCR), parsed at the boundary and
 * matched: pure, no I/O. The signature is checked before (github-signature.ts).
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#package
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#registry_package
 */
import { GITHUB_CONTAINER_REGISTRY_HOST, parseImageReference } from '@molecule/registry';
import { z } from 'zod';
import type { HookMatcher, HookParseResult } from '../matcher.js';
import { describeIssue } from './schema-issue.js';

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
