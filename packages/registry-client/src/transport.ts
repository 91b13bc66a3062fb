import { Agent, type Dispatcher } from 'undici';
import { RegistryError, STATUS_TEXT } from './errors.js';
import type { HttpPolicy } from './http-policy.js';
import {
  backoffDelayMs,
  parseRetryAfter,
  RETRYABLE_STATUSES,
  type ResolvedRetryOptions,
} from './retry-policy.js';
import type { RegistryRequestEvent } from './types.js';

/**
 * One HTTP exchange with a registry or token server, bounded in every direction:
 * redirects followed by hand (a bounded number, `Authorization` dropped on any hop to
 * another origin, no hop to plain http unless the policy allows that host), retries on
 * 429/502/503/504 and connection resets with backoff, `Retry-After` honoured up to a cap,
 * connect/header/body timeouts and a body size limit. Statuses are returned as values;
 * callers decide what a status means.
 */
export interface TransportRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly kind: RegistryRequestEvent['kind'];
  /** Larger bodies are refused with `BAD_RESPONSE`. */
  readonly maxBodyBytes: number;
  readonly signal?: AbortSignal;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The URL that answered, after redirects. */
  readonly url: URL;
  /** From `Retry-After` on the final response, if any. */
  readonly retryAfterMs: number | undefined;
}

export interface Transport {
  send(request: TransportRequest): Promise<TransportResponse>;
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Injected dispatcher (not closed by `close()`); default: a keep-alive `Agent`. */
  readonly dispatcher?: Dispatcher;
  /** Connections per origin for the default agent. */
  readonly connections: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly maxRedirects: number;
  readonly retry: ResolvedRetryOptions;
  readonly policy: HttpPolicy;
  readonly onRequest?: ((event: RegistryRequestEvent) => void) | undefined;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const RETRYABLE_NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

export function createTransport(options: TransportOptions): Transport {
  const ownDispatcher =
    options.dispatcher === undefined
      ? new Agent({
          connections: options.connections,
          keepAliveTimeout: 30_000,
          keepAliveMaxTimeout: 120_000,
          connect: { timeout: options.connectTimeoutMs },
        })
      : undefined;
  const dispatcher = options.dispatcher ?? ownDispatcher!;
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;

  function emit(event: RegistryRequestEvent): void {
    try {
      options.onRequest?.(event);
    } catch {
      // A failing listener must not fail the request it observes.
    }
  }

  /** One request and its redirects; throws on network failures, returns any status. */
  async function exchange(request: TransportRequest): Promise<TransportResponse> {
    let url = request.url;
    let method = request.method;
    let body = request.body;
    let headers: Record<string, string> = { ...request.headers };
    for (let hop = 0; ; hop++) {
      const started = performance.now();
      let response: Dispatcher.ResponseData;
      try {
        response = await dispatcher.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method,
          headers,
          body: body ?? null,
          signal: request.signal ?? null,
          headersTimeout: options.headersTimeoutMs,
          bodyTimeout: options.bodyTimeoutMs,
          // undici closes the connection after every HEAD unless told otherwise; digest
          // checks are HEADs, so keep-alive would never happen without this.
          reset: false,
        });
      } catch (error) {
        emit(event(url, method, request.kind, undefined, started));
        throw networkError(error, method, url, request.signal);
      }
      emit(event(url, method, request.kind, response.statusCode, started));

      const location = headerValue(response.headers.location);
      if (REDIRECT_STATUSES.has(response.statusCode) && location !== undefined) {
        await response.body.dump().catch(() => undefined);
        if (hop >= options.maxRedirects) {
          throw new RegistryError({
            code: 'BAD_RESPONSE',
            method,
            target: url.href,
            host: url.host,
            path: url.pathname,
            status: response.statusCode,
            hint: `more than ${options.maxRedirects} redirects; check the registry's proxy configuration`,
          });
        }
        const next = new URL(location, url);
        if (
          next.protocol !== 'https:' &&
          !(next.protocol === 'http:' && options.policy.allowsPlainHttp(next.host))
        ) {
          throw new RegistryError({
            code: 'CONFIG',
            method,
            target: url.href,
            host: url.host,
            path: url.pathname,
            status: response.statusCode,
            hint: `redirect to ${next.protocol}//${next.host} refused: plain http is only used for loopback hosts and MOLECULE_INSECURE_REGISTRIES`,
          });
        }
        if (next.origin !== url.origin) {
          // Credentials belong to the origin they were issued for.
          const { authorization: _dropped, ...rest } = lowerCaseKeys(headers);
          headers = rest;
        }
        if (
          response.statusCode === 303 ||
          (method === 'POST' && response.statusCode !== 307 && response.statusCode !== 308)
        ) {
          if (method !== 'HEAD') method = 'GET';
          body = undefined;
          const { 'content-type': _type, ...rest } = lowerCaseKeys(headers);
          headers = rest;
        }
        url = next;
        continue;
      }

      const bytes = await readCapped(response, request, method, url);
      return {
        status: response.statusCode,
        headers: response.headers,
        body: bytes,
        url,
        retryAfterMs: parseRetryAfter(headerValue(response.headers['retry-after'])),
      };
    }
  }

  return {
    async send(request) {
      const retry = options.retry;
      for (let attempt = 0; ; attempt++) {
        let response: TransportResponse;
        try {
          response = await exchange(request);
        } catch (error) {
          const retriable =
            typeof error === 'object' && error !== null && retriableErrors.has(error);
          if (!retriable || attempt >= retry.maxRetries) throw error;
          await sleep(backoffDelayMs(attempt, retry, random), request.signal);
          continue;
        }
        if (!RETRYABLE_STATUSES.has(response.status) || attempt >= retry.maxRetries)
          return response;
        const retryAfter = response.retryAfterMs;
        if (retryAfter !== undefined && retryAfter > retry.retryAfterCapMs) return response;
        const delay =
          retryAfter !== undefined
            ? retryAfter + Math.round(random() * Math.min(retryAfter / 10, 1000))
            : backoffDelayMs(attempt, retry, random);
        await sleep(delay, request.signal);
      }
    },
    async close() {
      await ownDispatcher?.close();
    },
  };
}

