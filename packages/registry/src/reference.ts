import { ImageReferenceError } from './errors.js';
import {
  DOMAIN_AND_PORT,
  digestProblem,
  IDENTIFIER,
  NAME_TOTAL_LENGTH_MAX,
  PATH_COMPONENT,
  PATH_COMPONENT_ANY_CASE,
  TAG,
} from './grammar.js';
import { looksLikeRegistryHost } from './host.js';
import { isKnownRuntime, type Runtime, TEMPLATE_REPOSITORY_PREFIX } from './runtimes.js';

/**
 * A parsed, normalised image reference. `tag` and `digest` are present only when written:
 * a reference without a tag has no `tag` (callers decide what `latest` means).
 */
export interface ImageReference {
  /** Registry `host[:port]`; `docker.io` for Docker Hub names. */
  domain: string;
  /** Repository path under the domain; Docker Hub official images get `library/`. */
  path: string;
  tag?: string;
  digest?: string;
}

/** Docker Hub's canonical domain, and its legacy alias normalised to it. */
const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_LEGACY = 'index.docker.io';
const OFFICIAL_NAMESPACE = 'library/';

/**
 * Parses a reference with the distribution grammar and Docker's normalisation
 * (`busybox` → `docker.io/library/busybox`, `index.docker.io` → `docker.io`).
 * Throws `ImageReferenceError` (code `INVALID_REFERENCE`) for anything else.
 * Spec: https://github.com/distribution/reference (reference.go, normalize.go)
 *
 * @example parseImageReference('localhost:5000/acme/app:v1') // { domain: 'localhost:5000', path: 'acme/app', tag: 'v1' }
 */
export function parseImageReference(ref: string): ImageReference {
  const fail = (reason: string): never => {
    throw new ImageReferenceError(ref, reason);
  };
  if (ref === '') return fail('it is empty');
  if (IDENTIFIER.test(ref)) return fail('a 64-hex image ID is not a repository name');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem !== undefined) fail(`invalid digest: ${problem}`);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      fail(
        `invalid tag "${tag}" (a word character, then up to 127 of word characters, "." and "-")`,
      );
    }
  }
  if (rest === '') return fail('the repository name is missing');

  const { domain, path } = splitDomain(rest);
  if (!DOMAIN_AND_PORT.test(domain)) fail(`invalid registry host "${domain}"`);
  for (const component of path.split('/')) {
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT_ANY_CASE.test(component)) {
      fail(`repository name must be lowercase ("${component}")`);
    }
    fail(
      component === ''
        ? 'empty path component'
        : `invalid path component "${component}" (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
    );
  }
  const nameLength = domain.length + 1 + path.length;
  if (nameLength > NAME_TOTAL_LENGTH_MAX) {
    fail(`repository name is ${nameLength} characters, more than ${NAME_TOTAL_LENGTH_MAX}`);
  }

  const parsed: ImageReference = { domain, path };
  if (tag !== undefined) parsed.tag = tag;
  if (digest !== undefined) parsed.digest = digest;
  return parsed;
}

/**
 * Docker's domain detection: the first component is a registry host when it contains `.` or
 * `:`, is `localhost`, or has uppercase letters (namespaces are lowercase); otherwise Docker Hub.
 */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  if (slash < 0) return { domain: DOCKER_HUB, path: OFFICIAL_NAMESPACE + name };
  const first = name.slice(0, slash);
  const remainder = name.slice(slash + 1);
  let domain = DOCKER_HUB;
  let path = name;
  if (first === DOCKER_HUB_LEGACY) {
    path = remainder;
  } else if (looksLikeRegistryHost(first) || first.toLowerCase() !== first) {
    domain = first;
    path = remainder;
  }
  if (domain === DOCKER_HUB && !path.includes('/')) path = OFFICIAL_NAMESPACE + path;
  return { domain, path };
}

/**
 * Formats a reference back to `domain/path[:tag][@digest]`.
 *
 * @example formatImageReference({ domain: 'ghcr.io', path: 'acme/app', tag: 'v1' }) // 'ghcr.io/acme/app:v1'
 */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/**
 * The runtime whose template image `ref` names: its last path component is exactly
 * `workspace-template-<runtime>` for a known runtime, on any registry or prefix, with a tag,
 * a digest or neither. `undefined` for anything else, including unparsable references.
 *
 * @example runtimeOfImage('127.0.0.1:5000/acme/workspace-template-codex:v2') // 'codex'
 */
export function runtimeOfImage(ref: string): Runtime | undefined {
  let parsed: ImageReference;
  try {
    parsed = parseImageReference(ref);
  } catch {
    return undefined;
  }
  const last = parsed.path.slice(parsed.path.lastIndexOf('/') + 1);
  if (!last.startsWith(TEMPLATE_REPOSITORY_PREFIX)) return undefined;
  const runtime = last.slice(TEMPLATE_REPOSITORY_PREFIX.length);
  return isKnownRuntime(runtime) ? runtime : undefined;
}
