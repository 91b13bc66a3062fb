/**
 * The process side through serve() (what the bin runs): a client that disconnects, and the
 * bounded shutdown (in-flight refresh answered, waiting ones 503, a hanging pull cancelled).
 */
import { request } from 'node:http';
import { manualStop } from '@molecule/service-kit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TOKEN } from './helpers/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function post(port: number, path: string, accept = 'application/json') {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: { authorization: `Bearer ${TOKEN}`, accept },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('lifecycle', () => {
  it('a client that disconnects does not leave the pull half-drained: the refresh completes', async () => {
    h.engine.pulls.set(h.image('codex'), { delayMs: 300 });
    const server = await h.serve({ graceMs: 5_000, stop: new Promise(() => {}) });
    const { port } = server.address;
    for (const accept of ['application/json', 'application/x-ndjson']) {
      h.engine.addContainer('ws-a', h.image('codex'));
      h.engine.events.length = 0;
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/admin/workspace-images/refresh?runtime=codex',
        headers: { authorization: `Bearer ${TOKEN}`, accept },
      });
      req.on('error', () => undefined);
      req.end();
      await new Promise((r) => setTimeout(r, 100));
      req.destroy();
      await waitFor(() => h.engine.events.includes('removed ws-a'));
      expect(h.engine.events[0]).toBe(`pulled ${h.image('codex')}`);
    }
    await waitFor(() => h.logs.filter((l) => l.includes('refresh finished')).length === 2);
  });

  it('shutdown lets the in-flight refresh finish and answers it, answers waiting ones 503 SHUTTING_DOWN, exits 0', async () => {
    h.engine.pulls.set(h.image('codex'), { delayMs: 300 });
    const { stop, fire } = manualStop();
    const server = await h.serve({ graceMs: 5_000, stop });
    const { port } = server.address;
    const inflight = post(port, '/admin/workspace-images/refresh?runtime=codex&recreate=false');
    await new Promise((r) => setTimeout(r, 50));
    const queued = post(port, '/admin/workspace-images/refresh?runtime=langgraph&recreate=false');
    await new Promise((r) => setTimeout(r, 50));
    fire('SIGTERM');
    const [first, second] = await Promise.all([inflight, queued]);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).pulled).toEqual(['codex']);
    expect(second.status).toBe(503);
    expect(JSON.parse(second.body)).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(await server.done).toBe(0);
    await expect(h.service.refresh({ runtimes: ['codex'], recreate: false })).rejects.toMatchObject(
      { code: 'SHUTTING_DOWN', status: 503 },
    );
  });

  it('a pull that outlives the grace is cancelled and reported as aborted, not as an engine failure; exit 0 in time', async () => {
    h.engine.pulls.set(h.image('codex'), { hang: true });
    h.engine.addContainer('ws-a', h.image('codex'));
    const { stop, fire } = manualStop();
    const graceMs = 1_500;
    const server = await h.serve({ graceMs, stop });
    const inflight = post(server.address.port, '/admin/workspace-images/refresh?runtime=codex');
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    fire('SIGTERM');
    const response = await inflight;
    expect(await server.done).toBe(0);
    expect(Date.now() - started).toBeLessThan(graceMs + 500);
    expect(response.status).toBe(200);
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({ pulled: [], failed: ['codex'], recreated: [] });
    expect(body.errors).toEqual([
      expect.objectContaining({ runtime: 'codex', stage: 'pull', code: 'PULL_ABORTED' }),
    ]);
    expect(h.engine.events).not.toContain('removed ws-a');
  });
});
