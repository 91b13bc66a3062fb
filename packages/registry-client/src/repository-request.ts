import type { Authenticator, Authorization, RegistryTarget } from './auth.js';
import { errorForResponse, type ResponseContext } from './status-errors.js';
import type { Transport, TransportResponse } from './transport.js';

/** One repository of one registry, and what every request to it needs. */
export interface RepositoryScope {
  readonly transport: Transport;
  readonly authenticator: Authenticator;
  readonly target: RegistryTarget;
  /** The repository path, e.g. `molecule-ai/workspace-template-langgraph`. */
  readonly repository: string;
  readonly signal: AbortSignal;
}

export interface RepositoryRequest {
  readonly method: 'HEAD' | 'GET';
  /** After `/v2/<repository>/`: `manifests/latest`, `blobs/sha256:…`, `referrers/sha256:…`. */
  readonly resource: string;
  readonly accept?: string;
  readonly kind: Extract<ResponseContext['kind'], 'manifest' | 'blob' | 'referrers'>;
  readonly maxBodyBytes: number;
  /** `repository:tag` or `repository@digest`, for messages. */
  readonly reference: string;
  /** Statuses returned as values; any other is a typed error. Default: 200 only. */
  readonly okStatuses?: ReadonlySet<number>;
}

const OK_ONLY: ReadonlySet<number> = new Set([200]);

/**
 * `<method> /v2/<repository>/<resource>` with the authorization the registry's challenge
 * asks for (`repository:<path>:pull`); a 401 learns the challenge and tries once more with
 * fresh auth. A status outside `okStatuses` becomes the typed error for it.
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pull
 */
export async function sendAuthorized(
  scope: RepositoryScope,
  request: RepositoryRequest,
): Promise<{ response: TransportResponse; auth: Authorization }> {
  const authScope = `repository:${scope.repository}:pull`;
  const url = new URL(`/v2/${scope.repository}/${request.resource}`, scope.target.origin);
  const send = (auth: Authorization) =>
    scope.transport.send({
      method: request.method,
      url,
      headers: {
        ...(request.accept === undefined ? {} : { accept: request.accept }),
        ...(auth.header === undefined ? {} : { authorization: auth.header }),
      },
      kind: request.kind,
      maxBodyBytes: request.maxBodyBytes,
      signal: scope.signal,
    });

  let auth = await scope.authenticator.authorize(scope.target, authScope, {
    signal: scope.signal,
  });
  let response = await send(auth);
  if (response.status === 401) {
    const learned = scope.authenticator.learn(scope.target, response.headers['www-authenticate']);
    // Another attempt helps when we sent nothing, or a cached token that may have gone stale.
    const worthRetry = learned && (auth.header === undefined || auth.token !== undefined);
    if (worthRetry) {
      auth = await scope.authenticator.authorize(scope.target, authScope, {
        signal: scope.signal,
        ...(auth.token === undefined ? {} : { refusedToken: auth.token }),
      });
      if (auth.header !== undefined) response = await send(auth);
    }
  }
  if (!(request.okStatuses ?? OK_ONLY).has(response.status)) {
    throw errorForResponse(response, {
      method: request.method,
      registryHost: scope.target.host,
      kind: request.kind,
      credential: auth.credential,
      reference: request.reference,
    });
  }
  return { response, auth };
}

/** `repository:tag` or `repository@digest`, as messages name what was asked for. */
export function describeReference(repository: string, reference: string): string {
  return `${repository}${reference.includes(':') ? '@' : ':'}${reference}`;
}
