import { Agent, request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../src/http/create-http-app.js';
import { cancelMarginMs, serve } from '../src/server/serve.js';
import { manualStop, memoryLogger } from '../src/testing.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(port: number, path: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serve', () => {
  it('drains in-flight work, closes idle and busy keep-alive sockets, and exits 0 in time', async () => {
    const log = memoryLogger();
    const app = createHttpApp({ logger: log.logger });
    let finishWork!: () => void;
    const work = new Promise<void>((resolve) => {
      finishWork = resolve;
    });
    app.get('/slow', async () => {
      await work;
      return { done: true };
    });
    app.get('/fast', async () => ({ ok: true }));
    const { stop, fire } = manualStop();
    let drainSignal: AbortSignal | undefined;
    const server = await serve({
      app,
      host: '127.0.0.1',
      port: 0,
      logger: log.logger,
      graceMs: 5_000,
      stop,
      drain: async (signal) => {
        drainSignal = signal;
        await work;
      },
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    // An idle keep-alive connection, and a busy one.
    expect((await get(server.address.port, '/fast', agent)).status).toBe(200);
    const slow = get(server.address.port, '/slow', agent);
    await sleep(50);
    const started = Date.now();
    fire('SIGTERM');
    await sleep(100);
    finishWork();
    expect(await slow).toEqual({ status: 200, body: '{"done":true}' });
    const code = await server.done;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(drainSignal?.aborted).toBe(false);
    agent.destroy();
    expect(log.lines().some((line) => line.msg === 'shut down' && line.exitCode === 0)).toBe(true);
  });

  it('tells the drain to cancel before the grace ends, and still exits 0 when it does', async () => {
    const log = memoryLogger();
    const app = createHttpApp({ logger: log.logger });
    let cancelled!: () => void;
    const cancelledNow = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    app.get('/long', async () => {
      await cancelledNow;
      return { cancelled: true };
    });
    const { stop, fire } = manualStop();
    const graceMs = 1_500;
    const server = await serve({
      app,
      host: '127.0.0.1',
      port: 0,
      logger: log.logger,
      graceMs,
      stop,
      drain: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            cancelled();
            resolve();
          });
        }),
    });
    const agent = new Agent({ keepAlive: true });
    const long = get(server.address.port, '/long', agent);
    await sleep(50);
    const started = Date.now();
    fire('SIGTERM');
    expect(await long).toEqual({ status: 200, body: '{"cancelled":true}' });
    expect(await server.done).toBe(0);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(graceMs - cancelMarginMs(graceMs) - 50);
    expect(took).toBeLessThan(graceMs + 500);
    agent.destroy();
  });

  it('cuts what is still open at the end of the grace and exits 1', async () => {
    const log = memoryLogger();
    const app = createHttpApp({ logger: log.logger });
    app.get('/stuck', () => new Promise(() => {}));
    const { stop, fire } = manualStop();
    const server = await serve({
      app,
      host: '127.0.0.1',
      port: 0,
      logger: log.logger,
      graceMs: 500,
      stop,
    });
    const agent = new Agent({ keepAlive: true });
    const stuck = get(server.address.port, '/stuck', agent).catch((error: Error) => error);
    await sleep(50);
    const started = Date.now();
    fire('SIGTERM');
    expect(await server.done).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await stuck).toBeInstanceOf(Error);
    agent.destroy();
  });
});
