/**
 * One host's part of a rollout: ask its admin-api to refresh the runtime to the digest
 * (`digest=`, with the epoch as `X-Rollout-Epoch`), then check that its
 * `GET /admin/workspace-images` shows that digest locally: only then is the host done.
 */
import type { AdminClient } from '../admin-client/client.js';
import { type AdminCallError, isAdminCallError } from '../errors.js';
import type { Rollout } from './rollout.js';

export type HostRefreshOutcome =
  | { readonly kind: 'done'; readonly recreated: readonly string[]; readonly refreshed: boolean }
  | { readonly kind: 'failed'; readonly error: string; readonly code: string }
  /** admin-api has accepted a newer leader's epoch: this process must stop acting. */
  | { readonly kind: 'stale-epoch'; readonly error: string }
  | { readonly kind: 'aborted' };

export interface HostRefreshRequest {
  readonly rollout: Rollout;
  readonly client: Pick<AdminClient, 'refresh' | 'listImages'>;
  readonly epoch: number | undefined;
  /**
   * Check the host first and skip the refresh when it already shows the digest: for a retry
   * after a timeout (admin-api may have finished the first call) and for the host that was in
   * flight when the previous process stopped.
   */
  readonly checkFirst: boolean;
  readonly signal: AbortSignal;
}

export async function refreshHost(request: HostRefreshRequest): Promise<HostRefreshOutcome> {
  const { rollout, client, signal } = request;
  try {
    if (request.checkFirst && (await showsDigest(request))) {
      return { kind: 'done', recreated: [], refreshed: false };
    }
    const result = await client.refresh(rollout.runtime, {
      recreate: true,
      digest: rollout.to,
      ...(request.epoch === undefined ? {} : { epoch: request.epoch }),
      signal,
    });
    if (!result.pulled.includes(rollout.runtime) || result.failed.includes(rollout.runtime)) {
      const detail = (result.errors ?? [])
        .map((e) => [e.code, e.message].filter(Boolean).join(': '))
        .join('; ');
      return {
        kind: 'failed',
        code: 'REFRESH_FAILED',
        error: `admin-api could not pull ${rollout.to}${detail ? ` (${detail})` : ''}`,
      };
    }
    if (!(await showsDigest(request))) {
      return {
        kind: 'failed',
        code: 'NOT_ON_DIGEST',
        error: `admin-api answered, but its workspace images do not show ${rollout.to} for ${rollout.runtime}`,
      };
    }
    return { kind: 'done', recreated: result.recreated, refreshed: true };
  } catch (error) {
    if (signal.aborted) return { kind: 'aborted' };
    if (!isAdminCallError(error)) throw error;
    return fromCallError(error);
  }
}

async function showsDigest(request: HostRefreshRequest): Promise<boolean> {
  const images = await request.client.listImages({ signal: request.signal });
  const entry = images.find((image) => image.runtime === request.rollout.runtime);
  return entry?.local?.digest === request.rollout.to;
}

function fromCallError(error: AdminCallError): HostRefreshOutcome {
  if (error.code === 'ADMIN_STALE_EPOCH') return { kind: 'stale-epoch', error: error.message };
  if (error.code === 'ADMIN_ABORTED') return { kind: 'aborted' };
  return { kind: 'failed', code: error.code, error: error.message };
}
