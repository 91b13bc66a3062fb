/**
 * admin-api over HTTP (undici): `POST /admin/workspace-images/refresh` and
 * `GET /admin/workspace-images`, both with `Authorization: Bearer <MOLECULE_ADMIN_TOKEN>`.
 * Every failure is an `AdminCallError` with a stable code; answers are parsed by schemas.
 */
import { createDeadline } from '@molecule/service-kit';
import { Agent, type Dispatcher, errors as undiciErrors } from 'undici';
import { AdminCallError, type AdminCallErrorCode } from '../errors.js';
import {
  ErrorBodySchema,
  type RefreshResult,
  RefreshResultSchema,
  type WorkspaceImage,
  WorkspaceImagesSchema,
} from './schemas.js';

export type { RefreshResult, WorkspaceImage } from './schemas.js';

export interface RefreshOptions {
  readonly recreate?: boolean;
  /** Pull exactly this digest and tag it as the runtime's `:latest` (admin-api's `digest=`). */
  readonly digest?: string;
  /** Sent as `X-Rollout-Epoch`: admin-api refuses an epoch lower than one it has accepted. */
  readonly epoch?: number;
  readonly signal?: AbortSignal;
}

export interface AdminClient {
  refresh(runtime: string, options?: RefreshOptions): Promise<RefreshResult>;
  listImages(options?: { signal?: AbortSignal }): Promise<WorkspaceImage[]>;
  close(): Promise<void>;
}

export interface AdminClientOptions {
  baseUrl: string;
  token: string | undefined;
  /** Upper bound of one refresh (admin-api answers when every pull is done). Default 15 min. */
  refreshTimeoutMs?: number;
  /** Upper bound of one listing. Default 30 s. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  dispatcher?: Dispatcher;
}

const MAX_BODY_BYTES = 1024 * 1024;

export function createAdminClient(options: AdminClientOptions): AdminClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const origin = new URL(base).origin;
  const basePath = new URL(base).pathname.replace(/\/+$/, '');
  const refreshTimeoutMs = options.refreshTimeoutMs ?? 15 * 60_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const ownDispatcher =
    options.dispatcher === undefined
      ? new Agent({
          connect: { timeout: options.connectTimeoutMs ?? 10_000 },
          keepAliveTimeout: 30_000,
        })
      : undefined;
  const dispatcher = options.dispatcher ?? ownDispatcher!;

  async function call(
    method: 'GET' | 'POST',
    path: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    extraHeaders: Record<string, string> = {},
  ): Promise<unknown> {
    const url = `${base}${path}`;
    const fail = (
      code: AdminCallErrorCode,
      reason: string,
      extra: { status?: number; remoteCode?: string } = {},
      cause?: unknown,
    ) =>
      new AdminCallError(
        code,
        { method, url, path, reason, ...extra },
        cause === undefined ? undefined : { cause },
      );
    if (options.token === undefined) {
      throw fail('ADMIN_UNAUTHORIZED', 'MOLECULE_ADMIN_TOKEN is not set');
    }
    const deadline = createDeadline(timeoutMs, signal);
    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await dispatcher.request({
          origin,
          path: `${basePath}${path}`,
          method,
          headers: {
            ...extraHeaders,
            authorization: `Bearer ${options.token}`,
            accept: 'application/json',
          },
          signal: deadline.signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (error) {
        if (signal?.aborted) throw fail('ADMIN_ABORTED', 'aborted', {}, stripCause(error));
        if (deadline.timedOut || error instanceof undiciErrors.HeadersTimeoutError) {
          throw fail('ADMIN_TIMEOUT', `no answer within ${timeoutMs} ms`, {}, stripCause(error));
        }
        throw fail('ADMIN_NETWORK', describeNetworkError(error), {}, stripCause(error));
      }

      const status = response.statusCode;
      let text: string;
      try {
        text = await readLimited(response.body);
      } catch (error) {
        if (signal?.aborted) throw fail('ADMIN_ABORTED', 'aborted', { status });
        if (deadline.timedOut) throw fail('ADMIN_TIMEOUT', `no answer within ${timeoutMs} ms`);
        throw fail('ADMIN_BAD_RESPONSE', (error as Error).message, { status });
      }
      if (status >= 300) {
        const body = errorBody(text);
        const extra = { status, ...(body.code === undefined ? {} : { remoteCode: body.code }) };
        if (status === 401 || status === 403) {
          throw fail('ADMIN_UNAUTHORIZED', 'admin-api rejected MOLECULE_ADMIN_TOKEN', extra);
        }
        if (status === 409 && body.code === 'STALE_EPOCH') {
          throw fail('ADMIN_STALE_EPOCH', body.error ?? 'stale rollout epoch', extra);
        }
        if (status === 400 || status === 409) {
          throw fail('ADMIN_BAD_REQUEST', body.error ?? 'bad request', extra);
        }
        if (status === 503 || status === 429) {
          throw fail('ADMIN_UNAVAILABLE', body.error ?? 'unavailable', extra);
        }
        throw fail('ADMIN_SERVER_ERROR', body.error ?? 'server error', extra);
      }
      try {
        return JSON.parse(text);
      } catch {
        throw fail('ADMIN_BAD_RESPONSE', 'response is not JSON', { status });
      }
    } finally {
      deadline.clear();
    }
  }

  function badShape(method: string, path: string, reason: string): AdminCallError {
    return new AdminCallError('ADMIN_BAD_RESPONSE', {
      method,
      url: `${base}${path}`,
      path,
      status: 200,
      reason,
    });
  }

  return {
    async refresh(runtime, { recreate = true, digest, epoch, signal } = {}) {
      const query = new URLSearchParams({
        runtime,
        recreate: String(recreate),
        ...(digest === undefined ? {} : { digest }),
      });
      const path = `/admin/workspace-images/refresh?${query}`;
      const headers = epoch === undefined ? {} : { 'x-rollout-epoch': String(epoch) };
      const parsed = RefreshResultSchema.safeParse(
        await call('POST', path, refreshTimeoutMs, signal, headers),
      );
      if (!parsed.success) throw badShape('POST', path, 'unexpected refresh result shape');
      return parsed.data;
    },
    async listImages({ signal } = {}) {
      const path = '/admin/workspace-images';
      const body = await call('GET', path, requestTimeoutMs, signal);
      // Accept a bare array or an `{ images: [...] }` wrapper.
      const list = Array.isArray(body) ? body : (body as { images?: unknown } | null)?.images;
      const parsed = WorkspaceImagesSchema.safeParse(list);
      if (!parsed.success) throw badShape('GET', path, 'unexpected workspace image list shape');
      return parsed.data;
    },
    async close() {
      await ownDispatcher?.close();
    },
  };
}

async function readLimited(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new Error(`response larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The `{ error, code }` of an error answer, when it is one; the message cut to 300 chars. */
function errorBody(text: string): { error?: string; code?: string } {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      return {
        error: parsed.data.error.slice(0, 300),
        ...(parsed.data.code === undefined ? {} : { code: parsed.data.code }),
      };
    }
  } catch {
    // not JSON: no details
  }
  return {};
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: { code?: unknown } }).cause?.code;
  return String(cause ?? code ?? (error as Error).message ?? 'network error');
}

/** Undici errors can carry request options (with the Authorization header); keep only a summary. */
function stripCause(error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  const summary = new Error(error instanceof Error ? error.message : String(error));
  if (typeof code === 'string') Object.assign(summary, { code });
  return summary;
}
