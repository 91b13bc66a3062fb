/**
 * admin-api over HTTP (undici). Contract: SPEC.md "apps/admin-api":
 * `POST /admin/workspace-images/refresh?runtime=<rt>&recreate=true` and
 * `GET /admin/workspace-images`, both with `Authorization: Bearer <MOLECULE_ADMIN_TOKEN>`.
 */
import { Agent, type Dispatcher, errors as undiciErrors } from 'undici';
import { z } from 'zod';
import { AdminApiError, type ImagewatchErrorCode } from './errors.js';

/** `POST /admin/workspace-images/refresh` 200 body (additive fields allowed). */
export const RefreshResultSchema = z.looseObject({
  pulled: z.array(z.string()),
  failed: z.array(z.string()),
  recreated: z.array(z.string()),
});
export type RefreshResult = z.infer<typeof RefreshResultSchema>;

/** One entry of `GET /admin/workspace-images`. */
export const WorkspaceImageSchema = z.looseObject({
  runtime: z.string(),
  image: z.string(),
  local: z.looseObject({ id: z.string(), digest: z.string().nullish() }).nullable(),
});
export type WorkspaceImage = z.infer<typeof WorkspaceImageSchema>;
const WorkspaceImagesSchema = z.array(WorkspaceImageSchema);

export interface AdminClient {
  refresh(
    runtime: string,
    options?: { recreate?: boolean; signal?: AbortSignal },
  ): Promise<RefreshResult>;
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
  ): Promise<unknown> {
    const url = `${base}${path}`;
    const fail = (code: ImagewatchErrorCode, reason: string, status?: number, cause?: unknown) =>
      new AdminApiError(
        code,
        { method, url, path, reason, ...(status === undefined ? {} : { status }) },
        cause === undefined ? undefined : { cause },
      );
    if (options.token === undefined) {
      throw fail('ADMIN_UNAUTHORIZED', 'MOLECULE_ADMIN_TOKEN is not set');
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Dispatcher.ResponseData;
    try {
      response = await dispatcher.request({
        origin: new URL(url).origin,
        path: new URL(url).pathname + new URL(url).search,
        method,
        headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
        signal: combined,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      if (signal?.aborted) throw fail('ADMIN_ABORTED', 'aborted', undefined, stripCause(error));
      if (timeout.aborted || error instanceof undiciErrors.HeadersTimeoutError) {
        throw fail(
          'ADMIN_TIMEOUT',
          `no answer within ${timeoutMs} ms`,
          undefined,
          stripCause(error),
        );
      }
      throw fail('ADMIN_NETWORK', describeNetworkError(error), undefined, stripCause(error));
    }

    let text: string;
    try {
      text = await readLimited(response.body);
    } catch (error) {
      if (signal?.aborted) throw fail('ADMIN_ABORTED', 'aborted', response.statusCode);
      throw fail('ADMIN_BAD_RESPONSE', (error as Error).message, response.statusCode);
    }
    const status = response.statusCode;
    if (status === 401 || status === 403) {
      throw fail('ADMIN_UNAUTHORIZED', 'admin-api rejected MOLECULE_ADMIN_TOKEN', status);
    }
    if (status === 400) throw fail('ADMIN_BAD_REQUEST', errorText(text, 'bad request'), status);
    if (status === 503) throw fail('ADMIN_UNAVAILABLE', errorText(text, 'unavailable'), status);
    if (status >= 300) throw fail('ADMIN_SERVER_ERROR', errorText(text, 'server error'), status);
    try {
      return JSON.parse(text);
    } catch {
      throw fail('ADMIN_BAD_RESPONSE', 'response is not JSON', status);
    }
  }

  return {
    async refresh(runtime, { recreate = true, signal } = {}) {
      const query = new URLSearchParams({ runtime, recreate: String(recreate) });
      const path = `/admin/workspace-images/refresh?${query}`;
      const body = await call('POST', path, refreshTimeoutMs, signal);
      const parsed = RefreshResultSchema.safeParse(body);
      if (!parsed.success) {
        throw new AdminApiError('ADMIN_BAD_RESPONSE', {
          method: 'POST',
          url: `${base}${path}`,
          path,
          status: 200,
          reason: 'unexpected refresh result shape',
        });
      }
      return parsed.data;
    },
    async listImages({ signal } = {}) {
      const path = '/admin/workspace-images';
      const body = await call('GET', path, requestTimeoutMs, signal);
      // Accept a bare array or an `{ images: [...] }` wrapper.
      const list = Array.isArray(body) ? body : (body as { images?: unknown } | null)?.images;
      const parsed = WorkspaceImagesSchema.safeParse(list);
      if (!parsed.success) {
        throw new AdminApiError('ADMIN_BAD_RESPONSE', {
          method: 'GET',
          url: `${base}${path}`,
          path,
          status: 200,
          reason: 'unexpected workspace image list shape',
        });
      }
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

function errorText(text: string, fallback: string): string {
  try {
    const json = JSON.parse(text) as { error?: unknown };
    if (typeof json.error === 'string') return json.error.slice(0, 300);
  } catch {
    // not JSON: fall through
  }
  return fallback;
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
