import { type Env, REGISTRY_VARIABLE } from './env.js';
import { RegistryConfigError } from './errors.js';
import { NAME_TOTAL_LENGTH_MAX, PATH_COMPONENT, PATH_COMPONENT_ANY_CASE } from './grammar.js';
import { looksLikeRegistryHost, parseRegistryHost } from './host.js';
import { KNOWN_RUNTIMES, TEMPLATE_REPOSITORY_PREFIX } from './runtimes.js';

/** GitHub's container registry: the default home of the images, and the only registry GitHub package webhooks speak of. */
export const GITHUB_CONTAINER_REGISTRY_HOST = 'ghcr.io';

/** Where workspace template images live unless `MOLECULE_IMAGE_REGISTRY` says otherwise. */
export const DEFAULT_REGISTRY_PREFIX = `${GITHUB_CONTAINER_REGISTRY_HOST}/molecule-ai`;

const EXPECTED_PREFIX =
  '<host>[:port]/<path>, e.g. 123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai';

/** A validated registry prefix split into its registry host and repository path. */
export interface RegistryPrefix {
  /** The whole prefix, normalised (no surrounding whitespace, no trailing `/`). */
  readonly prefix: string;
  /** `host[:port]`, e.g. `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`. Never empty. */
  readonly host: string;
  /** The path under the host (`molecule-ai`, `org/sub`), `''` for a bare host. */
  readonly path: string;
}

/** The longest image name any prefix must leave room for (`/workspace-template-<runtime>`). */
const LONGEST_SUFFIX = Math.max(
  ...KNOWN_RUNTIMES.map((runtime) => `/${TEMPLATE_REPOSITORY_PREFIX}${runtime}`.length),
);

/**
 * Parses and validates a registry prefix value. Surrounding whitespace and trailing `/` are
 * forgiven; an unset or blank value yields the default. Everything else that is not
 * `<host>[:port][/<path>]` throws `RegistryConfigError` naming `variable` and the value.
 *
 * @example parseRegistryPrefix(' 127.0.0.1:5000/acme/ ') // { prefix: '127.0.0.1:5000/acme', host: '127.0.0.1:5000', path: 'acme' }
 */
export function parseRegistryPrefix(
  value: string | undefined,
  variable: string = REGISTRY_VARIABLE,
): RegistryPrefix {
  const fail = (reason: string): never => {
    throw new RegistryConfigError({
      variable,
      value: value ?? '',
      reason,
      expected: EXPECTED_PREFIX,
      description: 'a registry prefix',
    });
  };
  const trimmed = (value ?? '').trim();
  if (trimmed === '') return splitPrefix(DEFAULT_REGISTRY_PREFIX);
  const prefix = trimmed.replace(/\/+$/, '');
  if (prefix === '')
    return fail('it is only slashes; the first component must be the registry host');
  if (/\s/.test(prefix)) return fail('remove the whitespace inside it');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(prefix)) return fail('remove the scheme');
  if (prefix.startsWith('/'))
    return fail('it starts with "/"; the first component must be the registry host');
  const segments = prefix.split('/');
  if (segments.some((segment) => segment === ''))
    return fail('it has an empty path segment ("//")');
  if (prefix.includes('@')) return fail('a digest ("@...") does not belong in a prefix');
  const [host = '', ...pathSegments] = segments;
  const tagged = pathSegments.find((segment) => segment.includes(':'));
  if (tagged !== undefined) {
    return fail(`a tag ("${tagged.slice(tagged.indexOf(':'))}") does not belong in a prefix`);
  }
  if (!looksLikeRegistryHost(host)) {
    return fail(
      `the first component "${host}" is not a registry host (it needs a "." or ":" or to be "localhost"); write a Docker Hub organisation as docker.io/${host.toLowerCase()}`,
    );
  }
  const parsedHost = parseRegistryHost(host);
  if (typeof parsedHost === 'string') return fail(parsedHost);
  if ((host === 'docker.io' || host === 'index.docker.io') && pathSegments.length === 0) {
    return fail('name the Docker Hub organisation, e.g. docker.io/<org>');
  }
  for (const segment of pathSegments) {
    if (PATH_COMPONENT.test(segment)) continue;
    if (PATH_COMPONENT_ANY_CASE.test(segment)) {
      return fail(`uppercase in the path ("${segment}"); repository paths are lowercase`);
    }
    return fail(
      `path component "${segment}" is invalid (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
    );
  }
  if (prefix.length + LONGEST_SUFFIX > NAME_TOTAL_LENGTH_MAX) {
    return fail(`it is too long: image names would exceed ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  return splitPrefix(prefix);
}

function splitPrefix(prefix: string): RegistryPrefix {
  const slash = prefix.indexOf('/');
  return slash < 0
    ? { prefix, host: prefix, path: '' }
    : { prefix, host: prefix.slice(0, slash), path: prefix.slice(slash + 1) };
}

/**
 * The workspace image registry prefix: `MOLECULE_IMAGE_REGISTRY` trimmed of whitespace and
 * trailing `/`, or `ghcr.io/molecule-ai` when unset or blank. Throws `RegistryConfigError`
 * on a value that is not a registry prefix.
 *
 * @example registryPrefix({ MOLECULE_IMAGE_REGISTRY: 'localhost:5000/acme/' }) // 'localhost:5000/acme'
 */
export function registryPrefix(env: Env = process.env): string {
  return parseRegistryPrefix(env[REGISTRY_VARIABLE]).prefix;
}

/**
 * The registry's `host[:port]` from the prefix: never empty, never the org path.
 *
 * @example registryHost({ MOLECULE_IMAGE_REGISTRY: 'git.example.com:3000/org/sub' }) // 'git.example.com:3000'
 */
export function registryHost(env: Env = process.env): string {
  return parseRegistryPrefix(env[REGISTRY_VARIABLE]).host;
}
