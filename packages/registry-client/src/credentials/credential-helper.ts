import { execFile } from 'node:child_process';
import { z } from 'zod';
import { RegistryError } from '../errors.js';
import { normalizeRegistryHost } from '../host-key.js';
import type { Env, RegistryCredential } from '../types.js';

/**
 * What `docker-credential-<name> get` prints.
 * Protocol: https://github.com/docker/docker-credential-helpers#development
 */
export const HelperCredentialSchema = z.object({
  ServerURL: z.string().optional(),
  Username: z.string(),
  Secret: z.string(),
});
export type HelperCredential = z.infer<typeof HelperCredentialSchema>;

/** A helper answering this user name hands out an identity (refresh) token. */
const IDENTITY_TOKEN_USERNAME = '<token>';

export interface CredentialHelperRequest {
  /** Helper name: runs `docker-credential-<name>`. */
  readonly helper: string;
  readonly host: string;
  /** The helper's environment; `PATH` from here finds the helper. */
  readonly env: Env;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Runs `docker-credential-<helper> get` with the server URL on stdin. `undefined` when the
 * helper has nothing for this host; a CONFIG error when it is missing or fails.
 */
export function getHelperCredential(
  request: CredentialHelperRequest,
): Promise<RegistryCredential | undefined> {
  const command = `docker-credential-${request.helper}`;
  const serverUrl =
    normalizeRegistryHost(request.host) === 'docker.io'
      ? 'https://index.docker.io/v1/'
      : request.host;
  const fail = (hint: string, cause?: unknown, code: 'CONFIG' | 'TIMEOUT' = 'CONFIG') =>
    new RegistryError({
      code,
      method: 'EXEC',
      target: `${command} get`,
      host: request.host,
      hint,
      ...(cause === undefined ? {} : { cause: sanitize(cause) }),
    });

  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      ['get'],
      {
        env: { ...request.env },
        timeout: request.timeoutMs,
        maxBuffer: 64 * 1024,
        windowsHide: true,
        ...(request.signal ? { signal: request.signal } : {}),
      },
      (error, stdout) => {
        if (request.signal?.aborted) {
          reject(request.signal.reason);
          return;
        }
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            reject(
              fail(
                `${command} not found on PATH; install it, or remove "${request.helper}" from credsStore/credHelpers in the Docker config`,
              ),
            );
            return;
          }
          if ((error as { killed?: boolean }).killed) {
            reject(
              fail(
                `no answer within ${request.timeoutMs} ms; check the helper (is a keychain prompt waiting?)`,
                undefined,
                'TIMEOUT',
              ),
            );
            return;
          }
          if (/credentials not found/i.test(stdout)) {
            resolve(undefined);
            return;
          }
          reject(
            fail(
              `the helper failed (exit ${String(code)}); run "echo ${serverUrl} | ${command} get" to see why`,
            ),
          );
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          reject(fail('the helper printed something that is not JSON'));
          return;
        }
        const parsed = HelperCredentialSchema.safeParse(json);
        if (!parsed.success) {
          reject(fail('the helper answered without Username/Secret'));
          return;
        }
        const { Username, Secret } = parsed.data;
        if (!Secret) {
          resolve(undefined);
          return;
        }
        resolve(
          Username === IDENTITY_TOKEN_USERNAME
            ? {
                kind: 'identity-token',
                username: '',
                identityToken: Secret,
                source: 'credential-helper',
              }
            : { kind: 'basic', username: Username, password: Secret, source: 'credential-helper' },
        );
      },
    );
    child.stdin?.on('error', () => undefined); // a helper that exits early closes stdin
    child.stdin?.end(serverUrl);
  });
}

/** Errors from execFile carry stdout/stderr, which may hold a secret: keep only the basics. */
function sanitize(error: unknown): Error {
  const err = error as NodeJS.ErrnoException;
  const clean = new Error(err.message?.split('\n')[0] ?? 'helper error');
  if (err.code !== undefined) Object.assign(clean, { code: err.code });
  return clean;
}
