import { describe, expect, it } from 'vitest';
import { bearerAuthHook } from '../src/http/bearer-hook.js';
import { createHttpApp, markShuttingDown } from '../src/http/create-http-app.js';
import { registerErrorHandlers } from '../src/http/error-handlers.js';
import { memoryLogger } from '../src/testing.js';

class TeapotError extends Error {
  readonly code = 'TEAPOT';
}

function build() {
  const log = memoryLogger();
  const app = createHttpApp({ logger: log.logger });
  registerErrorHandlers(app, (error) =>
    error instanceof TeapotError
      ? { status: 418, body: { error: error.message, code: error.code } }
      : undefined,
  );
  app.get('/teapot', async () => {
    throw new TeapotError('short and stout');
  });
  app.get('/boom', async () => {
    throw new Error('secret internals');
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.post(
    '/typed',
    { schema: { querystring: { type: 'object', properties: { n: { type: 'integer' } } } } },
    async () => ({ ok: true }),
  );
  app.register(async (scope) => {
    scope.addHook('onRequest', bearerAuthHook('t0ken', 'test'));
    scope.get('/private', async () => ({ ok: true }));
  });
  return { app, log };
}

describe('createHttpApp + registerErrorHandlers', () => {
  it('answers every error with { error, code }', async () => {
    const { app } = build();
    const teapot = await app.inject({ method: 'GET', url: '/teapot' });
    expect(teapot.statusCode).toBe(418);
    expect(teapot.json()).toEqual({ error: 'short and stout', code: 'TEAPOT' });

    const boom = await app.inject({ method: 'GET', url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({ error: 'internal error', code: 'INTERNAL' });

    const invalid = await app.inject({ method: 'POST', url: '/typed?n=abc' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ code: 'BAD_REQUEST' });
    expect(invalid.json().error).toMatch(/querystring\/n/);

    const missing = await app.inject({ method: 'GET', url: '/nope?token=s3cret' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'no route GET /nope', code: 'NOT_FOUND' });
  });

  it('401s without the bearer token, with a code', async () => {
    const { app } = build();
    const refused = await app.inject({ method: 'GET', url: '/private' });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="test"');
    expect(refused.json()).toEqual({ error: 'unauthorized', code: 'UNAUTHORIZED' });
    const allowed = await app.inject({
      method: 'GET',
      url: '/private',
      headers: { authorization: 'Bearer t0ken' },
    });
    expect(allowed.statusCode).toBe(200);
  });

  it('logs one line per request, query values redacted, probes at debug', async () => {
    const { app, log } = build();
    await app.inject({ method: 'GET', url: '/private?runtime=codex&token=s3cret' });
    await app.inject({ method: 'GET', url: '/healthz' });
    const lines = log.lines().filter((line) => line.msg === 'request completed');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      req: { method: 'GET', url: '/private?runtime=codex&token=[redacted]' },
      res: { statusCode: 401 },
    });
    expect(lines[1]).toMatchObject({ level: 20, req: { url: '/healthz' } });
    expect(log.text()).not.toContain('s3cret');
    expect(log.text()).not.toContain('boom');
  });

  it('answers 503 SHUTTING_DOWN with Connection: close once shutdown began', async () => {
    const { app } = build();
    markShuttingDown(app);
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(503);
    expect(response.headers.connection).toBe('close');
    expect(response.json()).toEqual({ error: 'service is shutting down', code: 'SHUTTING_DOWN' });
  });
});
