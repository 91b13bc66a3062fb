import { PassThrough } from 'node:stream';
import { isKnownRuntime, isSha256Digest, KNOWN_RUNTIMES, type Runtime } from '@molecule/registry';
import { errorBodySchema } from '@molecule/service-kit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AdminApiError, isAdminApiError } from '../errors.js';
import { CallersGoneError } from '../refresh/queue.js';
import type { RefreshOutcome } from '../refresh/result.js';
import type { RefreshService } from '../refresh/service.js';
import { refreshFailure, refreshResult } from './schemas.js';

export interface RefreshRoutesOptions {
  readonly service: RefreshService;
}

interface RefreshQuery {
  runtime?: string;
  recreate?: 'true' | 'false';
  digest?: string;
}

export const EPOCH_HEADER = 'x-rollout-epoch';

const NDJSON = 'application/x-ndjson';
/** How much of an unknown runtime name is echoed back (SPEC: may be cut to 64 characters). */
const ECHO_LIMIT = 64;

function statusOf(outcome: RefreshOutcome): number {
  if (outcome.status === 'ok') return 200;
  return outcome.status === 'engine-unavailable' ? 503 : 500;
}

function bodyOf(outcome: RefreshOutcome) {
  return outcome.status === 'ok'
    ? outcome.result
    : {
        error: outcome.error,
        code: outcome.status === 'engine-unavailable' ? 'ENGINE_UNAVAILABLE' : 'ENGINE_ERROR',
        partial_result: outcome.partialResult,
      };
}

/** The runtimes a `runtime` query asks for; 400 `UNKNOWN_RUNTIME` otherwise. */
function runtimesOf(runtime: string): Runtime[] {
  if (runtime === '') return [...KNOWN_RUNTIMES];
  if (isKnownRuntime(runtime)) return [runtime];
  const shown = runtime.length > ECHO_LIMIT ? `${runtime.slice(0, ECHO_LIMIT)}…` : runtime;
  throw new AdminApiError('UNKNOWN_RUNTIME', `unknown runtime: ${shown}`, {
    details: { known_runtimes: [...KNOWN_RUNTIMES] },
  });
}

/** `X-Rollout-Epoch: <integer ≥ 0>`, or `undefined` when absent; 400 otherwise. */
function epochOf(request: FastifyRequest): number | undefined {
  const raw = request.headers[EPOCH_HEADER];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  const epoch = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(epoch)) {
    throw new AdminApiError('BAD_REQUEST', 'X-Rollout-Epoch must be a whole number ≥ 0');
  }
  return epoch;
}

/** A `digest` query: `sha256:<64 lowercase hex>` for exactly one runtime; 400 otherwise. */
function digestOf(digest: string | undefined, runtime: string): string | undefined {
  if (digest === undefined || digest === '') return undefined;
  if (!isSha256Digest(digest)) {
    const shown = digest.length > ECHO_LIMIT ? `${digest.slice(0, ECHO_LIMIT)}…` : digest;
    throw new AdminApiError(
      'BAD_REQUEST',
      `digest must be sha256:<64 lowercase hex digits>, got ${shown}`,
    );
  }
  if (runtime === '') {
    throw new AdminApiError('BAD_REQUEST', 'digest needs exactly one runtime (runtime=<rt>)');
  }
  return digest;
}

/** Aborts when the client goes away before its answer was written. */
function callerSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) gone.abort();
  });
  request.raw.once('aborted', () => gone.abort());
  return gone.signal;
}

/** `POST /admin/workspace-images/refresh?runtime=<rt>&recreate=true|false` (SPEC). */
export const refreshRoutes: FastifyPluginAsync<RefreshRoutesOptions> = async (app, { service }) => {
  app.post<{ Querystring: RefreshQuery }>('/admin/workspace-images/refresh', {
    schema: {
      summary: 'Pull runtime images and recreate the ws-* containers that run them',
      description:
        'With `Accept: application/x-ndjson` the response streams one JSON object per line ' +
        '(pull progress, removals) and ends with `{ "result": ... }`. An identical refresh that ' +
        'is already waiting is joined: both callers get its result.',
      security: [{ bearer: [] }],
      querystring: {
        type: 'object',
        properties: {
          runtime: { type: 'string', description: 'One runtime; empty or absent: all.' },
          recreate: { type: 'string', enum: ['true', 'false'], default: 'true' },
          digest: {
            type: 'string',
            description:
              'Pull exactly this digest of the runtime (needs runtime), tag it as its :latest, recreate the containers not on it. A rollback is the same call with the old digest.',
          },
        },
        additionalProperties: true,
      },
      response: {
        200: refreshResult,
        400: {
          ...errorBodySchema,
          properties: {
            ...errorBodySchema.properties,
            known_runtimes: { type: 'array', items: { type: 'string' } },
          },
        },
        401: errorBodySchema,
        409: {
          ...errorBodySchema,
          properties: { ...errorBodySchema.properties, epoch: { type: 'integer' } },
        },
        429: errorBodySchema,
        500: refreshFailure,
        503: {
          type: 'object',
          properties: { ...refreshFailure.properties },
          required: ['error', 'code'],
        },
      },
    },
    handler: async (request, reply) => {
      const { runtime = '', recreate = 'true' } = request.query;
      const runtimes = runtimesOf(runtime);
      const digest = digestOf(request.query.digest, runtime);
      const epoch = epochOf(request);
      const refreshRequest = {
        runtimes,
        recreate: recreate === 'true',
        ...(digest === undefined ? {} : { digest }),
        ...(epoch === undefined ? {} : { epoch }),
      };
      // Throws 429/503 before anything is sent, so those keep their status with NDJSON too.
      service.assertAccepting(refreshRequest);
      const caller = callerSignal(request, reply);

      if (!(request.headers.accept ?? '').includes(NDJSON)) {
        // The running refresh is not tied to this connection: a client that goes away does
        // not leave a pull half-drained. A refresh still waiting is dropped if all its
        // callers went (queue.ts).
        let outcome: RefreshOutcome;
        try {
          outcome = await service.refresh(refreshRequest, { caller });
        } catch (error) {
          // Nobody is left to answer; the client closed the connection (nginx's 499).
          if (error instanceof CallersGoneError) return reply.code(499).send();
          throw error;
        }
        return reply.code(statusOf(outcome)).send(bodyOf(outcome));
      }

      const stream = new PassThrough();
      const write = (line: object): void => {
        if (!stream.destroyed && stream.writable) stream.write(`${JSON.stringify(line)}\n`);
      };
      service.refresh(refreshRequest, { onEvent: write, caller }).then(
        (outcome) => {
          if (outcome.status === 'ok') write({ result: outcome.result });
          else {
            const { partial_result: result, ...failure } = bodyOf(outcome) as {
              partial_result: unknown;
              error: string;
              code: string;
            };
            write({ result, ...failure, status: statusOf(outcome) });
          }
          stream.end();
        },
        (error: unknown) => {
          if (isAdminApiError(error)) {
            write({ error: error.message, code: error.code, status: error.status });
          } else {
            request.log.error({ err: error }, 'refresh failed');
            write({ error: 'refresh failed', code: 'INTERNAL', status: 500 });
          }
          stream.end();
        },
      );
      return reply
        .code(200)
        .header('content-type', `${NDJSON}; charset=utf-8`)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .send(stream);
    },
  });
};
