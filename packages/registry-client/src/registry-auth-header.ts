import type { RegistryCredential } from './types.js';

/**
 * The Docker engine's `X-Registry-Auth` header value for a pull from `host`, or `undefined`
 * when anonymous (send no header then).
 *
 * The engine decodes it with Go's `base64.URLEncoding`, which keeps `=` padding; Node's
 * `base64url` drops it, and the engine silently pulls anonymously when it cannot decode the
 * header. So: standard base64, then the URL alphabet, padding kept.
 * Identity tokens travel as `identitytoken`, never as a password.
 *
 * @example
 * dockerRegistryAuth('registry.example.com', { kind: 'basic', username: 'u', password: 'p', source: 'env' })
 * // → 'eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAiLCJzZXJ2ZXJhZGRyZXNzIjoiZ2hjci5pbyJ9'
 */
export function dockerRegistryAuth(
  host: string,
  credential: RegistryCredential,
): string | undefined {
  switch (credential.kind) {
    case 'anonymous':
      return undefined;
    case 'basic':
      return goUrlBase64(
        JSON.stringify({
          username: credential.username,
          password: credential.password,
          serveraddress: host,
        }),
      );
    case 'identity-token':
      return goUrlBase64(
        JSON.stringify({
          username: credential.username,
          identitytoken: credential.identityToken,
          serveraddress: host,
        }),
      );
  }
}

/** Go's `base64.URLEncoding`: URL alphabet, `=` padding kept. */
export function goUrlBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}
