/**
 * One spelling per registry host so lookups agree: lower case, no scheme, no path, and the
 * Docker Hub aliases folded into `docker.io`.
 *
 * @example normalizeRegistryHost('https://index.docker.io/v1/') // → 'docker.io'
 */
export function normalizeRegistryHost(value: string): string {
  let host = value.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  const slash = host.indexOf('/');
  if (slash !== -1) host = host.slice(0, slash);
  if (DOCKER_HUB_ALIASES.has(host)) return 'docker.io';
  return host;
}

const DOCKER_HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** The host the Docker Hub API actually answers on. */
export function apiHostFor(host: string): string {
  return normalizeRegistryHost(host) === 'docker.io' ? 'registry-1.docker.io' : host;
}
