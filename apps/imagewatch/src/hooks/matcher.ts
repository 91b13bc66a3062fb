/**
 * Matches registry push notices, whatever format they came in, against what imagewatch
 * watches: pure, no I/O. The body's digest is never trusted; a match only says "check this
 * runtime now", the registry client then asks the registry itself.
 *
 * Formats: formats/distribution.ts, formats/github.ts, formats/harbor.ts; telling the bearer
 * formats apart: formats/bearer.ts.
 */
import {
  parseImageReference,
  parseRegistryPrefix,
  TEMPLATE_REPOSITORY_PREFIX,
} from '@molecule/registry';
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

/** Host names compare case-insensitively; an explicit default https/http port is the same host. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/:(443|80)$/, '');
}
