import { PassThrough } from 'node:stream';
import { isKnownRuntime, KNOWN_RUNTIMES, type Runtime } from '@molecule/registry';
import type { FastifyPluginAsync } from 'fastify';
import type { RefreshOutcome, RefreshService } from '../refresh/refresh-service.js';
import { errorBody, refreshFailure, refreshResult } from './schemas.js';

export interface RefreshRoutesOptions {
  readonly service: RefreshService;
}

interface RefreshQuery {
  runtime?: string;
  recreate?: 'true' | 'false';
}

const NDJSON = 'application/x-ndjson';

function statusOf(outcome: RefreshOutcome): number {
  if (outcome.status === 'ok') return 200;
  return outcome.status === 'engine-unavailable' ? 503 : 500;
}

function bodyOf(outcome: RefreshOutcome) {
  return outcome.status === 'ok'
    ? outcome.result
    : { error: outcome.error, partial_result: outcome.partialResult };
}

/** `POST /admin/workspace-images/refresh?runtime=<rt>&recreate=true|false` (SPEC). */
export const refreshRoutes: FastifyPluginAsync<RefreshRoutesOptions> = async (app, { service }) => {
  app.post<{ Querystring: RefreshQuery }>('/admin/workspace-images/refresh', {
    schema: {
      summary: 'Pull runtime images and recreate the ws-* containers that run them',
      description:
        'With `Accept: application/x-ndjson` the response streams one JSON object per line ' +
        '(pull progress, removals) and ends with `{ "result": ... }`.',
      security: [{ bearer: [] }],
      querystring: {
        type: 'object',
        properties: {
          // Bounded so a huge value is a 400, never echoed back at length.
          runtime: {
            type: 'string',
            maxLength: 64,
            description: 'One runtime; empty or absent: all.',
          },
          recreate: { type: 'string', enum: ['true', 'false'], default: 'true' },
        },
        additionalProperties: true,
      },
      response: {
        200: refreshResult,
        400: {
          type: 'object',
          properties: {
            error: { type: 'string' },
            known_runtimes: { type: 'array', items: { type: 'string' } },
          },
          required: ['error'],
        },
        401: errorBody,
        429: errorBody,
        500: refreshFailure,
        503: {
          type: 'object',
          properties: { ...refreshFailure.properties, code: { type: 'string' } },
          required: ['error'],
        },
      },
    },
    handler: async (request, reply) => {
      const { runtime = '', recreate = 'true' } = request.query;
      let runtimes: Runtime[];
      if (runtime === '') {
        runtimes = [...KNOWN_RUNTIMES];
      } else if (isKnownRuntime(runtime)) {
        runtimes = [runtime];
      } else {
        return reply
          .code(400)
          .send({ error: `unknown runtime: ${runtime}`, known_runtimes: [...KNOWN_RUNTIMES] });
      }
      const refreshRequest = { runtimes, recreate: recreate === 'true' };
      // Throws 429/503 before anything is sent, so those keep their status with NDJSON too.
      service.assertAccepting();

      if (!(request.headers.accept ?? '').includes(NDJSON)) {
        // The refresh is not tied to this connection: a client that goes away does not
        // leave a pull half-drained, the work finishes and the result is logged.
        const outcome = await service.refresh(refreshRequest);
        return reply.code(statusOf(outcome)).send(bodyOf(outcome));
      }

      const stream = new PassThrough();
      const write = (line: object): void => {
        if (!stream.destroyed && stream.writable) stream.write(`${JSON.stringify(line)}\n`);
      };
      service.refresh(refreshRequest, write).then(
        (outcome) => {
          if (outcome.status === 'ok') write({ result: outcome.result });
          else
            write({
              result: outcome.partialResult,
              error: outcome.error,
              status: statusOf(outcome),
            });
          stream.end();
        },
        (error: unknown) => {
          request.log.error({ err: error }, 'refresh failed');
          write({ error: 'refresh failed', status: 500 });
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