/** Network errors worth another attempt (resets), marked without widening the error type. */
const retriableErrors = new WeakSet<object>();

function event(
  url: URL,
  method: string,
  kind: RegistryRequestEvent['kind'],
  status: number | undefined,
  started: number,
): RegistryRequestEvent {
  return {
    host: url.host,
    method,
    path: url.pathname,
    kind,
    status,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
  };
}

async function readCapped(
  response: Dispatcher.ResponseData,
  request: TransportRequest,
  method: string,
  url: URL,
): Promise<Buffer> {
  const tooLarge = () =>
    new RegistryError({
      code: 'BAD_RESPONSE',
      method,
      target: url.href,
      host: url.host,
      path: url.pathname,
      status: response.statusCode,
      statusText: STATUS_TEXT[response.statusCode],
      hint: `response body larger than ${request.maxBodyBytes} bytes refused; check that the URL points at a registry`,
    });
  const declared = Number(headerValue(response.headers['content-length']));
  if (method !== 'HEAD' && Number.isFinite(declared) && declared > request.maxBodyBytes) {
    // Destroying an unread body emits undici's "Request aborted" on it; with no reader
    // attached that would be an uncaught exception, so it is observed and dropped here.
    response.body.once('error', () => undefined);
    response.body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > request.maxBodyBytes) {
        response.body.destroy();
        throw tooLarge();
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    throw networkError(error, method, url, request.signal);
  }
  return Buffer.concat(chunks, size);
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function networkError(
  error: unknown,
  method: string,
  url: URL,
  signal: AbortSignal | undefined,
): unknown {
  if (signal?.aborted) return signal.reason;
  if (error instanceof RegistryError) return error;
  const code = errorCode(error);
  const base = { method, target: url.href, host: url.host, path: url.pathname, cause: error };
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new RegistryError({
      ...base,
      code: 'TIMEOUT',
      hint: `timed out (${code}); check that ${url.host} is reachable and not overloaded`,
    });
  }
  const registryError = new RegistryError({
    ...base,
    code: 'NETWORK',
    hint: `${code ?? 'network error'}; check DNS, firewall and that the registry is listening on ${url.host}`,
  });
  if (code !== undefined && RETRYABLE_NETWORK_CODES.has(code)) {
    retriableErrors.add(registryError);
  }
  return registryError;
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]),
  );
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
