/**
 * Matches registry push notices, whatever format they came in, against what imagewatch
 * watches: pure, no I/O. The body's digest is never trusted; a match only says "check this
 * runtime now", the registry client then asks the registry itself.
 *
 * Formats: formats/distribution.ts, formats/github.ts, formats/harbor.ts; telling the bearer
 * formats apart: formats/bearer.ts.
 */
import { parseImageReference, type Runtime, TEMPLATE_REPOSITORY_PREFIX } from '@molecule/registry';
import type { WatchTarget } from '../config.js';

/** `source` label of `imagewatch_hook_events_total`: who sent the notification. */
export type HookSource = 'distribution' | 'github' | 'harbor';

export type IgnoreReason =
  /** A GitHub event that is not about packages (`ping`, `push`, ...). */
  | 'event'
  /** Not a push (`pull`, `delete`, `mount`; a GitHub action other than published/updated). */
  | 'action'
  /** A GitHub package that is not a container image (npm, maven, ...). */
  | 'package_type'
  /** A repository whose last path component is not `workspace-template-<runtime>`. */
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

interface WatchedTemplate {
  readonly runtime: Runtime;
  readonly tag: string;
}

/**
 * Matches notices against the watched references by the repository's last path component,
 * exactly `workspace-template-<runtime>` of a watched runtime, and its tag (`latest`),
 * whichever registry host or organisation the notice names (SPEC "apps/imagewatch"): a GitHub
 * package event for the upstream image once `MOLECULE_IMAGE_REGISTRY` points at a mirror, or a
 * notification from a registry behind a proxy that rewrites `Host`, still triggers the check of
 * the configured reference. That costs one `HEAD` and trusts nothing in the body.
 */
export function createHookMatcher(options: { targets: readonly WatchTarget[] }): HookMatcher {
  const byTemplate = new Map<string, WatchedTemplate>();
  for (const target of options.targets) {
    const reference = parseImageReference(target.image);
    byTemplate.set(`${TEMPLATE_REPOSITORY_PREFIX}${target.runtime}`, {
      runtime: target.runtime,
      tag: reference.tag ?? 'latest',
    });
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
      const last = repository.slice(repository.lastIndexOf('/') + 1);
      const watched = byTemplate.get(last);
      if (watched === undefined) {
        return last.startsWith(TEMPLATE_REPOSITORY_PREFIX)
          ? {
              outcome: 'ignored',
              reason: 'not_watched',
              detail: `runtime ${last.slice(TEMPLATE_REPOSITORY_PREFIX.length)} is not watched`,
              ...where,
            }
          : {
              outcome: 'ignored',
              reason: 'repository',
              detail: `repository ${repository} is not .../${TEMPLATE_REPOSITORY_PREFIX}<runtime>`,
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
