import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../src/http/create-http-app.js';
import { registerErrorHandlers } from '../src/http/error-handlers.js';
import { defineHttpErrors } from '../src/http/http-errors.js';
import { memoryLogger } from '../src/testing.js';

const errors = defineHttpErrors({
  name: 'ShopError',
  statuses: { OUT_OF_STOCK: 409, NO_SUCH_ITEM: 404 },
});

describe('defineHttpErrors', () => {
  it('makes an error class with a typed code, its status and extra body fields', () => {
    const error = new errors.HttpError('OUT_OF_STOCK', 'no more tea', {
      details: { left: 0 },
      cause: new Error('root'),
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ShopError');
    expect(error.code).toBe('OUT_OF_STOCK');
    expect(error.status).toBe(409);
    expect(error.details).toEqual({ left: 0 });
    expect((error.cause as Error).message).toBe('root');
    expect(new errors.HttpError('NO_SUCH_ITEM', 'x').status).toBe(404);
  });

  it('recognises its own errors by brand only, across copies, and not another registry’s', () => {
    const other = defineHttpErrors({ name: 'OtherError', statuses: { OUT_OF_STOCK: 409 } });
    expect(errors.isHttpError(new errors.HttpError('OUT_OF_STOCK', 'x'))).toBe(true);
    expect(errors.isHttpError(new other.HttpError('OUT_OF_STOCK', 'x'))).toBe(false);
    const copy = defineHttpErrors({ name: 'ShopError', statuses: { OUT_OF_STOCK: 409 } });
    expect(errors.isHttpError(new copy.HttpError('OUT_OF_STOCK', 'x'))).toBe(true);
    expect(errors.isHttpError(Object.assign(new Error('x'), { code: 'OUT_OF_STOCK' }))).toBe(false);
  });

  it('answers through the one error handler with { error, code, ...details }, code and error not overridable', async () => {
    const app = createHttpApp({ logger: memoryLogger().logger });
    registerErrorHandlers(app, errors.classifyError);
    app.get('/tea', async () => {
      throw new errors.HttpError('OUT_OF_STOCK', 'no more tea', {
        details: { left: 0, code: 'SPOOF', error: 'spoof' },
      });
    });
    const response = await app.inject({ method: 'GET', url: '/tea' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ error: 'no more tea', code: 'OUT_OF_STOCK', left: 0 });
  });
});
