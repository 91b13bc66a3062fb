/**
 * One error handler and one not-found handler per app, both answering
 * `{ "error": <message>, "code": <stable code> }` (SPEC: every error body carries `code`).
 * Messages are shown only below 500; a 5xx says `internal error` unless the app's own error
 * registry classified the error (its messages are written to be shown and carry no secret).
 */
import type { FastifyError, FastifyInstance } from 'fastify';

export interface HttpErrorBody {
  readonly error: string;
  readonly code: string;
  readonly [field: string]: unknown;
}

/** How an app maps its own errors to HTTP: `undefined` for errors it does not know. */
export type ClassifyError = (
  error: unknown,
) => { readonly status: number; readonly body: HttpErrorBody } | undefined;

/** Codes for fastify's own client errors (validation, body too large, bad JSON...). */
function clientErrorCode(error: FastifyError, status: number): string {
  if (error.validation) return 'BAD_REQUEST';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 404) return 'NOT_FOUND';
  return 'BAD_REQUEST';
}

export function registerErrorHandlers(app: FastifyInstance, classify: ClassifyError): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = classify(error);
    if (known !== undefined) {
      if (known.status >= 500) {
        request.log.warn({ code: known.body.code, err: known.body.error }, 'request failed');
      }
      return reply.code(known.status).send(known.body);
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status < 500) {
      return reply
        .code(status)
        .send({ error: error.message, code: clientErrorCode(error, status) });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: 'internal error', code: 'INTERNAL' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: `no route ${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
      code: 'NOT_FOUND',
    }),
  );
}

/** The JSON schema of an error body, for route schemas and the OpenAPI document. */
export const errorBodySchema = {
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'string' } },
  required: ['error', 'code'],
  additionalProperties: true,
} as const;
